r"""Certified global minima of the inversion objective where the experiments need them, by branch and bound.

*Figure 4*: how far the reconstructions end from the best one possible, the certified global minimum of
:math:`f(x) = \tfrac12\|A G(x, \theta_T) - A y\|^2` over the prior's box, per held-out target.

For a held-out image y there is no x* with G(x*) = y, and neither surfing's nor regular Adam's per-pixel error says
how much of it is the generator's and how much the method's. Where k is small enough,
:func:`landscape.branch_and_bound` finds the global minimiser :math:`x^\circ` of f over the box
:math:`[-h, h]^k` (h = 1: the GANs' prior), certified to 1e-6 relative, starting from the better of the two
methods' end points. Per trial and method it records

- the excess :math:`f(\hat x_T) - f(x^\circ)` (negative only for an end point outside the box),
- the distance in pixels :math:`\sqrt{\|G(\hat x_T) - G(x^\circ)\|^2 / n}`,
- whether :math:`\|\hat x_T - x^\circ\| < 0.01` (the radius Table 1 counts as recovery: *reached* the optimum),

and the optimum's own per-pixel error :math:`\sqrt{\|G(x^\circ) - y\|^2/n}`, the floor of the rate–distortion
curve on the box. A search estimated to need more than 100,000 sub-boxes is refused and recorded with its
estimate (k ≳ 4 on the trained generators), so the statistics count certified trials only.

*Table 1*: for a failed trial, whether x* is the *unique* global minimiser of :math:`f = \tfrac12\|G(x) - G(x_*)\|^2`
on :math:`[-1, 1]^k` (f(x*) = 0 makes it a global one): :func:`landscape.branch_and_bound` from x* with
``runner_up=True, runner_up_within=1e-6`` finds whether another local minimum comes within 1e-6 of 0 — another
x with G(x) = G(x*), which no inverter could tell from x*. Refused, with the estimate, at Table 1's own k ≥ 5
unless a node limit is given (then undecided where the limit is reached first).
"""

from __future__ import annotations

import math

import numpy as np

import landscape as L

from ._protocol import METHODS, SUCCESS_RADIUS
from ._stats import quartiles, wilson_interval


def chosen_trials(groups: list[np.ndarray], limit: int | None) -> np.ndarray:
    """The trials to certify: the first ones of every matrix group in turn, ``limit`` in all (None: every trial)."""
    if limit is None:
        return np.concatenate(groups)
    per_group = math.ceil(limit / len(groups))
    return np.sort(np.concatenate([rows[:per_group] for rows in groups]))[:limit]


def certified_optimum(net: L.ReLUNet, y: np.ndarray, A: np.ndarray, ends: dict[str, np.ndarray],
                      half_width: float) -> dict:
    """One trial's certified optimum over :math:`[-h, h]^k` and each method's distance from it (see the module);
    ``ends`` maps each method to its end point. JSON-ready."""
    f = L.Objective(net, y, A)
    start = min(ends.values(), key=lambda x: float(f.value(x)))
    try:
        found = L.branch_and_bound(f, (-half_width, half_width), x0=np.clip(start, -half_width, half_width))
    except L.SearchTooLargeError as refusal:
        return {"refused": True, "estimated_boxes": float(refusal.estimate)}
    optimum = net.forward(found.x)
    entry = {"refused": False, "certified": bool(found.certified), "value": found.value,
             "lower_bound": found.lower_bound, "x": found.x.tolist(), "boxes": found.nodes, "seconds": found.seconds,
             "optimum_error": float(np.sqrt(np.mean((optimum - y) ** 2)))}
    for method, x in ends.items():
        entry[f"excess_{method}"] = float(f.value(x)) - found.value
        entry[f"pixel_distance_{method}"] = float(np.sqrt(np.mean((net.forward(x) - optimum) ** 2)))
        entry[f"reached_{method}"] = bool(np.linalg.norm(x - found.x) < SUCCESS_RADIUS)
        entry[f"outside_box_{method}"] = bool(np.any(np.abs(x) > half_width))
    if not found.certified:
        entry["stopped_by"] = found.stopped_by
    return entry


def summary(entries: list[dict]) -> dict:
    """Pooled over a setting's certified trials: how many were certified or refused, the optimum's per-pixel error,
    and per method the rate of reaching the optimum (95 % Wilson interval), the quartiles of the excess in f and of
    the distance in pixels."""
    certified = [e for e in entries if not e["refused"] and e["certified"]]
    row = {"asked": len(entries), "certified": len(certified),
           "refused": sum(e["refused"] for e in entries),
           "optimum_error_quartiles": quartiles([e["optimum_error"] for e in certified]),
           "seconds_median": float(np.median([e["seconds"] for e in certified])) if certified else float("nan")}
    for method in METHODS:
        reached = sum(e[f"reached_{method}"] for e in certified)
        row |= {f"reached_{method}": int(reached),
                f"reached_ci95_{method}": list(wilson_interval(int(reached), len(certified))) if certified else [],
                f"excess_quartiles_{method}": quartiles([e[f"excess_{method}"] for e in certified]),
                f"pixel_distance_quartiles_{method}": quartiles([e[f"pixel_distance_{method}"] for e in certified]),
                f"outside_box_{method}": sum(e[f"outside_box_{method}"] for e in certified)}
    return row


UNIQUENESS_WITHIN = 1e-6
"""Table 1's certificate looks for other minima of f up to this much above f(x*) = 0."""


def unique_minimiser(net: L.ReLUNet, y: np.ndarray, x_star: np.ndarray, max_nodes: int | None = None) -> dict:
    r"""Whether x* is the unique global minimiser of :math:`\tfrac12\|G(x) - y\|^2` on :math:`[-1, 1]^k`
    (y = G(x*); see the module): the certificate's outcome, JSON-ready. ``max_nodes``: search up to this many
    sub-boxes instead of refusing a search estimated beyond the default limit (``unique`` None where it runs out)."""
    try:
        found = L.branch_and_bound(L.Objective(net, y), (-1.0, 1.0), x0=x_star, runner_up=True,
                                   runner_up_within=UNIQUENESS_WITHIN, max_nodes=max_nodes)
    except L.SearchTooLargeError as refusal:
        return {"refused": True, "estimated_boxes": float(refusal.estimate)}
    return {"refused": False, "certified": bool(found.certified), "unique": found.unique,
            "separation": found.separation, "value": found.value, "lower_bound": found.lower_bound,
            "at_x_star": bool(np.linalg.norm(found.x - x_star) < SUCCESS_RADIUS), "boxes": found.nodes,
            "seconds": found.seconds}


def uniqueness_summary(entries: list[dict]) -> dict:
    """Pooled over a setting's certificates of x*: how many were refused (with the median estimate), found x* the
    unique global minimiser, found a tie (another global minimiser within 1e-6), or stayed undecided."""
    searched = [e for e in entries if not e["refused"]]
    refused = [e["estimated_boxes"] for e in entries if e["refused"]]
    return {"asked": len(entries), "refused": len(refused),
            "median_estimated_boxes": float(np.median(refused)) if refused else None,
            "unique": sum(e["unique"] is True for e in searched), "tie": sum(e["unique"] is False for e in searched),
            "undecided": sum(e["unique"] is None for e in searched)}
