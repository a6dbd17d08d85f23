r"""Why Table 1 differs at k = 20: the protocol choices the paper leaves open, ablated one at a time.

On the cached Table-1 flows (every model, k = 20 with k = 5 as control, every training seed), each *arm* changes
one setting of the protocol (:mod:`proofs_check._protocol`) from its default and runs regular Adam and surfing on
the same targets and starts as every other arm: x* and x_init of a cell are drawn from ``(seed, cell)`` alone. The
default arm also runs the referee's baseline — regular Adam with random restarts on θ_T within surfing's steps for
the same trial, the best end point by f kept — and classifies every failed run exactly
(:mod:`proofs_check._failures`).

Per (model, k, arm), pooled over training seeds: both methods' success rates with Wilson intervals; McNemar's exact
test of surfing against regular Adam within the arm, of the arm's surfing against the default's (and of its regular
Adam, where the arm changes regular Adam too), and of the restarts against surfing; every p-value adjusted by Holm's
method over the whole family. The verdict table asks of each explanation of the k = 20 deficit (surfing
significantly worse than regular Adam under the default protocol) whether one of its arms removes it: the arm's
surfing is significantly better than the default's and no longer significantly worse than the arm's regular Adam
(Holm-adjusted, 0.05).

One trial of the runner is one cell and one group of arms that leave regular Adam's settings alike (Adam's step size,
tolerance and stopping rule, :func:`regular_groups`): regular Adam runs once for the group and surfing once per arm,
so the default and every arm that changes only surfing share one regular run. Each trial is journalled as it finishes,
so an interrupted ablation resumes without losing a finished group; a journal of other settings is refused, naming
the settings that differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from landscape import validate

from . import _failures, _protocol
from ._protocol import SUCCESS_RADIUS, steps_to_target
from ._result import CheckResult
from ._runner import run_trials
from ._stats import holm, interval_text
from .table1 import (MODELS, cells_of, checked_hidden, classify_failures, data_description, failure_summary, paired, rate,
                     regular_run, surfing_run, trained)

CLAIM = (
    "The paper's open protocol choices explain why Table 1's claim (surfing recovers x* at least as often as regular "
    "Adam) fails at k = 20 on the 8×8 digits flows: some setting of Adam's step size, its moments across snapshots, "
    "the stopping rule, the budget statistic, the schedule or the snapshots used removes the deficit."
)

ARMS = {
    "default": {},
    "lr 0.003": {"lr": 0.003},
    "lr 0.001": {"lr": 0.001},
    "moments reset": {"reset_moments": True},
    "no stall rule": {"stall_window": None, "max_steps": 100_000},
    "tol 1e-9": {"tol": 1e-9},
    "budget P50 total": {"budget_statistic": "p50_total"},
    "budget P75 to target": {"budget_statistic": "p75_to_target"},
    "schedule uniform": {"schedule": "uniform"},
    "schedule geometric": {"schedule": "geometric"},
    "every 4th snapshot": {"snapshot_every": 4},
    "every 10th snapshot": {"snapshot_every": 10},
    "start at θ_5": {"first_snapshot": 5},
    "start at θ_10": {"first_snapshot": 10},
    "start at θ_25": {"first_snapshot": 25},
}
"""The arms: each one setting (or two that belong together) changed from the default protocol."""

EXPLANATIONS = {
    "Adam's step size is too large at k = 20": ("lr 0.003", "lr 0.001"),
    "carrying Adam's moments from snapshot to snapshot hurts": ("moments reset",),
    "the stopping rule cuts surfing short": ("no stall rule", "tol 1e-9"),
    "the budget statistic starves surfing": ("budget P50 total", "budget P75 to target"),
    "the schedule's shape is wrong": ("schedule uniform", "schedule geometric"),
    "too many snapshots, each with too few steps": ("every 4th snapshot", "every 10th snapshot"),
    "the first, least-trained snapshots mislead surfing": ("start at θ_5", "start at θ_10", "start at θ_25"),
}
"""Each explanation of the deficit and the arms that test it."""

CHANGES_REGULAR = ("lr", "tol", "max_steps", "stall_window", "stall_tol")
"""Protocol settings that change regular Adam too (the others change only surfing)."""

ALPHA = 0.05


def _arms(arms: dict, T: int) -> dict:
    """The validated arms (each a dict of protocol settings); the default arm is always first and empty."""
    if not isinstance(arms, dict) or not arms:
        raise ValueError(f"arms must be a non-empty mapping of arm names to protocol settings; got {arms!r}")
    if arms.get("default", {}) != {}:
        raise ValueError(f"arms['default'] must be empty (it is the reference protocol); got {arms['default']!r}")
    out = {"default": {}}
    for name, overrides in arms.items():
        if not isinstance(name, str) or not isinstance(overrides, dict):
            raise ValueError(f"arms[{name!r}] must map a name to a dict of protocol settings; got {overrides!r}")
        try:
            _protocol.validated(T, **overrides)
        except ValueError as error:
            raise ValueError(f"arms[{name!r}]: {error}") from None
        out[name] = dict(overrides)
    return out


def _draws(settings: dict, cell: int, k: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """The cell's generator and its x* and x_init, (trials, k) each: the same in every arm."""
    rng = np.random.default_rng([settings["draw_seed"], cell])
    n = settings["trials_per_cell"]
    return rng, rng.uniform(-1, 1, (n, k)), rng.uniform(-1, 1, (n, k))


