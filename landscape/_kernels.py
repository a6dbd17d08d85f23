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

import functools
import types

import numba as nb
import numpy as np

PARALLEL_MIN_ELEMENTS = 200_000
"""Below this many elements a kernel runs serially: waking Numba's threads (which then compete with
BLAS's) costs milliseconds, far more than the work on a small array."""


def _serial_or_parallel(kernel):
    """Compile ``kernel`` twice, serial and ``parallel=True``, and pick by the size of its largest array."""
    twin = types.FunctionType(kernel.__code__, kernel.__globals__, kernel.__name__ + "_serial")
    twin.__qualname__ = kernel.__qualname__ + "_serial"  # its own on-disk cache entry
    serial = nb.njit(cache=True)(twin)
    parallel = nb.njit(cache=True, parallel=True)(kernel)

    @functools.wraps(kernel)
    def dispatch(*arrays):
        size = max(np.size(a) for a in arrays)
        return (parallel if size >= PARALLEL_MIN_ELEMENTS else serial)(*arrays)

    return dispatch


@_serial_or_parallel
def bias_relu_inplace(z, b):
    """``z <- max(z + b, 0)`` row-wise, in place."""
    n_points, width = z.shape
    for p in nb.prange(n_points):
        for j in range(width):
            v = z[p, j] + b[j]
            z[p, j] = v if v > 0.0 else 0.0


@_serial_or_parallel
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


@_serial_or_parallel
def bias_relu_near_zero(z, b, tau, mask, col_offset):
    """``mask[p, col_offset + j] <- |z[p, j] + b[j]| <= tau``; then ``z <- max(z + b, 0)`` in place."""
    n_points, width = z.shape
    for p in nb.prange(n_points):
        for j in range(width):
            v = z[p, j] + b[j]
            mask[p, col_offset + j] = abs(v) <= tau
            z[p, j] = v if v > 0.0 else 0.0


@_serial_or_parallel
def gate_inplace(g, x):
    """``g[p, j] <- 0`` where ``x[p, j] <= 0`` (x is a ReLU output, so ``x > 0`` iff the neuron is active)."""
    n_points, width = g.shape
    for p in nb.prange(n_points):
        for j in range(width):
            if not x[p, j] > 0.0:
                g[p, j] = 0.0


@_serial_or_parallel
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


@nb.njit(cache=True)
def clip_box_polygon(G, h, lo, hi, tol):
    """The convex polygon ``{x in [lo, hi] : G x <= h}`` in 2-D, by clipping the box with each half-plane.

    Returns ``(vertices, owners, count)``: the first ``count`` rows of ``vertices`` (counter-clockwise),
    and ``owners[i]``, the constraint on which the edge from vertex i to vertex i+1 lies: a row of G, or
    ``len(G) + r`` for the box rows r = 0..3 (``x0 <= hi0, x1 <= hi1, -x0 <= -lo0, -x1 <= -lo1``).
    A point counts as inside a half-plane when ``G_r x - h_r <= tol * (1 + |h_r|)``.
    """
    n_rows = G.shape[0]
    capacity = n_rows + 8
    verts = np.empty((capacity, 2))
    owners = np.empty(capacity, dtype=np.int64)
    verts[0, 0], verts[0, 1], owners[0] = lo[0], lo[1], n_rows + 3
    verts[1, 0], verts[1, 1], owners[1] = hi[0], lo[1], n_rows + 0
    verts[2, 0], verts[2, 1], owners[2] = hi[0], hi[1], n_rows + 1
    verts[3, 0], verts[3, 1], owners[3] = lo[0], hi[1], n_rows + 2
    count = 4
    new_verts = np.empty((capacity, 2))
    new_owners = np.empty(capacity, dtype=np.int64)
    side = np.empty(capacity)
    for r in range(n_rows):
        a0, a1, b = G[r, 0], G[r, 1], h[r]
        if a0 == 0.0 and a1 == 0.0:
            if b < 0.0:
                return verts, owners, 0
            continue
        slack = tol * (1.0 + abs(b))
        outside = False
        for i in range(count):
            side[i] = a0 * verts[i, 0] + a1 * verts[i, 1] - b
            if side[i] > slack:
                outside = True
        if not outside:
            continue
        m = 0
        for i in range(count):
            j = i + 1 if i + 1 < count else 0
            s_cur, s_next = side[i], side[j]
            cur_in, next_in = s_cur <= slack, s_next <= slack
            if cur_in:
                new_verts[m, 0], new_verts[m, 1], new_owners[m] = verts[i, 0], verts[i, 1], owners[i]
                m += 1
                if not next_in:
                    t = s_cur / (s_cur - s_next)
                    new_verts[m, 0] = verts[i, 0] + t * (verts[j, 0] - verts[i, 0])
                    new_verts[m, 1] = verts[i, 1] + t * (verts[j, 1] - verts[i, 1])
                    new_owners[m] = r
                    m += 1
            elif next_in:
                t = s_cur / (s_cur - s_next)
                new_verts[m, 0] = verts[i, 0] + t * (verts[j, 0] - verts[i, 0])
                new_verts[m, 1] = verts[i, 1] + t * (verts[j, 1] - verts[i, 1])
                new_owners[m] = owners[i]
                m += 1
        count = m
        for i in range(count):  # element loops: slice assignment costs Numba seconds of compilation
            verts[i, 0], verts[i, 1], owners[i] = new_verts[i, 0], new_verts[i, 1], new_owners[i]
        if count < 3:
            return verts, owners, 0
    return verts, owners, count
