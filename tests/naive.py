"""Slow, obviously-correct references for every kernel and public computation.

Loops over points, layers and neurons, written from the paper's definitions;
nothing here calls into ``landscape`` except to read a network's arrays.
"""

from __future__ import annotations

import numpy as np


def layer_params(net):
    """``[(W_i, b_i)]`` with explicit zero biases for a bias-free network."""
    biases = net.biases if net.biases is not None else [np.zeros(w.shape[0]) for w in net.weights]
    return list(zip(net.weights, biases))


def forward_trace(net, x):
    """Pre-activations ``[z_1..z_d]`` and output ``G(x)`` of one point, neuron by neuron."""
    preacts, current = [], np.asarray(x, dtype=float)
    for w, b in layer_params(net):
        z = np.array([sum(w[j, l] * current[l] for l in range(w.shape[1])) + b[j] for j in range(w.shape[0])])
        preacts.append(z)
        current = np.array([max(v, 0.0) for v in z])
    out = current if net.readout is None else net.readout @ current
    return preacts, out


def forward(net, X):
    return np.array([forward_trace(net, x)[1] for x in np.atleast_2d(X)])


def pattern_bits(net, x) -> bytes:
    """Pattern bytes: flat neuron g active (z > 0) sets bit 7 - g % 8 of byte g // 8."""
    flat = [v > 0 for z in forward_trace(net, x)[0] for v in z]
    out = bytearray((len(flat) + 7) // 8)
    for g, active in enumerate(flat):
        if active:
            out[g // 8] |= 1 << (7 - g % 8)
    return bytes(out)


def near_zero_set(net, x, tau):
    """S(x, θ, τ) = {(i, j) : |w_ij^T x_{i-1} + b_ij| <= τ}, layers 1-based."""
    preacts, _ = forward_trace(net, x)
    return {(i, j) for i, z in enumerate(preacts, start=1) for j, v in enumerate(z) if abs(v) <= tau}


def affine_from_gates(net, gates):
    """``(J, c)`` with explicit diagonal matrices: x_i = D_i (W_i x_{i-1} + b_i), G = V x_d."""
    k = net.input_dim
    J, c = np.eye(k), np.zeros(k)
    for (w, b), gate in zip(layer_params(net), gates):
        D = np.diag(np.asarray(gate, dtype=float))
        J, c = D @ w @ J, D @ (w @ c + b)
    if net.readout is not None:
        J, c = net.readout @ J, net.readout @ c
    return J, c


def preactivation_maps(net, gates):
    """For each layer i, ``(A_i, a_i)`` with z_i(x) = A_i x + a_i on the piece of the given gates."""
    k = net.input_dim
    J, c, maps = np.eye(k), np.zeros(k), []
    for (w, b), gate in zip(layer_params(net), gates):
        maps.append((w @ J, w @ c + b))
        D = np.diag(np.asarray(gate, dtype=float))
        J, c = D @ w @ J, D @ (w @ c + b)
    return maps


def local_affine(net, x):
    """The paper's V W_{d,+,x} ... W_{1,+,x} (with biases): J and c at x's pattern."""
    gates = [z > 0 for z in forward_trace(net, x)[0]]
    return affine_from_gates(net, gates)


def value(net, y, A, x):
    _, g = forward_trace(net, x)
    A = np.eye(len(y)) if A is None else A
    r = A @ g - A @ y
    return 0.5 * float(r @ r)


def grad(net, y, A, x):
    """J^T A^T (A G(x) - A y) with J from the explicit diagonal products."""
    J, _ = local_affine(net, x)
    _, g = forward_trace(net, x)
    A = np.eye(len(y)) if A is None else A
    return J.T @ A.T @ (A @ g - A @ y)


def directional_derivative(net, y, A, x, d, step=1e-7):
    """D_d f(x) from the affine map of the piece the ray x + t d enters: its pattern is read at t = step."""
    x, d = np.asarray(x, float), np.asarray(d, float)
    J, _ = local_affine(net, x + step * d)
    _, g = forward_trace(net, x)
    A = np.eye(len(y)) if A is None else A
    return float((A @ g - A @ y) @ (A @ J @ d))


def one_sided_difference(f, x, d, t=1e-6):
    """Richardson-extrapolated one-sided difference: exact for a quadratic on [x, x + 2 t d]."""
    q1 = (f(x + t * d) - f(x)) / t
    q2 = (f(x + 2 * t * d) - f(x)) / (2 * t)
    return 2 * q1 - q2