def regular_groups(arms: dict) -> list[list[str]]:
    """The arms grouped by the settings regular Adam sees (:data:`CHANGES_REGULAR`), the default's group first: the
    arms of one group share one run of regular Adam, as they share x* and x_init."""
    groups: dict[tuple, list[str]] = {}
    for name, overrides in arms.items():
        key = tuple(sorted((setting, repr(value)) for setting, value in overrides.items() if setting in CHANGES_REGULAR))
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def _trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    """One cell and one group of arms: regular Adam once under the group's settings, then surfing for every arm of
    the group (and, in the default's group, the restarts baseline and the classification of failures)."""
    groups = regular_groups(settings["arms"])
    cell, group = divmod(index, len(groups))
    model, k, training_seed = settings["cells"][cell]
    flow = trained(settings, model, k, training_seed)
    final = flow[flow.T]
    rng, x_star, x_init = _draws(settings, cell, k)
    Y = final.forward(x_star)
    names = groups[group]
    regular = regular_run(final, Y, None, x_init, x_star, _protocol.validated(flow.T, **settings["arms"][names[0]]))
    out = {"model": model, "k": k, "training_seed": training_seed, "arms": {}}
    for arm_name in names:
        protocol = _protocol.validated(flow.T, **settings["arms"][arm_name])
        surfed, budget = surfing_run(flow, Y, None, x_init, x_star, protocol, regular)
        runs = {"regular": regular, "surfing": surfed}
        record = {"budget": budget}
        for method in ("regular", "surfing"):
            result = runs[method]
            record |= {f"distance_{method}": np.linalg.norm(result.x - x_star, axis=1).tolist(),
                       f"total_steps_{method}": result.total_steps.tolist(),
                       f"iterations_{method}": steps_to_target(result).tolist(),
                       f"stop_{method}": _failures.stop_reasons(result, protocol["max_steps"])}
        if arm_name == "default":
            X, spent, count = _protocol.restarted(final, Y, None, regular, surfed.total_steps, rng, protocol)
            record |= {"distance_restarts": np.linalg.norm(X - x_star, axis=1).tolist(),
                       "total_steps_restarts": spent.tolist(), "runs_restarts": count.tolist()}
            record["sigma_min"] = _failures.smallest_singular_values(final, x_star).tolist()
            if settings["classify"]:
                def objective(i):
                    return L.Objective(final, Y[i])

                for method, iterates in (("regular", None), ("surfing", surfed.iterates)):
                    failed = np.asarray(record[f"distance_{method}"]) >= SUCCESS_RADIUS
                    record[f"failures_{method}"] = classify_failures(objective, runs[method].x, x_star, failed,
                                                                     settings["polish_limit"], iterates)
        out["arms"][arm_name] = record
    return out


def per_arm(records: list[dict]) -> list[dict]:
    """The journal's records (one per cell and group of arms) as one record per cell and arm, group by group."""
    return [{"model": r["model"], "k": r["k"], "training_seed": r["training_seed"], "arm": name} | record
            for r in records for name, record in r["arms"].items()]


def _successes(records: list[dict], method: str) -> np.ndarray:
    return np.concatenate([np.asarray(r[f"distance_{method}"]) < SUCCESS_RADIUS for r in records])


