r"""Table 1 of §4 on real training flows: surfing against regular Adam on generators trained here.

The protocol, as §4 states it:

- For each model (VAE, DCGAN, WGAN, WGAN-GP) and latent dimension k, a generator is trained with
  :func:`landscape.training.train_flow` (the infogan layout on the bundled 8×8 digits unless told otherwise)
  and its snapshots θ_0 … θ_T are taken every ``every`` generator updates (T = 100, every 40).
- Each trial draws x* and x_init uniformly from :math:`[-1, 1]^k`; the target is :math:`y = G(x_*, \theta_T)`
  and :math:`f(x) = \tfrac12\|G(x, \theta_T) - y\|^2`. Success: :math:`\|\hat x_T - x_*\| < 0.01`.
- Regular Adam: Adam on :math:`f_{\theta_T}` from x_init until convergence.
- Surfing: Adam from x_init over θ_0 … θ_{T−1} with a total budget equal to the 75th percentile of regular
  Adam's iteration counts (this cell's), split by :func:`landscape.decreasing_schedule` (∝ 1/(t+1)), then Adam
  to convergence on θ_T. Adam's moments carry over between snapshots (``reset_moments`` to change).

Choices the paper leaves open, stated here:

- *Convergence* ends a run when :math:`\|\nabla f\| \le 10^{-6}` or when the best f reached improved by
  less than ``stall_tol``·|f| over the last ``stall_window`` steps (spurious minima sit on kinks where the
  gradient never becomes small and Adam oscillates), at most ``max_steps``; Adam's step size is ``lr``.
- *Iteration counts* (Table 1's second half): per trial, the total steps until :math:`\|x - x_*\| < 0.01` was
  first reached (over all snapshots for surfing); a trial that never got there counts with all the steps it
  ran. The table reports the 75th percentile over the cell's trials.
- Training varies: each (model, k) is run on several training seeds; per-seed rates, a pooled rate with a
  95 % Wilson interval and an exact McNemar test between the two methods (paired by trial) are reported.
- With ``converge_every_snapshot``, surfing is also run to convergence on every snapshot (no budget), to
  separate "surfing fails" from "the budget starves it".
- A census (``census_targets`` targets per cell): regular Adam from ``census_starts`` uniform starts, every end
  point polished to a certified local minimum, distinct minima counted.
- Every failed regular-Adam trial (up to ``polish_limit`` per cell) is polished to a certified local minimum
  of :math:`f_{\theta_T}` (:func:`landscape.polish_to_local_minimum`): its distance to x* and its value f say
  whether Adam stopped in a spurious local minimum.

Trained flows are cached under ``flows_dir`` (one directory per model, k, T, every and training seed) and
reused; a directory holding other settings is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from landscape import _validate
from landscape.critical import same_point

from ._result import CheckResult
from ._runner import run_trials
from ._stats import mcnemar_exact, wilson_interval

CLAIM = (
    "§4, Table 1 (Song, Fan, Lafferty 2019): on generators trained as VAE, DCGAN, WGAN and WGAN-GP (Fashion-MNIST, "
    "InfoGAN layout, k = 5, 10, 20), surfing over the training snapshots recovers x* (‖x̂_T − x*‖ < 0.01) at least as "
    "often as regular Adam on the final network, and often far more often (e.g. DCGAN k = 5: 48.3 % → 78.3 %), "
    "at 1–2× its iterations."
)

PAPER = {
    ("vae", 5): (98.7, 100.0, 737, 775), ("vae", 10): (100.0, 100.0, 1330, 1404),
    ("vae", 20): (100.0, 100.0, 8215, 10744), ("dcgan", 5): (48.3, 78.3, 618, 741),
    ("dcgan", 10): (68.7, 98.7, 4560, 6514), ("dcgan", 20): (80.0, 96.3, 18937, 33294),
    ("wgan", 5): (56.0, 81.7, 464, 547), ("wgan", 10): (84.3, 97.3, 1227, 1450),
    ("wgan", 20): (90.3, 99.3, 3702, 4986), ("wgangp", 5): (47.0, 83.7, 463, 564),
    ("wgangp", 10): (64.7, 95.7, 1915, 2394), ("wgangp", 20): (64.7, 97.3, 15445, 25991),
}
"""Table 1 of the paper: (regular Adam %, surfing %, regular iterations, surfing iterations) per (model, k)."""

SUCCESS_RADIUS = 0.01
POLISH_LIMITS = {"max_pieces": 128, "max_moves": 200}
"""Polishing gives up on a point where more than 128 regions meet (up to 2^m do where m neurons switch, and
at k = 20 spurious minima sit on such kinks) or after 200 moves; such points are counted as uncertified."""


def polish(objective: L.Objective, x: np.ndarray):
    """:func:`landscape.polish_to_local_minimum` within ``POLISH_LIMITS``; None where it gave up."""
    try:
        return L.polish_to_local_minimum(objective, x, **POLISH_LIMITS)
    except L.TooManyRegionsError:
        return None
    except ValueError as error:
        if "max_moves" in str(error):
            return None
        raise
MODELS = ("vae", "dcgan", "wgan", "wgangp")


def flow_directory(flows_dir, model: str, k: int, T: int, every: int, seed: int, layout: str = "infogan") -> Path:
    """Where the cached flow of these settings lives."""
    return Path(flows_dir) / f"{model}-{layout}-k{k}-T{T}-every{every}-seed{seed}"


def iterations(result: L.SurfResult) -> np.ndarray:
    """Steps until ‖x − x*‖ < 0.01 was first reached; all steps run for a trial that never reached it."""
    return np.where(result.steps_to_target >= 0, result.steps_to_target, result.total_steps)


def census(net: L.ReLUNet, x_star: np.ndarray, starts: np.ndarray, options: dict) -> dict:
    r"""The distinct local minima of :math:`f(x) = \tfrac12\|G(x) - G(x_*)\|^2` that regular Adam reaches from
    ``starts``: every end point polished to a certified local minimum, and minima closer than
    :math:`10^{-6}(1 + \|x\|)` merged (:func:`landscape.critical.same_point`). Returns their count, values f and distances to x* (lowest f first) and
    how many starts reached each, the share of starts that reached x* itself, and how many end points could
    not be certified within ``POLISH_LIMITS``."""
    y = net.forward(x_star)
    ends = L.regular_descent(net, y, x0=starts, **options).x
    objective = L.Objective(net, y)
    minima: list[list] = []  # [point, value, starts that reached it]
    uncertified = 0
    for x in ends:
        found = polish(objective, x)
        if found is None:
            uncertified += 1
            continue
        for entry in minima:
            if same_point(found.x, entry[0]):
                entry[2] += 1
                break
        else:
            minima.append([found.x, found.value, 1])
    minima.sort(key=lambda entry: entry[1])
    reached = sum(c for x, _, c in minima if same_point(x, x_star))
    return {"starts": len(starts), "uncertified": uncertified, "distinct_minima": len(minima),
            "share_reaching_x_star": reached / len(starts),
            "values": [float(v) for _, v, _ in minima],
            "distances_to_x_star": [float(np.linalg.norm(x - x_star)) for x, _, _ in minima],
            "starts_per_minimum": [int(c) for _, _, c in minima]}


def _trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    from landscape.training import train_flow

    model, k, training_seed = settings["cells"][index]
    T, every = settings["T"], settings["every"]
    run = train_flow(model, flow_directory(settings["flows_dir"], model, k, T, every, training_seed, settings["layout"]),
                     k=k, T=T, every=every, layout=settings["layout"], dataset=settings["dataset"], seed=training_seed)
    flow, final = run.flow, run.flow[T]
    rng = np.random.default_rng(seed)
    n = settings["trials_per_cell"]
    x_star, x_init = rng.uniform(-1, 1, (n, k)), rng.uniform(-1, 1, (n, k))
    Y = final.forward(x_star)
    options = dict(lr=settings["lr"], tol=settings["tol"], max_steps=settings["max_steps"],
                   stall_window=settings["stall_window"], stall_tol=settings["stall_tol"], x_star=x_star,
                   radius=SUCCESS_RADIUS)
    regular = L.regular_descent(final, Y, x0=x_init, **options)
    budget = int(np.percentile(regular.total_steps, 75))
    surfed = L.surf(flow, Y, x0=x_init, budget=budget, reset_moments=settings["reset_moments"], **options)
    distance = {"regular": np.linalg.norm(regular.x - x_star, axis=1), "surfing": np.linalg.norm(surfed.x - x_star, axis=1)}
    record = {
        "model": model, "k": k, "training_seed": training_seed, "budget": budget,
        "distance_regular": distance["regular"].tolist(), "distance_surfing": distance["surfing"].tolist(),
        "iterations_regular": iterations(regular).tolist(), "iterations_surfing": iterations(surfed).tolist(),
        "stalled_regular": int(regular.stalled.sum()), "capped_regular": int(np.sum(regular.total_steps >= settings["max_steps"])),
        "M_max": float(flow.weight_norms().max()),
    }
    if settings["converge_every_snapshot"]:
        unlimited = L.surf(flow, Y, x0=x_init, reset_moments=settings["reset_moments"], **options)
        record["distance_surfing_to_convergence"] = np.linalg.norm(unlimited.x - x_star, axis=1).tolist()
    failed = np.flatnonzero(distance["regular"] >= SUCCESS_RADIUS)[: settings["polish_limit"]]
    polished = []
    for i in failed:
        found = polish(L.Objective(final, Y[i]), regular.x[i])
        if found is None:
            polished.append({"trial": int(i), "certified": False,
                             "surfing_succeeded": bool(distance["surfing"][i] < SUCCESS_RADIUS)})
            continue
        polished.append({"trial": int(i), "certified": True, "f": found.value, "f_where_adam_stopped": found.start_value,
                         "distance_to_x_star": float(np.linalg.norm(found.x - x_star[i])),
                         "moved": found.distance, "surfing_succeeded": bool(distance["surfing"][i] < SUCCESS_RADIUS)})
    record["polished_failures"] = polished
    census_options = {key: value for key, value in options.items() if key not in ("x_star", "radius")}
    record["census"] = [census(final, x_star[i], rng.uniform(-1, 1, (settings["census_starts"], k)), census_options)
                        for i in range(min(settings["census_targets"], n))]
    return record


def _setting_summary(model: str, k: int, records: list[dict]) -> dict:
    regular = np.concatenate([np.asarray(r["distance_regular"]) < SUCCESS_RADIUS for r in records])
    surfing = np.concatenate([np.asarray(r["distance_surfing"]) < SUCCESS_RADIUS for r in records])
    n = len(regular)
    only_regular, only_surfing = int(np.sum(regular & ~surfing)), int(np.sum(surfing & ~regular))
    p_value = mcnemar_exact(only_regular, only_surfing)
    difference = surfing.mean() - regular.mean()
    verdict = ("surfing better" if difference > 0 and p_value < 0.05 else
               "regular better" if difference < 0 and p_value < 0.05 else "no significant difference")
    attempted = [p for r in records for p in r["polished_failures"]]
    polished = [p for p in attempted if p["certified"]]
    summary = {
        "model": model, "k": k, "trials": n, "training_seeds": [r["training_seed"] for r in records],
        "regular_rate": float(regular.mean()), "regular_ci95": list(wilson_interval(int(regular.sum()), n)),
        "surfing_rate": float(surfing.mean()), "surfing_ci95": list(wilson_interval(int(surfing.sum()), n)),
        "per_seed_regular": [float(np.mean(np.asarray(r["distance_regular"]) < SUCCESS_RADIUS)) for r in records],
        "per_seed_surfing": [float(np.mean(np.asarray(r["distance_surfing"]) < SUCCESS_RADIUS)) for r in records],
        "only_regular": only_regular, "only_surfing": only_surfing, "mcnemar_p": p_value, "verdict": verdict,
        "iterations_p75_regular": float(np.percentile(np.concatenate([r["iterations_regular"] for r in records]), 75)),
        "iterations_p75_surfing": float(np.percentile(np.concatenate([r["iterations_surfing"] for r in records]), 75)),
        "budgets": [r["budget"] for r in records],
        "regular_runs_ended_by_stall": int(sum(r["stalled_regular"] for r in records)),
        "regular_runs_capped": int(sum(r["capped_regular"] for r in records)),
        "polished_failures": len(polished),
        "polishing_gave_up": len(attempted) - len(polished),
        "median_polished_distance": float(np.median([p["distance_to_x_star"] for p in polished])) if polished else None,
        "median_polished_f": float(np.median([p["f"] for p in polished])) if polished else None,
        "polished_failures_surfing_solved": int(sum(p["surfing_succeeded"] for p in polished)),
    }
    censuses = [c for r in records for c in r["census"]]
    if censuses:
        summary["census"] = {
            "targets": len(censuses), "starts_per_target": censuses[0]["starts"],
            "median_distinct_minima": float(np.median([c["distinct_minima"] for c in censuses])),
            "median_share_reaching_x_star": float(np.median([c["share_reaching_x_star"] for c in censuses])),
            "largest_distinct_minima": int(max(c["distinct_minima"] for c in censuses)),
            "uncertified_end_points": int(sum(c["uncertified"] for c in censuses))}
    if all("distance_surfing_to_convergence" in r for r in records):
        unlimited = np.concatenate([np.asarray(r["distance_surfing_to_convergence"]) < SUCCESS_RADIUS for r in records])
        summary["surfing_to_convergence_rate"] = float(unlimited.mean())
    paper = PAPER.get((model, k))
    if paper is not None:
        summary["paper"] = {"regular_percent": paper[0], "surfing_percent": paper[1], "regular_iterations": paper[2],
                            "surfing_iterations": paper[3]}
    return summary


def run(models=MODELS, ks=(5, 10, 20), training_seeds=(0, 1, 2), trials: int = 300, T: int = 100, every: int = 40,
        layout: str = "infogan", dataset: str = "digits", lr: float = 0.01, tol: float = 1e-6, max_steps: int = 20_000,
        stall_window: int = 100, stall_tol: float = 1e-6, reset_moments: bool = False,
        converge_every_snapshot: bool = False, polish_limit: int = 50, census_targets: int = 3,
        census_starts: int = 100, flows_dir=None, seed: int = 0,
        workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    """Table 1 on real training flows: every (model, k, training seed) cell is one trial of the runner.

    Parameters
    ----------
    models, ks, training_seeds
        The cells: every combination is trained (or read from the cache) and inverted ``trials`` times.
    T, every, layout, dataset
        Passed to :func:`landscape.training.train_flow`.
    lr, tol, max_steps, stall_window, stall_tol, reset_moments
        The inversions' Adam and stopping rule (see the module notes).
    converge_every_snapshot : bool
        Also run surfing to convergence on every snapshot.
    polish_limit : int
        Failed regular runs polished to a certified local minimum, per cell.
    census_targets, census_starts : int
        Per cell, for this many of the trials' targets, regular Adam is run from ``census_starts`` further
        uniform starts and every end point polished: the census of distinct certified local minima it reaches
        (:func:`census`). 0 targets skips it.
    flows_dir : path, optional
        The flow cache; default ``proofs_check/out/flows``.
    seed, workers, journal, progress
        See :func:`proofs_check._runner.run_trials`; trial draws (x*, x_init) come from the seed, training
        seeds are fixed by ``training_seeds`` so cached flows are reused across runs.
    """
    from landscape.training import MODELS as TRAINABLE

    models, ks, training_seeds = list(models), [int(k) for k in ks], [int(s) for s in training_seeds]
    unknown = [m for m in models if m not in TRAINABLE]
    if unknown or not models:
        raise ValueError(f"models must be a non-empty list from {', '.join(TRAINABLE)}; got {models}")
    if not ks or any(k < 1 or k > 64 for k in ks):
        raise ValueError(f"ks must be latent dimensions in 1..64; got {ks}")
    if not training_seeds:
        raise ValueError("training_seeds must not be empty")
    for name, value in (("trials", trials), ("T", T), ("every", every), ("max_steps", max_steps),
                        ("stall_window", stall_window), ("polish_limit", polish_limit + 1),
                        ("census_targets", census_targets + 1), ("census_starts", census_starts)):
        _validate.positive_int(value, name)
    if flows_dir is None:
        flows_dir = Path(__file__).parent / "out" / "flows"
    cells = [[m, k, s] for m in models for k in ks for s in training_seeds]
    settings = {"cells": cells, "trials_per_cell": int(trials), "T": int(T), "every": int(every), "layout": layout,
                "dataset": str(dataset), "lr": float(lr), "tol": float(tol), "max_steps": int(max_steps),
                "stall_window": int(stall_window), "stall_tol": float(stall_tol), "reset_moments": bool(reset_moments),
                "converge_every_snapshot": bool(converge_every_snapshot), "polish_limit": int(polish_limit),
                "census_targets": int(census_targets), "census_starts": int(census_starts),
                "flows_dir": str(flows_dir)}
    records = run_trials(_trial, len(cells), seed, settings, workers, journal, "table1" if progress else None,
                         costs=[k for _, k, _ in cells])  # larger latents take longer to converge and to polish
    summaries = [_setting_summary(m, k, [r for r in records if r["model"] == m and r["k"] == k])
                 for m in models for k in ks]
    better = [s for s in summaries if s["verdict"] == "surfing better"]
    worse = [s for s in summaries if s["verdict"] == "regular better"]
    holds = bool(better) and not worse
    lines = "; ".join(
        f"{s['model']} k={s['k']}: regular {100 * s['regular_rate']:.1f} % [{100 * s['regular_ci95'][0]:.0f}, "
        f"{100 * s['regular_ci95'][1]:.0f}] → surfing {100 * s['surfing_rate']:.1f} % [{100 * s['surfing_ci95'][0]:.0f}, "
        f"{100 * s['surfing_ci95'][1]:.0f}] (McNemar p = {s['mcnemar_p']:.2g}, {s['verdict']}"
        + (f"; paper {s['paper']['regular_percent']} → {s['paper']['surfing_percent']}" if "paper" in s else "") + ")"
        for s in summaries)
    n_cells = len(summaries)
    verdict = (
        f"Surfing was significantly better than regular Adam in {len(better)} of {n_cells} settings, regular Adam "
        f"significantly better in {len(worse)}, no significant difference in {n_cells - len(better) - len(worse)} "
        f"({len(training_seeds)} training seed(s) × {trials} trials per setting; 8×8 digits, not Fashion-MNIST): "
        f"{lines}. "
        + ("The paper's qualitative claim (surfing at least as good, often better) reproduces here."
           if holds else "The paper's qualitative claim does not reproduce in every setting here.")
    )
    return CheckResult(check="table1", claim=CLAIM, settings=settings, seed=seed,
                       statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """Two models, k = 5, one training seed, 60 trials, T = 25 snapshots every 40 updates (a few minutes at
    most on 2 cores, training included; cached flows make a rerun take seconds)."""
    return run(models=("dcgan", "wgangp"), ks=(5,), training_seeds=(0,), trials=60, T=25, every=40, seed=seed,
               workers=workers, journal=journal, progress=progress, flows_dir=flows_dir)
