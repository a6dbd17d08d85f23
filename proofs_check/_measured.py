r"""The compressed-sensing experiments of §4 (Figures 3 and 4): surfing against regular Adam on
:math:`f(x) = \tfrac12\|A G(x, \theta_T) - A y\|^2` with a Gaussian A on real training flows.

Shared by :mod:`proofs_check.compressed_sensing` (y = G(x*), exact recovery, Figure 3) and
:mod:`proofs_check.rate_distortion` (y a held-out image, per-pixel error, Figure 4).

One runner trial is one (model, m, training seed) cell. Its ``trials`` inversions are split into ``matrices``
groups; each group draws its own :math:`A \in \mathbb R^{m \times n}` with i.i.d. :math:`\mathcal N(0, 1/m)` entries,
so a cell's rate averages over measurement matrices as well as targets. Both methods start from the same
:math:`x_{init} \sim U[-1, 1]^k`, see the same A and y, and follow Table 1's protocol (:mod:`proofs_check._protocol`):
surfing's budget on θ_0 … θ_{T−1} is, as in Table 1, the 75th percentile of the cell's regular-Adam iteration
counts to convergence (``budget_statistic`` changes it). With y = G(x*), failed runs are classified as in Table 1
(:mod:`proofs_check._failures`, up to ``polish_limit`` per method and cell), and every trial records the rule that
ended each run and :math:`\sigma_{\min}(A J(x_*))`. A cell's record keeps both methods' end points
(``end_regular``, ``end_surfing``) and, with y = G(x*), x* (``x_star``), for analyses after the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

import landscape as L
from landscape import jsonsafe, validate

from . import _failures, _optimum, _protocol, _stages
from ._protocol import SUCCESS_RADIUS, steps_to_target
from ._result import CheckResult
from ._runner import comparable_header, open_recorded, recorded_journal, run_trials
from ._stats import quartiles, wilson_interval
from .table1 import (METHODS, cells_of, checked_hidden, classify_failures, data_description, failure_summary, joined,
                     paired, surfing_budget, trained)

TARGETS = ("range", "heldout")
ENGINES = ("jax", "numpy")
"""Where a cell's descents run: the compiled JAX loop (default; a group of 20 inversions runs its steps about 3×
faster than NumPy once compiled) or NumPy (faster for tiny runs, whose compilation would not pay)."""


def _per_pixel_error(net: L.ReLUNet, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    r""":math:`\sqrt{\|G(\hat x_T) - y\|^2 / n}` per inversion (Bora et al. 2017)."""
    return np.sqrt(np.mean((net.forward(X) - Y) ** 2, axis=1))


def _draws(seed: np.random.SeedSequence, settings: dict, m: int, n: int, held_out: int | None = None) -> tuple:
    """A cell's random draws, in order: its trials' split into matrix groups, one A per group, x_init, and x*
    (y = G(x*)) or the indices of the held-out images (``held_out`` of them, the test part of the data set)."""
    rng = np.random.default_rng(seed)
    trials, k = settings["trials_per_cell"], settings["k"]
    groups = np.array_split(np.arange(trials), settings["matrices"])
    matrices = [rng.normal(0.0, 1.0 / np.sqrt(m), (m, n)) for _ in groups]
    x_init = rng.uniform(-1, 1, (trials, k))
    if settings["target"] == "range":
        return groups, matrices, x_init, rng.uniform(-1, 1, (trials, k))
    return groups, matrices, x_init, rng.choice(held_out, trials, replace=trials > held_out)


def trial(index: int, seed: np.random.SeedSequence, settings: dict, stages: _stages.Stages | None = None) -> dict:
    """One (model, m, training seed) cell: ``trials`` inversions by regular Adam and by surfing. Each matrix group's
    runs and every later stage are saved beside the journal as they finish (:mod:`proofs_check._stages`)."""
    stages = _stages.Stages() if stages is None else stages
    model, m, training_seed = settings["cells"][index]
    flow = trained(settings, model, settings["k"], training_seed)
    final, protocol = flow[flow.T], settings["protocol"]
    images = None if settings["target"] == "range" else L.datasets.load(settings["dataset"]).flat("test")
    groups, matrices, x_init, drawn = _draws(seed, settings, m, final.output_dim,
                                             None if images is None else len(images))
    if images is None:
        x_star, Y = drawn, final.forward(drawn)
    else:
        chosen, x_star, Y = drawn, None, images[drawn]
    options = _protocol.adam_options(protocol) | {"radius": SUCCESS_RADIUS, "engine": settings.get("engine", "numpy")}

    def per_group(name, method, **extra):
        """``method`` on every matrix group (each group's runs saved as a stage), as one batch in trial order."""
        return joined([stages(f"{name} group {g}", lambda rows=rows, A=A: method(
            A=A, y=Y[rows], x0=x_init[rows], x_star=None if x_star is None else x_star[rows], **options, **extra))
            for g, (rows, A) in enumerate(zip(groups, matrices))])

    regular = per_group("regular", lambda **kw: L.regular_descent(final, **kw))
    budget = surfing_budget(regular, x_star, protocol)
    surfed = per_group("surfing", lambda **kw: L.surf(_protocol.surfed_flow(flow, protocol),
                                                      schedule=protocol["schedule"],
                                                      reset_moments=protocol["reset_moments"], **kw), budget=budget)
    runs = {"regular": regular, "surfing": surfed}
    record = {"model": model, "m": m, "training_seed": training_seed, "budget": budget}
    for method, run in runs.items():
        record |= {
            f"error_{method}": _per_pixel_error(final, run.x, Y).tolist(), f"end_{method}": run.x.tolist(),
            f"iterations_{method}": (steps_to_target(run) if x_star is not None else run.total_steps).tolist(),
            f"total_steps_{method}": run.total_steps.tolist(),
            f"stop_{method}": _failures.stop_reasons(run, protocol["max_steps"])}
    group_of = np.concatenate([np.full(len(rows), g) for g, rows in enumerate(groups)])  # each trial's matrix
    if x_star is None:
        record["images"] = chosen.tolist()
        if "certify" in settings:
            record["optimum"] = [stages(f"certified optimum {i}", lambda i=int(i): _optimum.certified_optimum(
                final, Y[i], matrices[group_of[i]], {method: runs[method].x[i] for method in METHODS},
                settings["certify"]["half_width"]) | {"trial": i})
                for i in _optimum.chosen_trials(groups, settings["certify"]["limit"])]
        return record
    record["sigma_min"] = stages("sigma_min", lambda: np.concatenate([
        _failures.smallest_singular_values(final, x_star[rows], A) for rows, A in zip(groups, matrices)]).tolist())
    record["x_star"] = x_star.tolist()
    for method, run in runs.items():
        record[f"distance_{method}"] = np.linalg.norm(run.x - x_star, axis=1).tolist()
    if settings["classify"]:
        def objective(i):
            return L.Objective(final, Y[i], matrices[group_of[i]])

        for method, run in runs.items():
            failed = np.asarray(record[f"distance_{method}"]) >= SUCCESS_RADIUS
            record[f"failures_{method}"] = stages(f"failures_{method}", lambda: classify_failures(
                objective, run.x, x_star, failed, settings["polish_limit"],
                run.iterates if method == "surfing" else None))
    return record


def summary(model: str, m: int, records: list[dict]) -> dict:
    """Pooled over a (model, m) setting's training seeds. Cells read from stage checkpoints
    (:func:`staged_cells`) have no per-pixel errors; where any cell lacks them, so does the summary."""
    row = {
        "model": model, "m": m, "trials": sum(len(r["iterations_regular"]) for r in records),
        "training_seeds": [r["training_seed"] for r in records], "budgets": [r["budget"] for r in records],
        "iterations_p75_regular": float(np.percentile(np.concatenate([r["iterations_regular"] for r in records]), 75)),
        "iterations_p75_surfing": float(np.percentile(np.concatenate([r["iterations_surfing"] for r in records]), 75)),
        "from_stages": sum(bool(r.get("from_stages")) for r in records),
    }
    if all("error_regular" in r for r in records):
        error = {name: np.concatenate([r[f"error_{name}"] for r in records]) for name in METHODS}
        difference = error["surfing"] - error["regular"]
        nonzero = np.abs(difference) > 1e-9 * (1 + np.abs(error["regular"]))
        row |= {"error_quartiles_regular": quartiles(error["regular"]),
                "error_quartiles_surfing": quartiles(error["surfing"]),
                "surfing_lower_error": int(np.sum(nonzero & (difference < 0))),
                "regular_lower_error": int(np.sum(nonzero & (difference > 0))),
                "wilcoxon_p": float(wilcoxon(difference[nonzero]).pvalue) if nonzero.sum() >= 10 else 1.0}
    if all("distance_regular" in r for r in records):
        won = {method: np.concatenate([r[f"distance_{method}"] for r in records]) < SUCCESS_RADIUS for method in METHODS}
        n = len(won["regular"])
        test = paired(won["regular"], won["surfing"])
        row |= {"regular_rate": float(won["regular"].mean()),
                "regular_ci95": list(wilson_interval(int(won["regular"].sum()), n)),
                "surfing_rate": float(won["surfing"].mean()),
                "surfing_ci95": list(wilson_interval(int(won["surfing"].sum()), n)),
                "only_regular": test["only_first"], "only_surfing": test["only_second"], "mcnemar_p": test["mcnemar_p"],
                "failures": failure_summary(records, won)}
        row["verdict"] = _direction(row["surfing_rate"] - row["regular_rate"], row["mcnemar_p"], "recovers more often")
    else:
        row["verdict"] = _direction(-float(np.median(difference)), row["wilcoxon_p"], "lower error")
    if all("optimum" in r for r in records):
        row["optimum"] = _optimum.summary([entry for r in records for entry in r["optimum"]])
    return row


def journal_statistics(*paths) -> dict:
    """Figure 3's or Figure 4's per-setting summaries (as the check's ``run`` reports them) from the trial journals
    of one or more runs, plain or gzip-compressed (``results/*.jsonl.gz``), or from exports of :func:`staged_cells`
    (``*.json`` or ``*.json.gz``): every finished cell, grouped by (model, m) and pooled over training seeds.

    Journals of runs on the same target kind combine (one model per run, say); a cell found twice, a journal of
    the other figure and a file that is not a figure's journal are refused with its path named. Returns
    ``{"target": "range" | "heldout", "per_setting": [...]}``.
    """
    if not paths:
        raise ValueError("journal_statistics needs at least one journal path")
    cells, target = {}, None
    for path in map(Path, paths):
        header, entries = _recorded(path)
        run_settings = None if header is None else header.get("settings")
        if not isinstance(run_settings, dict) or run_settings.get("target") not in TARGETS:
            raise ValueError(f"journal {str(path)!r} is not a journal of Figure 3 or 4 (its header names no target "
                             f"among {TARGETS})")
        if target is not None and run_settings["target"] != target:
            raise ValueError(f"journal {str(path)!r} is of target {run_settings['target']!r}, the others of "
                             f"{target!r}: Figure 3's and Figure 4's journals do not combine")
        target = run_settings["target"]
        for record in entries.values():
            if "end_regular" not in record:
                raise ValueError(f"journal {str(path)!r} holds a record that is not a cell of Figure 3 or 4")
            key = (record["model"], int(record["m"]), int(record["training_seed"]))
            if key in cells:
                raise ValueError(f"journal {str(path)!r} holds the cell (model, m, training seed) = {key} again")
            cells[key] = record
    settings = sorted({(model, m) for model, m, _ in cells})
    return {"target": target,
            "per_setting": [summary(model, m, [cells[key] for key in sorted(cells) if key[:2] == (model, m)])
                            for model, m in settings]}


def staged_cells(journal) -> dict:
    r"""Figure 3's cells of a run that stopped after their inversions, read without the networks: every finished
    cell of ``journal`` and, for each unfinished cell whose stage checkpoints (``<journal>.stages/``) hold both
    methods' runs on every matrix group and σ_min, the fields of its record that need no network — x* (drawn again
    from the run's seed), both methods' end points, distances to x*, steps and stop rules, surfing's budget and
    σ_min(A J(x*)) — marked ``"from_stages": True``. Per-pixel errors and failure classes need θ_T: those cells
    have none.

    For a run whose flow cannot leave the machine that trained it (a GPU lent for a limited time): its journal and
    checkpoints carry Figure 3's recovery rates away. Returns ``{"header": ..., "cells": [{"trial": t, "record":
    ...}, ...], "unfinished": [...]}`` (the cells with neither a record nor complete checkpoints), which
    :func:`journal_statistics` reads as it reads a journal once written as JSON (plain or gzip-compressed).
    """
    journal = Path(journal)
    header, finished = recorded_journal(journal)
    settings = None if header is None else header.get("settings")
    if not isinstance(settings, dict) or settings.get("target") != "range":
        raise ValueError(f"journal {str(journal)!r} is not a journal of Figure 3 (its header names no target "
                         "'range'); only y = G(x*) has fields that need no network")
    children = np.random.SeedSequence(header["seed"]).spawn(header["n_trials"])
    n = L.datasets.load(settings["dataset"]).n_pixels
    cells, unfinished = [], []
    for index, (model, m, training_seed) in enumerate(settings["cells"]):
        if index in finished:
            cells.append({"trial": index, "record": finished[index]})
            continue
        saved = _stages.Stages(_stages.path_of(_stages.directory_of(journal), index),
                               [comparable_header(header), index]).saved
        names = [f"{method} group {g}" for method in METHODS for g in range(settings["matrices"])]
        if any(name not in saved for name in names + ["sigma_min"]):
            unfinished.append(index)
            continue
        groups, _, _, x_star = _draws(children[index], settings, m, n)
        runs = {method: joined([saved[f"{method} group {g}"][0] for g in range(len(groups))]) for method in METHODS}
        record = {"model": model, "m": m, "training_seed": training_seed, "from_stages": True,
                  "budget": surfing_budget(runs["regular"], x_star, settings["protocol"])}
        for method, run in runs.items():
            record |= {f"end_{method}": run.x.tolist(), f"iterations_{method}": steps_to_target(run).tolist(),
                       f"total_steps_{method}": run.total_steps.tolist(),
                       f"stop_{method}": _failures.stop_reasons(run, settings["protocol"]["max_steps"]),
                       f"distance_{method}": np.linalg.norm(run.x - x_star, axis=1).tolist()}
        record |= {"sigma_min": [float(s) for s in saved["sigma_min"][0]], "x_star": x_star.tolist()}
        cells.append({"trial": index, "record": record})
    return {"header": header, "cells": cells, "unfinished": unfinished}


def _recorded(path: Path) -> tuple[dict | None, dict[int, dict]]:
    """The header and the cells by trial index of a journal (JSON lines) or of an export of :func:`staged_cells`
    (one JSON object, ``*.json`` or ``*.json.gz``), plain or gzip-compressed."""
    if not path.name.endswith((".json", ".json.gz")):
        return recorded_journal(path)
    try:
        with open_recorded(path) as handle:
            content = jsonsafe.decode(json.load(handle))
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise ValueError(f"journal {str(path)!r} cannot be read as JSON: {exc}") from None
    if (not isinstance(content, dict) or not isinstance(content.get("cells"), list)
            or not all(isinstance(c, dict) and {"trial", "record"} <= c.keys() for c in content["cells"])):
        raise ValueError(f"journal {str(path)!r} is not an export of staged_cells (a JSON object with 'header' and "
                         "'cells', each cell a trial and its record)")
    header = content.get("header")
    return (header if isinstance(header, dict) else None), {int(c["trial"]): c["record"] for c in content["cells"]}


def _direction(gain: float, p_value: float, what: str) -> str:
    if p_value < 0.05 and gain > 0:
        return f"surfing {what}"
    if p_value < 0.05 and gain < 0:
        return f"regular Adam {what}"
    return "no significant difference"


def run_cells(target: str, models, k: int, measurements, training_seeds, trials: int, matrices: int, T: int, every: int,
              layout: str, dataset: str, protocol: dict, classify: bool, polish_limit, flows_dir, seed: int, workers,
              journal, progress: bool, hidden=None, engine: str = "jax", certify: bool = False,
              certify_limit: int | None = 20, certify_box: float = 1.0) -> tuple[dict, list[dict], list[dict]]:
    """Validate, train (or read) the flows in this process, then run every cell through the runner.

    Returns the settings, the per-cell records and the per-(model, m) summaries."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    models, (k,), training_seeds = cells_of(models, [k], training_seeds)
    for name, value in (("trials", trials), ("matrices", matrices), ("T", T), ("every", every)):
        validate.positive_int(value, name)
    if matrices > trials:
        raise ValueError(f"matrices ({matrices}) must not exceed trials ({trials}): each matrix needs a trial")
    validate.boolean(classify, "classify")
    if polish_limit is not None:
        validate.positive_int(polish_limit, "polish_limit")
    protocol = _protocol.validated(T, **protocol)
    if target == "heldout" and protocol["budget_statistic"] == "p75_to_target":
        raise ValueError("budget_statistic 'p75_to_target' needs x* (targets in the range of G); held-out images "
                         "have none")
    n = L.datasets.load(dataset).n_pixels
    if not measurements or any(isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1 or m > n
                               for m in measurements):
        raise ValueError(f"measurements must be numbers m of rows of A in 1..n = {n} (the images' pixels); "
                         f"got {list(measurements)}")
    if flows_dir is None:
        flows_dir = Path(__file__).parent / "out" / "flows"
    settings = {"target": target, "cells": [[model, int(m), s] for model in models for m in measurements
                                            for s in training_seeds],
                "k": k, "trials_per_cell": int(trials), "matrices": int(matrices), "T": int(T),
                "every": int(every), "layout": layout, "dataset": str(dataset), "protocol": protocol,
                "classify": classify and target == "range", "polish_limit": polish_limit, "flows_dir": str(flows_dir)}
    if layout not in ("infogan", "mlp"):
        raise ValueError(f"layout must be 'infogan' or 'mlp'; got {layout!r}")
    hidden = checked_hidden(hidden)
    if hidden is not None:  # only then: journals of the default generator keep their settings
        settings["hidden"] = hidden
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}")
    if engine != "numpy":  # journals written before the setting existed ran in NumPy and resume with engine="numpy"
        settings["engine"] = engine
    validate.boolean(certify, "certify")
    if certify:  # only then: journals written without it keep their settings
        if target != "heldout":
            raise ValueError("certify is for held-out targets (Figure 4): with y = G(x*), x* is a global minimiser "
                             "already (f = 0)")
        if certify_limit is not None:
            validate.positive_int(certify_limit, "certify_limit")
        half_width = validate.positive_scalar(certify_box, "certify_box", "certify_box (the half-width h of the "
                                              "box [-h, h]^k searched)")
        settings["certify"] = {"limit": certify_limit, "half_width": half_width}
    for model in models:  # here, not in the workers: cells of one model share its flow
        for training_seed in training_seeds:
            trained(settings, model, k, training_seed, progress)
    records = run_trials(trial, len(settings["cells"]), seed, settings, workers, journal,
                         target if progress else None)
    summaries = [summary(model, int(m), [r for r in records if r["model"] == model and r["m"] == m])
                 for model in models for m in measurements]
    return settings, records, summaries


def _verdict(summaries: list[dict], scale: str, better_phrase: str, worse_phrase: str, describe) -> tuple[bool, str]:
    better = [s for s in summaries if s["verdict"].startswith("surfing")]
    worse = [s for s in summaries if s["verdict"].startswith("regular")]
    holds = bool(better) and not worse
    return holds, (
        f"{better_phrase} in {len(better)} of {len(summaries)} settings, {worse_phrase} in {len(worse)}, no significant "
        f"difference in {len(summaries) - len(better) - len(worse)} ({scale}): "
        + "; ".join(describe(s) for s in summaries) + ". "
        + ("The paper's qualitative claim reproduces at these settings." if holds
           else "The paper's qualitative claim does not reproduce in every setting here."))


def check(target: str, name: str, claim: str, phrases: tuple[str, str], describe):
    """The ``run`` function of a check on ``target`` (see :mod:`proofs_check.compressed_sensing`)."""

    def run(models=("dcgan", "wgan"), k: int = 20, measurements=(10, 20, 30, 40, 50, 64), training_seeds=(0, 1, 2),
            trials: int = 200, matrices: int = 10, T: int = 100, every: int = 100, layout: str = "infogan",
            dataset: str = "digits", hidden=None, lr: float = 0.01, tol: float = 1e-6, max_steps: int = 20_000,
            stall_window: int | None = 100, stall_tol: float = 1e-6, reset_moments: bool = False,
            budget_statistic: str = "p75_total", schedule: str = "harmonic", snapshot_every: int = 1,
            first_snapshot: int = 0, classify: bool = True, polish_limit: int | None = 50, engine: str = "jax",
            certify: bool = False, certify_limit: int | None = 20, certify_box: float = 1.0,
            flows_dir=None, seed: int = 0, workers: int | None = None, journal: Path | None = None,
            progress: bool = False) -> CheckResult:
        protocol = dict(lr=lr, tol=tol, max_steps=max_steps, stall_window=stall_window, stall_tol=stall_tol,
                        reset_moments=reset_moments, budget_statistic=budget_statistic, schedule=schedule,
                        snapshot_every=snapshot_every, first_snapshot=first_snapshot)
        settings, records, summaries = run_cells(
            target, models, k, measurements, training_seeds, trials, matrices, T, every, layout, dataset, protocol,
            classify, polish_limit, flows_dir, seed, workers, journal, progress, hidden, engine, certify,
            certify_limit, certify_box)
        scale = (f"{len(settings['cells']) // len(summaries)} training seed(s) × {trials} trials per setting, k = {k}; "
                 f"{data_description(dataset)}")
        holds, verdict = _verdict(summaries, scale, *phrases, describe)
        return CheckResult(check=name, claim=claim, settings=settings, seed=seed,
                           statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records)

    run.__doc__ = f"""Figure {3 if target == "range" else 4} on flows trained here ({"y = G(x*)" if target == "range"
        else "held-out images y, drawn uniformly per trial from the dataset's test part"}): every (model, m,
        training seed) cell is one trial of the runner.

        Parameters
        ----------
        models, k, T, every, layout, dataset, hidden, training_seeds
            The generators (trained with :func:`landscape.training.train_flow`, cached in ``flows_dir``).
        measurements : sequence of int
            The numbers m of rows of A, each in 1..n.
        trials, matrices
            Inversions per cell, and how many independent A they are split over.
        lr, tol, max_steps, stall_window, stall_tol, reset_moments, budget_statistic, schedule, snapshot_every, first_snapshot
            The protocol's open choices, as :func:`proofs_check.table1.run` (:mod:`proofs_check._protocol`).
        classify, polish_limit
            With y = G(x*): classify failed runs exactly, up to ``polish_limit`` per method and cell (None: all).
        engine : {{"jax", "numpy"}}
            Where the descents run (:data:`proofs_check._measured.ENGINES`); the answers agree to rounding.
        certify, certify_limit, certify_box
            Held-out targets only: for ``certify_limit`` trials per cell (None: all), the certified global minimum
            of f over [−certify_box, certify_box]^k by branch and bound and each method's distance from it
            (:mod:`proofs_check._optimum`; small k only, larger searches are refused and recorded as such).
        flows_dir, seed, workers, journal, progress
            As :func:`proofs_check.table1.run`.
        """
    return run