def summarise(records: list[dict], arms: dict, models, ks) -> tuple[list[dict], list[dict]]:
    """Per (model, k, arm) rows with Holm-adjusted p-values over the whole family, and the verdict table."""
    rows, tests = [], []  # tests: (row index, field, p)
    for model in models:
        for k in ks:
            cell = [r for r in records if r["model"] == model and r["k"] == k]
            default = [r for r in cell if r["arm"] == "default"]
            base = {m: _successes(default, m) for m in ("regular", "surfing")}
            for arm, overrides in arms.items():
                mine = [r for r in cell if r["arm"] == arm]
                won = {m: _successes(mine, m) for m in ("regular", "surfing")}
                row = {"model": model, "k": k, "arm": arm, "settings": overrides, "trials": int(len(won["surfing"])),
                       "training_seeds": [r["training_seed"] for r in mine],
                       "regular": rate(won["regular"]), "surfing": rate(won["surfing"]),
                       "budgets": [r["budget"] for r in mine],
                       "iterations_p75_regular": float(np.percentile(np.concatenate([r["iterations_regular"]
                                                                                     for r in mine]), 75)),
                       "iterations_p75_surfing": float(np.percentile(np.concatenate([r["iterations_surfing"]
                                                                                     for r in mine]), 75))}
                within = paired(won["regular"], won["surfing"])
                row["surfing_minus_regular"] = row["surfing"]["rate"] - row["regular"]["rate"]
                row["within"] = within
                tests.append((len(rows), "within", within["mcnemar_p"]))
                if arm != "default":
                    against = paired(base["surfing"], won["surfing"])
                    row["surfing_minus_default"] = row["surfing"]["rate"] - float(np.mean(base["surfing"]))
                    row["surfing_against_default"] = against
                    tests.append((len(rows), "surfing_against_default", against["mcnemar_p"]))
                    if any(name in overrides for name in CHANGES_REGULAR):
                        moved = paired(base["regular"], won["regular"])
                        row["regular_minus_default"] = row["regular"]["rate"] - float(np.mean(base["regular"]))
                        row["regular_against_default"] = moved
                        tests.append((len(rows), "regular_against_default", moved["mcnemar_p"]))
                else:
                    won_restarts = _successes(mine, "restarts")
                    against = paired(won_restarts, won["surfing"])
                    row["restarts"] = rate(won_restarts) | {
                        "against_surfing": against,
                        "runs_median": float(np.median(np.concatenate([r["runs_restarts"] for r in mine]))),
                        "total_steps_p75": float(np.percentile(np.concatenate([r["total_steps_restarts"]
                                                                               for r in mine]), 75))}
                    row["surfing_minus_restarts"] = row["surfing"]["rate"] - row["restarts"]["rate"]
                    tests.append((len(rows), "restarts", against["mcnemar_p"]))
                    row["failures"] = failure_summary(mine, won)
                rows.append(row)
    for (index, field, _), adjusted in zip(tests, holm([p for _, _, p in tests])):
        target = rows[index]["restarts"]["against_surfing"] if field == "restarts" else rows[index][field]
        target["holm_p"] = adjusted
    return rows, _verdicts(rows, arms, models)


def _significant(test: dict) -> bool:
    return test["holm_p"] < ALPHA


def _verdicts(rows: list[dict], arms: dict, models) -> list[dict]:
    """For each explanation (and the restarts baseline), per model at the largest k: supported, not supported, or
    nothing to explain (no deficit under the default protocol)."""
    k_high = max(r["k"] for r in rows)
    by = {(r["model"], r["k"], r["arm"]): r for r in rows}
    table = []
    for explanation, tested in EXPLANATIONS.items():
        tested = [arm for arm in tested if arm in arms]
        if not tested:
            continue
        per_model = {}
        for model in models:
            default = by[(model, k_high, "default")]
            deficit = default["surfing_minus_regular"] < 0 and _significant(default["within"])
            removed = [arm for arm in tested
                       if by[(model, k_high, arm)]["surfing_minus_default"] > 0
                       and _significant(by[(model, k_high, arm)]["surfing_against_default"])
                       and not (by[(model, k_high, arm)]["surfing_minus_regular"] < 0
                                and _significant(by[(model, k_high, arm)]["within"]))]
            per_model[model] = {"deficit": deficit, "removed_by": removed,
                                "verdict": ("supported" if removed else "not supported") if deficit
                                else "no deficit to explain",
                                "arms": {arm: {"regular": by[(model, k_high, arm)]["regular"]["rate"],
                                               "surfing": by[(model, k_high, arm)]["surfing"]["rate"],
                                               "within_holm_p": by[(model, k_high, arm)]["within"]["holm_p"],
                                               "against_default_holm_p":
                                                   by[(model, k_high, arm)]["surfing_against_default"]["holm_p"]}
                                         for arm in tested}}
        table.append({"explanation": explanation, "k": k_high, "arms": tested, "per_model": per_model})
    restarts = {}
    for model in models:
        default = by[(model, k_high, "default")]
        beaten = default["surfing_minus_restarts"] > 0 and _significant(default["restarts"]["against_surfing"])
        losing = default["surfing_minus_restarts"] < 0 and _significant(default["restarts"]["against_surfing"])
        restarts[model] = {"surfing": default["surfing"]["rate"], "restarts": default["restarts"]["rate"],
                           "holm_p": default["restarts"]["against_surfing"]["holm_p"],
                           "verdict": "surfing better" if beaten else "restarts better" if losing
                           else "no significant difference"}
    table.append({"explanation": "surfing beats regular Adam restarted within the same steps", "k": k_high,
                  "arms": ["default"], "per_model": restarts})
    return table


