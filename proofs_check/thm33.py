r"""Theorem 3.3: below the step bound δ*, Algorithm 2 returns the exact global minimiser at every step.

Assumption 3.2: :math:`\|W_i(s)\| \le M` and the global minimiser :math:`x_*(s)` of
:math:`f(x, \theta(s)) = \tfrac12\|AG(x, \theta(s)) - Ay\|^2` is unique and L-Lipschitz in s. Theorem 3.3: for
any τ > 0, if

.. math:: \delta < \delta^* = \frac{\tau}{L \max(M, 1)^{d+1}}

and :math:`x_0 = x_*(0)`, Algorithm 2's iterates are :math:`x_t = x_*(\delta t)`.

Each trial draws one smooth flow (:meth:`landscape.NetworkFlow.smooth_random`, T + 1 snapshots on
s ∈ [0, 1]) and a target :math:`y = G(x_\circ, \theta(1))`, computes the exact minimiser path on that grid
(one region enumeration and certified QP per region, per snapshot), measures M and L, and runs Algorithm 2
on the flow sub-sampled at strides 1, 2, 4, …, T (δ = stride / T) for every τ. Every iterate is compared
with the exact minimiser at its time.

What the numbers mean:

- L is the largest :math:`\|x_*(s_{t+1}) - x_*(s_t)\| / (s_{t+1} - s_t)` on the finest grid. By the triangle
  inequality it bounds the same quotient at every coarser stride, which is all the theorem's proof uses.
  It is also reported on the half-resolution grid, to show whether it has settled.
- Assumption 3.2 fails on a flow when some sampled minimiser is not unique (another local minimum within
  the value tolerance) or the global minimum changes basin between two snapshots (a jump; L is then
  infinite in the continuum). Those flows are reported, not counted against the theorem.
- Minimisation is over the box :math:`[-b, b]^k` throughout (pieces, QPs and the exact path); the
  theorem's argument carries over to pieces intersected with the box unchanged.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import landscape as L
from landscape.touching import POINT_RTOL

from ._result import CheckResult
from ._runner import run_trials

CLAIM = (
    "Theorem 3.3 (Song, Fan, Lafferty 2019): under Assumption 3.2 (‖W_i(s)‖ ≤ M; a unique, L-Lipschitz global "
    "minimiser x*(s)), for any τ > 0, if δ < τ / (L·max(M, 1)^(d+1)) and x_0 = argmin f(·, θ(0)), then "
    "Algorithm 2's iterates are x_t = argmin f(·, θ(δt)) for t = 1, …, T."
)


def step_bound(tau: float, L_path: float, M: float, depth: int) -> float:
    r""":math:`\delta^* = \tau / (L \max(M, 1)^{d+1})`; infinite when the minimiser does not move (L = 0)."""
    if L_path == 0:
        return float("inf")
    return float(tau / (L_path * max(M, 1.0) ** (depth + 1)))


def assumption_facts(flow: L.NetworkFlow, path: L.MinimizerPath) -> dict:
    """Assumption 3.2 on a flow's exact minimiser path: M, L (full and half grid), uniqueness, jumps, and whether
    it holds (a unique minimiser at every snapshot and no basin jump)."""
    half = np.linalg.norm(np.diff(path.minimizers[::2], axis=0), axis=1) / np.diff(flow.times[::2])
    relative_gaps = path.gaps / (1.0 + np.abs(path.values))
    not_unique = [float(s) for s, u in zip(flow.times, path.unique) if not u]
    jumps = [float(flow.times[t]) for t in path.jumps]
    reasons = []
    if not_unique:
        reasons.append(f"minimiser not unique at s = {', '.join(f'{s:.3g}' for s in not_unique[:5])}"
                       + (" …" if len(not_unique) > 5 else ""))
    if jumps:
        reasons.append(f"global minimum changes basin after s = {', '.join(f'{s:.3g}' for s in jumps[:5])}"
                       + (" …" if len(jumps) > 5 else ""))
    return {
        "M": flow.max_weight_norm(), "L": path.L, "L_half_grid": float(half.max()),
        "min_relative_gap": float(relative_gaps.min()) if np.isfinite(relative_gaps.min()) else None,
        "not_unique_at": not_unique, "jumps_after": jumps,
        "assumption_holds": not reasons, "assumption_failure": "; ".join(reasons) or None,
    }


def _run_algorithm_2(flow: L.NetworkFlow, y: np.ndarray, tau: float, stride: int, exact: np.ndarray,
                     bounds: tuple[float, float]) -> dict:
    """Algorithm 2 on every ``stride``-th snapshot, compared with the exact minimisers at those times.
    Its x_0 is ``exact[0]``, the global minimiser of f(·, θ_0) the path already holds."""
    result = L.projected_surf(flow.every(stride), y, tau, bounds=bounds, x0=exact[0])
    target = exact[::stride]
    errors = np.linalg.norm(result.iterates - target, axis=1)
    missed = np.flatnonzero(errors > POINT_RTOL * (1.0 + np.linalg.norm(target, axis=1)))
    return {
        "stride": stride, "delta": stride / flow.T, "max_error": float(errors.max()), "tracks": len(missed) == 0,
        "first_miss_s": float(flow.times[stride * missed[0]]) if len(missed) else None,
        "mean_pieces": float(result.pieces.mean()), "max_pieces": int(result.pieces.max()),
    }


def _trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    setting = index // settings["trials_per_setting"]
    widths = settings["widths"][setting]
    rng = np.random.default_rng(seed)
    flow = L.NetworkFlow.smooth_random(widths, settings["T"], amplitude=settings["amplitude"],
                                       start_distance=settings["start_distance"], rng=rng)
    x_generating = rng.uniform(-1.0, 1.0, widths[0])
    y = flow[flow.T].forward(x_generating)
    bounds = (-settings["box"], settings["box"])
    path = L.minimizer_path(flow, y, bounds=bounds)
    facts = assumption_facts(flow, path)
    depth = len(widths) - 1
    per_tau = []
    for tau in settings["taus"]:
        delta_star = step_bound(tau, facts["L"], facts["M"], depth)
        runs = [_run_algorithm_2(flow, y, tau, stride, path.minimizers, bounds) for stride in settings["strides"]]
        for run in runs:
            run["delta_over_delta_star"] = run["delta"] / delta_star
        tracking = [r["delta"] for r in runs if r["tracks"]]
        failing = [r["delta"] for r in runs if not r["tracks"]]
        per_tau.append({
            "tau": tau, "delta_star": delta_star, "runs": runs,
            "largest_tracking_delta": max(tracking, default=None),
            "smallest_failing_delta": min(failing, default=None),
            "violations": [r["delta"] for r in runs if r["delta"] < delta_star and not r["tracks"]],
        })
    return {"setting": setting, "widths": widths, "depth": depth, "x_generating": x_generating.tolist(),
            **facts, "per_tau": per_tau}


def _summaries(settings: dict, records: list[dict]) -> list[dict]:
    out = []
    for (s, widths), (j, tau) in itertools.product(enumerate(settings["widths"]), enumerate(settings["taus"])):
        rows = [r for r in records if r["setting"] == s]
        applicable = [r for r in rows if r["assumption_holds"]]
        entries = [r["per_tau"][j] for r in applicable]
        outside = [r["per_tau"][j] for r in rows if not r["assumption_holds"]]
        below = [run for e in entries for run in e["runs"] if run["delta"] < e["delta_star"]]
        above = [run for e in entries for run in e["runs"] if run["delta"] >= e["delta_star"]]
        conservativeness = [e["largest_tracking_delta"] / e["delta_star"] for e in entries
                            if e["largest_tracking_delta"] is not None]
        out.append({
            "widths": widths, "tau": tau, "trials": len(rows), "applicable": len(applicable),
            "median_delta_star": float(np.median([e["delta_star"] for e in entries])) if entries else None,
            "runs_below_bound": len(below), "violations": sum(not run["tracks"] for run in below),
            "runs_above_bound": len(above), "tracking_above_bound": sum(run["tracks"] for run in above),
            "median_largest_tracking_over_delta_star": float(np.median(conservativeness)) if conservativeness else None,
            "largest_tracking_over_delta_star": [float(r) for r in conservativeness],
            "below_bound_misses_outside_assumption": sum(len(e["violations"]) for e in outside),
            "mean_pieces_finest_stride": float(np.mean([e["runs"][0]["mean_pieces"] for e in entries + outside])),
            "delta_star_below_finest_step": sum(e["delta_star"] <= 1.0 / settings["T"] for e in entries),
        })
    return out


def run(widths=((1, 10, 40), (2, 10, 40), (2, 12, 48), (2, 6, 12, 24), (3, 6, 18)), taus=(0.02, 0.1, 0.3),
        trials: int = 8, T: int = 64, start_distance: float = 0.05, amplitude: float = 0.05, box: float = 2.0,
        seed: int = 0, workers: int | None = None, journal: Path | None = None,
        progress: bool = False) -> CheckResult:
    """Sweep architectures (``trials`` flows each) and slacks τ; Algorithm 2 at strides 1, 2, 4, …, T.

    Parameters
    ----------
    widths : sequence of sequences
        ``[k, n_1, ..., n_d]`` per setting, k <= 3 (the exact minimiser path enumerates regions).
    taus : sequence of float
        Algorithm 2's slacks τ > 0, each run on every flow.
    T : int
        Steps of the finest grid on s ∈ [0, 1]; a power of 2, so every stride 2^j divides it.
    start_distance, amplitude : float
        Passed to :meth:`landscape.NetworkFlow.smooth_random`: how far θ(0) is from θ(1), and the size of the
        smooth bumps along the way.
    box : float
        Everything is minimised over [-box, box]^k; the generating point is drawn from [-1, 1]^k.
    seed, workers, journal, progress
        See :func:`proofs_check._runner.run_trials`.
    """
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"trials must be an integer >= 1; got {trials!r}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 2 or T & (T - 1):
        raise ValueError(f"T must be a power of 2 >= 2 (every stride 2^j must divide it); got {T!r}")
    for w in widths:
        if len(w) < 2 or not 1 <= w[0] <= 3:
            raise ValueError(f"widths must be [k, n_1, ..., n_d] with d >= 1 and k <= 3 (exact minimiser paths "
                             f"enumerate regions); got {list(w)}")
    taus = [float(t) for t in taus]
    if not taus or not all(np.isfinite(t) and t > 0 for t in taus):
        raise ValueError(f"taus must be a non-empty sequence of finite values > 0; got {taus}")
    if not (np.isfinite(box) and box > 1):
        raise ValueError(f"box must be finite and > 1 (the generating point lies in [-1, 1]^k); got {box}")
    strides = [2**j for j in range(int(np.log2(T)) + 1)]
    settings = {"widths": [list(w) for w in widths], "taus": taus, "trials_per_setting": trials, "T": T,
                "strides": strides, "start_distance": start_distance, "amplitude": amplitude, "box": box}
    records = run_trials(_trial, len(widths) * trials, seed, settings, workers, journal,
                         "thm33" if progress else None)
    summaries = _summaries(settings, records)
    violations = sum(s["violations"] for s in summaries)
    tested = sum(s["runs_below_bound"] for s in summaries)
    holds = violations == 0 and tested > 0
    outside = [r for r in records if not r["assumption_holds"]]
    ratios = [s["median_largest_tracking_over_delta_star"] for s in summaries
              if s["median_largest_tracking_over_delta_star"] is not None]
    lines = "; ".join(
        f"{s['widths']}, τ={s['tau']:g}: δ* ≈ {s['median_delta_star']:.2g}, largest tracking δ ≈ "
        f"{s['median_largest_tracking_over_delta_star']:.3g}·δ*, {s['tracking_above_bound']}/{s['runs_above_bound']} "
        "runs above δ* still track"
        for s in summaries if s["median_largest_tracking_over_delta_star"] is not None)
    outside_misses = sum(s["below_bound_misses_outside_assumption"] for s in summaries)
    verdict = (
        (f"Observed: on the {len(records) - len(outside)} flow(s) where Assumption 3.2 holds, all {tested} Algorithm 2 "
         "run(s) with δ < δ* returned the exact global minimiser at every step, as Theorem 3.3 states. "
         if holds else
         f"Not observed: {violations} of {tested} runs with δ < δ* on flows satisfying Assumption 3.2 lost the exact "
         "global minimiser. " if tested else
         "Nothing tested: no run had δ < δ* on a flow satisfying Assumption 3.2 (δ* fell below the finest step "
         "1/T, or the assumption failed on every flow); use a larger T or more trials. ")
        + (f"The bound is sufficient, not tight: the largest δ that still tracked was a median "
           f"{min(ratios):.3g}–{max(ratios):.3g} times δ* across settings ({lines}). " if ratios else "")
        + (f"Assumption 3.2 failed on {len(outside)} of {len(records)} flows (not counted): "
           + "; ".join(f"trial {records.index(r)}: {r['assumption_failure']}" for r in outside[:4])
           + (" …" if len(outside) > 4 else "") + "." if outside else "")
        + (f" On those flows {outside_misses} run(s) below the bound missed." if outside_misses else "")
    )
    return CheckResult(check="thm33", claim=CLAIM, settings=settings, seed=seed,
                       statistics={"per_setting": summaries, "runs_below_bound": tested, "violations": violations,
                                   "flows_outside_assumption": len(outside)},
                       holds=holds, verdict=verdict, records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    return run(widths=((1, 10, 40), (2, 8, 24)), taus=(0.05, 0.2), trials=3, T=32, seed=seed, workers=workers,
               journal=journal, progress=progress)
