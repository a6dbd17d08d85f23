r"""Layer-wise LP inversion (Lei, Jiang, Marcus & Shi 2019), for expansive networks and targets in (or near)
the range: undo the readout by least squares, then recover each layer's input from its output, last layer
first, by one linear programme per layer:

.. math::

    \min_{z, t}\; t \quad\text{s.t.}\quad |W_{ij} z + b_{ij} - h_j| \le t \;(h_j > 0), \qquad
    W_{ij} z + b_{ij} \le t \;(h_j = 0), \qquad z \ge 0 \text{ for a hidden layer},

with h the layer's (recovered) output: the ℓ∞ fit of the ReLU's two branches. For y = G(x*) and an
expansive network the optimum is t = 0 at z = the true input, so x* is recovered exactly. Solved by HiGHS.
Budget: not used (one LP per layer; ``evaluations`` reports the LP count).
"""

from __future__ import annotations

import time

import numpy as np

from .._polytope import linprog
from .._threads import one_blas_thread
from ..network import ReLUNet
from ..objective import Objective
from ._result import InversionResult, result, targets, values

ACTIVE_RTOL = 1e-9
"""An output entry counts as active (the ReLU's identity branch) above this times 1 + max |h|."""
EXACT_FIT = 1e-7
"""A layer counts as inverted exactly when its LP's misfit t is at most this."""


def _layer_input(W: np.ndarray, b: np.ndarray, h: np.ndarray, nonnegative: bool, what: str) -> tuple[np.ndarray, float]:
    n_out, n_in = W.shape
    active = h > ACTIVE_RTOL * (1.0 + np.max(np.abs(h)))
    ones = np.ones((n_out, 1))
    rows = [np.hstack([W[active], -ones[active]]), np.hstack([-W[active], -ones[active]]),
            np.hstack([W[~active], -ones[~active]])]
    bounds_right = [h[active] - b[active], b[active] - h[active], -b[~active]]
    A_ub, b_ub = np.vstack(rows), np.concatenate(bounds_right)
    bounds = [(0.0 if nonnegative else None, None)] * n_in + [(0.0, None)]
    cost = np.zeros(n_in + 1)
    cost[-1] = 1.0
    found = linprog(cost, A_ub, b_ub, bounds, what)
    if found.status != 0:
        raise RuntimeError(f"{what}: HiGHS status {found.status}")
    return found.x[:n_in], float(found.x[-1])


@one_blas_thread
def layerwise_lp(net: ReLUNet, y, A=None) -> InversionResult:
    """Invert layer by layer: no budget, one LP per layer (cost: LPs). ``per_target["fit"]`` holds each target's
    largest per-layer ℓ∞ misfit t; a target is ``converged`` when every layer was inverted exactly (t ≤ 1e-7),
    ``finished`` otherwise. Needs a readout (or A V) of full column rank and an expansive network,
    n_i ≥ n_{i−1} for every layer (a contracting layer is refused: its input is not determined by its output)."""
    Y, A, single = targets(net, y, A)
    narrowing = [i for i in range(1, net.depth + 1) if net.widths[i] < net.widths[i - 1]]
    if narrowing:
        raise ValueError(f"layerwise_lp needs an expansive network (n_i >= n_(i-1)); layer(s) {narrowing} of widths "
                         f"{list(net.widths)} narrow, so their inputs are not determined by their outputs")
    B, target = Objective(net, Y, A).residual_map
    M = np.eye(net.widths[-1]) if B is None else B
    if np.linalg.matrix_rank(M) < M.shape[1]:
        raise ValueError(f"layerwise_lp needs the readout{' A V' if A is not None else ''} to have full column rank "
                         f"({M.shape[1]}); it has rank {np.linalg.matrix_rank(M)}: the last hidden layer is not "
                         "determined by y")
    start = time.perf_counter()
    X, fits = np.empty((len(Y), net.input_dim)), np.zeros(len(Y))
    last_hidden = np.maximum(np.linalg.lstsq(M, target.T, rcond=None)[0].T, 0.0)  # the readout, undone for all rows
    for row in range(len(Y)):
        h = last_hidden[row]
        for i in range(net.depth - 1, -1, -1):
            h, fit = _layer_input(net.weights[i], net.effective_biases[i], h, i > 0,
                                  f"layer-wise LP, target {row}, layer {i + 1}")
            fits[row] = max(fits[row], fit)
        X[row] = h
    return result("layerwise_lp", single, X, values(net, Y, A, X), np.full(len(Y), net.depth), "LPs",
                  np.where(fits <= EXACT_FIT, "converged", "finished"), time.perf_counter() - start,
                  per_target={"fit": fits})