def run(models=MODELS, ks=(20, 5), training_seeds=(0, 1, 2), trials: int = 300, T: int = 100, every: int = 40,
        layout: str = "infogan", dataset: str = "digits", hidden=None, arms: dict | None = None, classify: bool = True,
        polish_limit: int | None = None, flows_dir=None, seed: int = 0, workers: int | None = None,
        journal: Path | None = None, progress: bool = False) -> CheckResult:
    """The ablation: every (model, k, training seed) cell × every group of arms sharing regular Adam is one trial.

    Parameters
    ----------
    models, ks, training_seeds, trials, T, every, layout, dataset, hidden
        The cells, as :func:`proofs_check.table1.run` (flows cached in ``flows_dir`` and shared with it); they run k
        by k in the order of ``ks``, k = 20 first by default, so an interrupted ablation has whole latent dimensions.
    arms : dict, optional
        Arm name → protocol settings changed from the default (:data:`ARMS` by default; the ``default`` arm is
        always run). ``--set 'arms={"default": {}, "lr 0.001": {"lr": 0.001}}'`` from the shell.
    classify, polish_limit
        Classify the default arm's failed runs exactly, up to ``polish_limit`` per method and cell (None: all).
    flows_dir, seed, workers, journal, progress
        As :func:`proofs_check.table1.run`; the draws of a cell depend on ``seed`` and the cell only.
    """
    models, ks, training_seeds = cells_of(models, ks, training_seeds)
    for name, value in (("trials", trials), ("T", T), ("every", every)):
        validate.positive_int(value, name)
    validate.boolean(classify, "classify")
    if polish_limit is not None:
        validate.positive_int(polish_limit, "polish_limit")
    arms = _arms(ARMS if arms is None else arms, T)
    if flows_dir is None:
        flows_dir = Path(__file__).parent / "out" / "flows"
    cells = [[m, k, s] for k in ks for m in models for s in training_seeds]  # run in this order: k by k
    settings = {"cells": cells, "arms": arms, "trials_per_cell": int(trials), "T": int(T), "every": int(every),
                "layout": layout, "dataset": str(dataset), "classify": classify, "polish_limit": polish_limit,
                "draw_seed": int(seed), "flows_dir": str(flows_dir)}
    hidden = checked_hidden(hidden)
    if hidden is not None:  # only then: journals of the default generator keep their settings
        settings["hidden"] = hidden
    for model, k, training_seed in cells:  # trained here, once, not by several workers at a time
        trained(settings, model, k, training_seed, progress)
    groups = regular_groups(arms)
    records = per_arm(run_trials(_trial, len(cells) * len(groups), seed, settings, workers, journal,
                                 "table1_ablation" if progress else None,
                                 costs=[k * (1 + len(group) + 2 * ("default" in group)) for _, k, _ in cells
                                        for group in groups]))
    rows, verdicts = summarise(records, arms, models, ks)
    k_high = max(ks)
    supported = sorted({v["explanation"] for v in verdicts[:-1]
                        for m in v["per_model"].values() if m["verdict"] == "supported"})
    deficits = [r["model"] for r in rows if r["k"] == k_high and r["arm"] == "default"
                and r["surfing_minus_regular"] < 0 and _significant(r["within"])]
    lines = "; ".join(f"{r['model']} k={r['k']} {r['arm']}: regular {100 * r['regular']['rate']:.1f} % "
                      f"{interval_text(r['regular']['ci95'])} → surfing {100 * r['surfing']['rate']:.1f} % "
                      f"{interval_text(r['surfing']['ci95'])}" for r in rows if r["k"] == k_high)
    verdict = (f"At k = {k_high}, surfing is significantly worse than regular Adam under the default protocol for "
               f"{', '.join(deficits) or 'no model'}. "
               + (f"Explanations supported (an arm removes the deficit, Holm-adjusted): {'; '.join(supported)}. "
                  if supported else "No arm removes the deficit: none of the protocol explanations is supported. ")
               + f"{len(training_seeds)} training seed(s) × {trials} trials per cell; {data_description(dataset)}. {lines}.")
    return CheckResult(check="table1_ablation", claim=CLAIM, settings=settings, seed=seed,
                       statistics={"per_arm": rows, "verdicts": verdicts}, holds=bool(supported), verdict=verdict,
                       records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """WGAN-GP only, k = 5, one training seed, 30 trials, T = 25 snapshots every 40 updates (the quick Table 1 flow),
    four arms (default, lr 0.001, no stall rule, start at θ_5): the code paths in a minute, not the answer."""
    return run(models=("wgangp",), ks=(5,), training_seeds=(0,), trials=30, T=25, every=40,
               arms={"default": {}, "lr 0.001": {"lr": 0.001}, "no stall rule": {"stall_window": None},
                     "start at θ_5": {"first_snapshot": 5}},
               seed=seed, workers=workers, journal=journal, progress=progress, flows_dir=flows_dir)
