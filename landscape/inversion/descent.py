r"""Descent-based inverters: regular descent (Adam on the final network), Algorithm 1 (surfing) and CSGM (Bora et
al. 2017: Adam from R random restarts, keep the lowest f). Cost: gradient evaluations, one per Adam step. Each
stops on a target when :math:`\|\nabla f\| \le` tol (``converged``), when f stalls (``stalled``, see
:func:`landscape.surf`) or when its budget is spent (``budget``)."""

from __future__ import annotations

import time

import numpy as np

from .. import surfing, validate
from ._result import InversionResult, budget_of, descent_stops, final_network, result, starts, targets, values

STALL_WINDOW = 100
"""Every descent here also stops when f stalls (see :func:`landscape.surf`)."""
UNIT = "gradient evaluations"


def regular_descent(net, y, A=None, budget: int = 2000, rng=None, x0=None, lr: float = 0.01,
                    tol: float = 1e-6) -> InversionResult:
    """:func:`landscape.regular_descent` as an inverter: Adam on f from one start per target (uniform on
    [−1, 1]^k unless ``x0``), at most ``budget`` steps."""
    Y, A, single = targets(net, y, A)
    X0 = starts(net.input_dim, len(Y), x0, rng)
    budget = budget_of(budget)
    start = time.perf_counter()
    run = surfing.regular_descent(net, Y, A, x0=X0, lr=lr, tol=tol, max_steps=budget, stall_window=STALL_WINDOW)
    return result("regular_descent", single, run.x, values(net, Y, A, run.x), run.total_steps, UNIT,
                  descent_stops(run.converged, run.stalled), time.perf_counter() - start)


def surf(flow, y, A=None, budget: int = 2000, rng=None, x0=None, lr: float = 0.01, tol: float = 1e-6,
         share: float = 0.5) -> InversionResult:
    """:func:`landscape.surf` (Algorithm 1) as an inverter: ``share`` of the budget over θ_0 … θ_{T−1} (split ∝
    1/(t+1), §4), the rest at most on θ_T."""
    final = final_network(flow)
    Y, A, single = targets(final, y, A)
    X0 = starts(final.input_dim, len(Y), x0, rng)
    budget = budget_of(budget)
    share = validate.positive_scalar(share, "share")
    if not share < 1:
        raise ValueError(f"share (of the budget spent before θ_T) must lie in (0, 1); got {share!r}")
    early = int(share * budget)
    start = time.perf_counter()
    run = surfing.surf(flow, Y, A, x0=X0, lr=lr, tol=tol, budget=early, max_steps=max(budget - early, 1),
                       stall_window=STALL_WINDOW)
    return result("surf", single, run.x, values(final, Y, A, run.x), run.total_steps, UNIT,
                  descent_stops(run.converged, run.stalled), time.perf_counter() - start)


def csgm(net, y, A=None, budget: int = 2000, rng=None, restarts: int = 5, lr: float = 0.01,
         tol: float = 1e-6) -> InversionResult:
    """Bora et al. (2017): Adam from ``restarts`` uniform starts per target, ``budget // restarts`` steps each;
    the restart with the lowest f is kept, with its stop reason."""
    Y, A, single = targets(net, y, A)
    restarts = validate.positive_int(restarts, "restarts")
    per_restart = budget_of(budget) // restarts
    if per_restart < 1:
        raise ValueError(f"budget ({budget}) must allow one step per restart ({restarts})")
    B, k = len(Y), net.input_dim
    X0 = validate.rng(rng).uniform(-1.0, 1.0, (restarts * B, k))
    start = time.perf_counter()
    run = surfing.regular_descent(net, np.tile(Y, (restarts, 1)), A, x0=X0, lr=lr, tol=tol, max_steps=per_restart,
                                  stall_window=STALL_WINDOW)
    f = values(net, np.tile(Y, (restarts, 1)), A, run.x).reshape(restarts, B)
    best = np.argmin(f, axis=0)
    pick = best * B + np.arange(B)
    spent = run.total_steps.reshape(restarts, B).sum(axis=0)
    return result("csgm", single, run.x[pick], f[best, np.arange(B)], spent, UNIT,
                  descent_stops(run.converged, run.stalled)[pick], time.perf_counter() - start)


__all__ = ["InversionResult", "csgm", "regular_descent", "surf"]
