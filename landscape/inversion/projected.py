r"""Algorithm 2 (projected-gradient surfing, :func:`landscape.projected_surf`) as an inverter: exact, piece by
piece, over a flow's snapshots. It has no step budget: it solves one convex QP per piece of
:math:`\mathcal P(x_{t-1}, \theta_t, \tau)` at every snapshot, and ``evaluations`` counts those QPs."""

from __future__ import annotations

import time

import numpy as np

from ..flows import NetworkFlow
from ..projected_surfing import projected_surf
from ._result import InversionResult, starts, targets, values

EXACT_START_MAX_K = 3
"""Above this k, x_0 = argmin f(·, θ_0) (every region of θ_0) is out of reach: Algorithm 2 then needs x0."""


def projected_surfing(flow: NetworkFlow, y, A=None, budget: int | None = None, rng=None, x0=None, tau: float = 0.05,
                      bounds=None) -> InversionResult:
    r"""Algorithm 2 per target, from :math:`x_0 = \operatorname{argmin} f(\cdot, \theta_0)` (k ≤ 3) or from ``x0``."""
    if not isinstance(flow, NetworkFlow):
        raise ValueError(f"projected_surfing needs a NetworkFlow; got {type(flow).__name__}")
    final = flow[flow.T]
    Y, A = targets(final, y, A)
    k = final.input_dim
    if x0 is None and k > EXACT_START_MAX_K:
        raise ValueError(f"projected_surfing at k = {k} needs x0: its default start, argmin f(·, θ_0), needs every "
                         f"region of θ_0, which is out of reach above k = {EXACT_START_MAX_K}")
    X0 = None if x0 is None else starts(k, len(Y), x0, rng)
    start = time.perf_counter()
    X, evaluations = np.empty((len(Y), k)), np.zeros(len(Y), dtype=np.int64)
    for row, target in enumerate(Y):
        run = projected_surf(flow, target, tau, A, bounds=bounds, x0=None if X0 is None else X0[row])
        X[row], evaluations[row] = run.iterates[-1], int(run.pieces.sum())
    return InversionResult("projected_surfing", X, values(final, Y, A, X), evaluations, np.ones(len(Y), dtype=bool),
                           time.perf_counter() - start)
