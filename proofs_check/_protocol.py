r"""§4's inversion protocol, shared by Table 1 and Figures 3–4, with every choice the paper leaves open a setting.

Regular Adam runs on :math:`f_{\theta_T}` from :math:`x_{init}` until convergence. Surfing runs Adam from
:math:`x_{init}` over the snapshots before the last with a fixed total budget — by default the 75th percentile of
regular Adam's total iteration counts in the same cell, the paper's words: "the 75th-percentile of the iteration
count required for convergence of regular Adam" — split over them by a decreasing schedule, then Adam to
convergence on :math:`\theta_T`.

The open choices (:data:`DEFAULTS`):

- ``lr``: Adam's step size (the paper gives none);
- ``tol``, ``stall_window``, ``stall_tol``, ``max_steps``: convergence is :math:`\|\nabla f\| \le` tol, or the best
  f improving by less than stall_tol·|f| over stall_window steps (None: the gradient rule alone), at most
  max_steps steps;
- ``reset_moments``: Adam's moments restarted on every snapshot, or carried over (default);
- ``budget_statistic``: ``"p75_total"`` (the paper's), ``"p50_total"``, or ``"p75_to_target"`` (the 75th
  percentile of regular Adam's steps until :math:`\|x - x_*\| < 0.01`, failures counted with all their steps);
- ``schedule``: the split's shape, :func:`landscape.budget_schedule` (``"harmonic"`` ∝ 1/(t+1), ``"uniform"``,
  ``"geometric"``);
- ``snapshot_every``, ``first_snapshot``: surf over every n-th snapshot only (θ_T always kept), and start at
  :math:`\theta_s` instead of :math:`\theta_0`.
"""

from __future__ import annotations

import math

import numpy as np

import landscape as L

DEFAULTS = {"lr": 0.01, "tol": 1e-6, "max_steps": 20_000, "stall_window": 100, "stall_tol": 1e-6,
            "reset_moments": False, "budget_statistic": "p75_total", "schedule": "harmonic", "snapshot_every": 1,
            "first_snapshot": 0}
"""The protocol of every check on trained flows unless a setting says otherwise."""

BUDGET_STATISTICS = ("p75_total", "p50_total", "p75_to_target")

SUCCESS_RADIUS = 0.01
"""§4's criterion of success: :math:`\\|\\hat x_T - x_*\\| < 0.01`."""

METHODS = ("regular", "surfing")
"""The two methods §4 compares: regular Adam on θ_T and surfing over the snapshots."""


