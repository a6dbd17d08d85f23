"""Points built on purpose: on a chosen neuron's switching hyperplane, or safely inside a piece."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import naive


def boundary_point(net, x0, layer, neuron):
    """Project x0 onto the hyperplane z_{layer,neuron}(x) = 0 of x0's piece.

    Returns the point, or None when the projection leaves the closure of x0's piece
    (another neuron changes sign), the neuron's map is constant on the piece, or the
    projection does not land on the hyperplane to working precision (relative
    ``|z| <= 1e-12``; near the origin of a bias-free network it may not).
    """
    preacts, _ = naive.forward_trace(net, x0)
    gates = [z > 0 for z in preacts]
    A, a = naive.preactivation_maps(net, gates)[layer - 1]
    row, offset = A[neuron], a[neuron]
    norm2 = float(row @ row)
    if norm2 < 1e-12:
        return None
    x = x0 - (row @ x0 + offset) / norm2 * row
    new_preacts, _ = naive.forward_trace(net, x)
    if relative_preactivations(net, x)[layer - 1][neuron] > 1e-12:
        return None
    for i, (z_old, z_new) in enumerate(zip(preacts, new_preacts), start=1):
        for j, (u, v) in enumerate(zip(z_old, z_new)):
            if (i, j) != (layer, neuron) and (u > 0) != (v > 0):
                return None
    return x


def drawn_boundary_point(data, net, x0):
    """Draw a neuron and put a point on its hyperplane at the edge of x0's piece; reject the draw when
    that is impossible. Returns ``(point, layer, neuron)``."""
    layer = data.draw(st.integers(1, net.depth))
    neuron = data.draw(st.integers(0, net.hidden_widths[layer - 1] - 1))
    xb = boundary_point(net, x0, layer, neuron)
    assume(xb is not None)
    return xb, layer, neuron


def relative_preactivations(net, x):
    """Per layer, |z_ij(x)| / (||w_ij|| ||x_{i-1}|| + |b_ij|): each neuron's relative distance to its hyperplane."""
    preacts, _ = naive.forward_trace(net, x)
    current, out = np.asarray(x, float), []
    for (w, b), z in zip(naive.layer_params(net), preacts):
        scale = np.linalg.norm(w, axis=1) * np.linalg.norm(current) + np.abs(b)
        out.append(np.abs(z) / np.maximum(scale, 1e-300))
        current = np.maximum(z, 0)
    return out


def margin(net, x):
    """How deep x sits inside its piece: the smallest relative pre-activation over all neurons."""
    return float(min(r.min() for r in relative_preactivations(net, x)))
