r"""Algorithm 2 (projected-gradient surfing, :func:`landscape.projected_surf`) as an inverter: exact, piece by
piece, over a flow's snapshots. It has no step budget: it solves one convex QP per piece of
:math:`\mathcal P(x_{t-1}, \theta_t, \tau)` at every snapshot, and ``cost`` counts those QPs. Every QP's answer is
certified (or an error names the piece), so every target is ``converged``."""

from __future__ import annotations

import time

import numpy as np

from .. import projected_surfing
from ..flows import NetworkFlow
from ._result import InversionResult, final_network, result, starts, targets, values

EXACT_START_MAX_K = 3
"""Above this k, x_0 = argmin f(·, θ_0) (every region of θ_0) is out of reach: Algorithm 2 then needs x0."""


def projected_surf(flow: NetworkFlow, y, A=None, x0=None, tau: float = 0.05, bounds=None) -> InversionResult:
    r"""Algorithm 2 per target, from :math:`x_0 = \operatorname{argmin} f(\cdot, \theta_0)` (k ≤ 3) or from ``x0``."""
    final = final_network(flow)
    Y, A, single = targets(final, y, A)
    k = final.input_dim
    if x0 is None and k > EXACT_START_MAX_K:
        raise ValueError(f"projected_surf at k = {k} needs x0: its default start, argmin f(·, θ_0), needs every "
                         f"region of θ_0, which is out of reach above k = {EXACT_START_MAX_K}")
    X0 = None if x0 is None else starts(k, len(Y), x0, None)
    start = time.perf_counter()
    X, evaluations = np.empty((len(Y), k)), np.zeros(len(Y), dtype=np.int64)
    for row, target in enumerate(Y):
        run = projected_surfing.projected_surf(flow, target, tau, A, bounds=bounds, x0=None if X0 is None else X0[row])
        X[row], evaluations[row] = run.iterates[-1], int(run.pieces.sum())
    return result("projected_surf", single, X, values(final, Y, A, X), evaluations, "QPs",
                  np.full(len(Y), "converged"), time.perf_counter() - start)