def _number(value, name: str, what: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or (value <= 0 if positive else value < 0):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return float(value)


def _count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def validated(T: int, **settings) -> dict:
    """The protocol settings, checked one by one (an error names the setting and what it must be), with
    :data:`DEFAULTS` for those not given; ``T`` is the flows' number of snapshots after θ_0."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown protocol setting(s) {unknown}; the settings are {sorted(DEFAULTS)}")
    s = DEFAULTS | settings
    out = {"lr": _number(s["lr"], "lr", "a number > 0 (Adam's step size)"),
           "tol": _number(s["tol"], "tol", "a number >= 0 (the gradient tolerance)", positive=False),
           "max_steps": _count(s["max_steps"], "max_steps"),
           "stall_window": None if s["stall_window"] is None else _count(s["stall_window"], "stall_window"),
           "stall_tol": _number(s["stall_tol"], "stall_tol", "a number >= 0", positive=False)}
    if not isinstance(s["reset_moments"], bool):
        raise ValueError(f"reset_moments must be true or false; got {s['reset_moments']!r}")
    if s["budget_statistic"] not in BUDGET_STATISTICS:
        raise ValueError(f"budget_statistic must be one of {', '.join(BUDGET_STATISTICS)}; got {s['budget_statistic']!r}")
    if s["schedule"] not in L.surfing.SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(L.surfing.SCHEDULES)}; got {s['schedule']!r}")
    out |= {"reset_moments": s["reset_moments"], "budget_statistic": s["budget_statistic"], "schedule": s["schedule"],
            "snapshot_every": _count(s["snapshot_every"], "snapshot_every"),
            "first_snapshot": _count(s["first_snapshot"], "first_snapshot", minimum=0)}
    if out["first_snapshot"] >= T:
        raise ValueError(f"first_snapshot must be below T = {T} (surfing needs a snapshot before θ_T); "
                         f"got {out['first_snapshot']}")
    return out


def surfed_flow(flow: L.NetworkFlow, protocol: dict) -> L.NetworkFlow:
    """The snapshots surfing runs over: from θ_s (``first_snapshot``), every ``snapshot_every``-th, θ_T kept."""
    return flow[protocol["first_snapshot"]:].every(protocol["snapshot_every"])


def steps_to_target(result: L.SurfResult) -> np.ndarray:
    """Steps until ‖x − x*‖ < 0.01 was first reached (§4's iteration count); all steps run for a trial that never
    reached it."""
    return np.where(result.steps_to_target >= 0, result.steps_to_target, result.total_steps)


def surfing_budget(regular_total_steps, regular_steps_to_target, statistic: str) -> int:
    """Surfing's budget on the snapshots before the last, from regular Adam's runs in the same cell."""
    if statistic == "p75_total":
        return int(np.percentile(regular_total_steps, 75))
    if statistic == "p50_total":
        return int(np.percentile(regular_total_steps, 50))
    if statistic == "p75_to_target":
        if regular_steps_to_target is None:
            raise ValueError("budget_statistic 'p75_to_target' needs x* (targets in the range of G)")
        return int(np.percentile(regular_steps_to_target, 75))
    raise ValueError(f"budget_statistic must be one of {', '.join(BUDGET_STATISTICS)}; got {statistic!r}")


def adam_options(protocol: dict) -> dict:
    """The keyword arguments of :func:`landscape.regular_descent` and :func:`landscape.surf` that the protocol sets."""
    return {name: protocol[name] for name in ("lr", "tol", "max_steps", "stall_window", "stall_tol")}


def restarted(net: L.ReLUNet, Y: np.ndarray, A, first: L.SurfResult, budgets: np.ndarray, rng: np.random.Generator,
              protocol: dict, max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Regular Adam with random restarts on :math:`\theta_T` within a per-inversion step budget, the best end point
    by f kept (as CSGM keeps its best restart).

    ``first`` is the first run (regular Adam from :math:`x_{init}`), always counted. Further runs start from
    uniform points of :math:`[-1, 1]^k`, one after another, while the steps of all runs so far fit in the
    inversion's budget; the first run that would not fit ends its restarts and is not counted, so no inversion
    exceeds its budget. Returns the kept points (B, k), the steps counted and the runs counted per inversion.
    """
    f = L.Objective(net, Y, A)
    best_x, best_f = first.x.copy(), f.value(first.x)
    spent, runs = first.total_steps.astype(np.int64).copy(), np.ones(len(Y), dtype=np.int64)
    open_rows = np.flatnonzero(spent < budgets)
    for _ in range(max_rounds):
        if len(open_rows) == 0:
            break
        starts = rng.uniform(-1, 1, (len(open_rows), net.input_dim))
        options = adam_options(protocol) | {"max_steps": int(np.max(budgets[open_rows] - spent[open_rows]))}
        again = L.regular_descent(net, Y[open_rows], A, x0=starts, **options)
        fits = spent[open_rows] + again.total_steps <= budgets[open_rows]
        rows = open_rows[fits]
        spent[rows] += again.total_steps[fits]
        runs[rows] += 1
        values = L.Objective(net, Y[rows], A).value(again.x[fits])
        better = values < best_f[rows]
        best_x[rows[better]], best_f[rows[better]] = again.x[fits][better], values[better]
        open_rows = rows[spent[rows] < budgets[rows]]
    return best_x, spent, runs
