"""Numba kernels: arrays in, arrays out; no RNG, no I/O, no validation.

Matrix products stay with BLAS (``X @ W.T``); each kernel fuses the elementwise
work that follows one product into a single pass over its output. Every kernel
has a slow reference in ``tests/naive.py``. No ``fastmath``: signs decide
activation patterns. The activation convention throughout is the paper's
``diag(W x > 0)``: a neuron is active exactly when its pre-activation is > 0.

Bit layout of packed patterns: flat neuron ``g`` (layers concatenated) is bit
``7 - g % 8`` of byte ``g // 8``, as ``numpy.packbits(..., bitorder="big")``.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True)
def bias_relu_inplace(z, b):
    """``z <- max(z + b, 0)`` row-wise, in place."""
    n_points, width = z.shape
    for p in nb.prange(n_points):
        for j in range(width):
            v = z[p, j] + b[j]
            z[p, j] = v if v > 0.0 else 0.0


@nb.njit(cache=True, parallel=True)
def bias_relu_pack(z, b, x_next, bits, bit_offset, write_next):
    """``z <- z + b``; set bit ``bit_offset + j`` of row p where ``z[p, j] > 0``; if ``write_next``,
    also ``x_next <- max(z, 0)`` (the last layer's output is not needed for patterns).

    Bits are gathered a byte at a time and OR-ed in, so ``bits`` must hold zeros in the bits
    this layer owns and may hold other layers' bits in its first and last byte.
    """
    n_points, width = z.shape
    for p in nb.prange(n_points):
        byte = bit_offset >> 3
        acc = 0
        for j in range(width):
            v = z[p, j] + b[j]
            z[p, j] = v
            g = bit_offset + j
            if (g >> 3) != byte:
                bits[p, byte] |= np.uint8(acc)
                acc = 0
                byte = g >> 3
            if v > 0.0:
                acc |= 128 >> (g & 7)
            if write_next:
                x_next[p, j] = v if v > 0.0 else 0.0
        bits[p, byte] |= np.uint8(acc)


@nb.njit(cache=True, parallel=True)
def bias_relu_near_zero(z, b, tau, mask, col_offset):
    """``mask[p, col_offset + j] <- |z[p, j] + b[j]| <= tau``; then ``z <- max(z + b, 0)`` in place."""
    n_points, width = z.shape
    for p in nb.prange(n_points):
        for j in range(width):
            v = z[p, j] + b[j]
            mask[p, col_offset + j] = abs(v) <= tau
            z[p, j] = v if v > 0.0 else 0.0


@nb.njit(cache=True, parallel=True)
def gate_inplace(g, x):
    """``g[p, j] <- 0`` where ``x[p, j] <= 0`` (x is a ReLU output, so ``x > 0`` iff the neuron is active)."""
    n_points, width = g.shape
    for p in nb.prange(n_points):
        for j in range(width):
            if not x[p, j] > 0.0:
                g[p, j] = 0.0


@nb.njit(cache=True, parallel=True)
def rounding_slack(b, row_norms, x_norms, err_prev, rtol, slack, err_next):
    """Per neuron, how far from 0 a computed pre-activation may be while the exact one is 0.

    ``slack[p, j] = rtol * (|w_j| |x_{i-1}| + |b_j|) + |w_j| err_prev[p]``: rounding of this layer plus the
    slack inherited from the previous one (ReLU is 1-Lipschitz); ``err_next[p] = |slack[p, :]|``.
    """
    n_points, width = slack.shape
    for p in nb.prange(n_points):
        total = 0.0
        for j in range(width):
            s = rtol * (row_norms[j] * x_norms[p] + abs(b[j])) + row_norms[j] * err_prev[p]
            slack[p, j] = s
            total += s * s
        err_next[p] = np.sqrt(total)


@nb.njit(cache=True, parallel=True)
def one_sided_step(z, zdot, b, slack):
    """One layer of the forward pass along a ray ``x + t d``, ``t -> 0+``, in place.

    With ``v = z + b``, the neuron is active on the ray when ``v > slack``, or when ``|v| <= slack``
    (on its switching hyperplane) and ``zdot > 0``. Then ``z <- max(v, 0)`` and ``zdot <- zdot``
    if active else 0.
    """
    n_points, width = z.shape
    for p in nb.prange(n_points):
        for j in range(width):
            v = z[p, j] + b[j]
            tol = slack[p, j]
            if v > tol:
                active = True
            elif v < -tol:
                active = False
            else:
                active = zdot[p, j] > 0.0
            z[p, j] = v if v > 0.0 else 0.0
            if not active:
                zdot[p, j] = 0.0
