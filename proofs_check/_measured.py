r"""The compressed-sensing experiments of §4 (Figures 3 and 4): surfing against regular Adam on
:math:`f(x) = \tfrac12\|A G(x, \theta_T) - A y\|^2` with a Gaussian A on real training flows.

Shared by :mod:`proofs_check.compressed_sensing` (y = G(x*), exact recovery, Figure 3) and
:mod:`proofs_check.rate_distortion` (y a held-out image, per-pixel error, Figure 4).

One runner trial is one (model, m, training seed) cell. Its ``trials`` inversions are split into ``matrices``
groups; each group draws its own :math:`A \in \mathbb R^{m \times n}` with i.i.d. :math:`\mathcal N(0, 1/m)` entries,
so a cell's rate averages over measurement matrices as well as targets. Both methods start from the same
:math:`x_{init} \sim U[-1, 1]^k`, see the same A and y, and use the stopping rule of :mod:`proofs_check.table1`;
surfing's budget on θ_0 … θ_{T−1} is the 75th percentile of the cell's regular-Adam iteration counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

import landscape as L
from landscape import _validate

from ._result import CheckResult
from ._runner import run_trials
from ._stats import mcnemar_exact, wilson_interval
from .table1 import SUCCESS_RADIUS, flow_directory, iterations

TARGETS = ("range", "heldout")


def _flow(settings: dict, model: str, training_seed: int, progress: bool = False):
    from landscape.training import train_flow

    directory = flow_directory(settings["flows_dir"], model, settings["k"], settings["T"], settings["every"],
                               training_seed, settings["layout"])
    return train_flow(model, directory, k=settings["k"], T=settings["T"], every=settings["every"],
                      layout=settings["layout"], dataset=settings["dataset"], seed=training_seed,
                      progress=progress).flow


def _per_pixel_error(net: L.ReLUNet, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    r""":math:`\sqrt{\|G(\hat x_T) - y\|^2 / n}` per inversion (Bora et al. 2017)."""
    return np.sqrt(np.mean((net.forward(X) - Y) ** 2, axis=1))


def trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    """One (model, m, training seed) cell: ``trials`` inversions by regular Adam and by surfing."""
    model, m, training_seed = settings["cells"][index]
    flow = _flow(settings, model, training_seed)
    final, k = flow[flow.T], settings["k"]
    n, trials = final.output_dim, settings["trials_per_cell"]
    rng = np.random.default_rng(seed)
    groups = np.array_split(np.arange(trials), settings["matrices"])
    matrices = [rng.normal(0.0, 1.0 / np.sqrt(m), (m, n)) for _ in groups]
    x_init = rng.uniform(-1, 1, (trials, k))
    if settings["target"] == "range":
        x_star = rng.uniform(-1, 1, (trials, k))
        Y = final.forward(x_star)
    else:
        images = L.datasets.load(settings["dataset"]).flat("test")
        chosen = rng.choice(len(images), trials, replace=trials > len(images))
        x_star, Y = None, images[chosen]
    options = dict(lr=settings["lr"], tol=settings["tol"], max_steps=settings["max_steps"],
                   stall_window=settings["stall_window"], stall_tol=settings["stall_tol"], radius=SUCCESS_RADIUS)

    def each_group(method, **extra):
        results = [method(A=A, y=Y[rows], x0=x_init[rows], x_star=None if x_star is None else x_star[rows],
                          **options, **extra) for rows, A in zip(groups, matrices)]
        X = np.concatenate([r.x for r in results])
        steps = np.concatenate([iterations(r) if x_star is not None else r.total_steps for r in results])
        return X, steps

    X_regular, steps_regular = each_group(lambda **kw: L.regular_descent(final, **kw))
    budget = int(np.percentile(steps_regular, 75))
    X_surfing, steps_surfing = each_group(lambda **kw: L.surf(flow, reset_moments=settings["reset_moments"], **kw),
                                          budget=budget)
    record = {
        "model": model, "m": m, "training_seed": training_seed, "budget": budget,
        "error_regular": _per_pixel_error(final, X_regular, Y).tolist(),
        "error_surfing": _per_pixel_error(final, X_surfing, Y).tolist(),
        "iterations_regular": steps_regular.tolist(), "iterations_surfing": steps_surfing.tolist(),
    }
    if x_star is not None:
        record["distance_regular"] = np.linalg.norm(X_regular - x_star, axis=1).tolist()
        record["distance_surfing"] = np.linalg.norm(X_surfing - x_star, axis=1).tolist()
    else:
        record["images"] = chosen.tolist()
    return record


def _quartiles(values: np.ndarray) -> list[float]:
    return [float(q) for q in np.percentile(values, [25, 50, 75])]


def summary(model: str, m: int, records: list[dict]) -> dict:
    """Pooled over a (model, m) setting's training seeds."""
    error = {name: np.concatenate([r[f"error_{name}"] for r in records]) for name in ("regular", "surfing")}
    difference = error["surfing"] - error["regular"]
    nonzero = np.abs(difference) > 1e-9 * (1 + np.abs(error["regular"]))
    p_error = float(wilcoxon(difference[nonzero]).pvalue) if nonzero.sum() >= 10 else 1.0
    row = {
        "model": model, "m": m, "trials": int(len(difference)), "training_seeds": [r["training_seed"] for r in records],
        "budgets": [r["budget"] for r in records],
        "error_quartiles_regular": _quartiles(error["regular"]), "error_quartiles_surfing": _quartiles(error["surfing"]),
        "surfing_lower_error": int(np.sum(nonzero & (difference < 0))),
        "regular_lower_error": int(np.sum(nonzero & (difference > 0))),
        "wilcoxon_p": p_error,
        "iterations_p75_regular": float(np.percentile(np.concatenate([r["iterations_regular"] for r in records]), 75)),
        "iterations_p75_surfing": float(np.percentile(np.concatenate([r["iterations_surfing"] for r in records]), 75)),
    }
    if all("distance_regular" in r for r in records):
        regular = np.concatenate([r["distance_regular"] for r in records]) < SUCCESS_RADIUS
        surfing = np.concatenate([r["distance_surfing"] for r in records]) < SUCCESS_RADIUS
        n = len(regular)
        only_regular, only_surfing = int(np.sum(regular & ~surfing)), int(np.sum(surfing & ~regular))
        row |= {"regular_rate": float(regular.mean()), "regular_ci95": list(wilson_interval(int(regular.sum()), n)),
                "surfing_rate": float(surfing.mean()), "surfing_ci95": list(wilson_interval(int(surfing.sum()), n)),
                "only_regular": only_regular, "only_surfing": only_surfing,
                "mcnemar_p": mcnemar_exact(only_regular, only_surfing)}
        row["verdict"] = _direction(row["surfing_rate"] - row["regular_rate"], row["mcnemar_p"], "recovers more often")
    else:
        row["verdict"] = _direction(-float(np.median(difference)), p_error, "lower error")
    return row


def _direction(gain: float, p_value: float, what: str) -> str:
    if p_value < 0.05 and gain > 0:
        return f"surfing {what}"
    if p_value < 0.05 and gain < 0:
        return f"regular Adam {what}"
    return "no significant difference"


def run_cells(target: str, models, k: int, measurements, training_seeds, trials: int, matrices: int, T: int, every: int,
        layout: str, dataset: str, lr: float, tol: float, max_steps: int, stall_window: int, stall_tol: float,
        reset_moments: bool, flows_dir, seed: int, workers, journal, progress: bool) -> tuple[dict, list[dict], list[dict]]:
    """Validate, train (or read) the flows in this process, then run every cell through the runner.

    Returns the settings, the per-cell records and the per-(model, m) summaries."""
    from landscape.training import MODELS as TRAINABLE

    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    models, training_seeds = list(models), [int(s) for s in training_seeds]
    unknown = [name for name in models if name not in TRAINABLE]
    if unknown or not models:
        raise ValueError(f"models must be a non-empty list from {', '.join(TRAINABLE)}; got {models}")
    if not training_seeds:
        raise ValueError("training_seeds must not be empty")
    for name, value in (("k", k), ("trials", trials), ("matrices", matrices), ("T", T), ("every", every),
                        ("max_steps", max_steps), ("stall_window", stall_window)):
        _validate.positive_int(value, name)
    if matrices > trials:
        raise ValueError(f"matrices ({matrices}) must not exceed trials ({trials}): each matrix needs a trial")
    n = L.datasets.load(dataset).n_pixels
    measurements = [int(m) for m in measurements]
    if not measurements or any(m < 1 or m > n for m in measurements):
        raise ValueError(f"measurements must be numbers m of rows of A in 1..n = {n} (the images' pixels); "
                         f"got {measurements}")
    if flows_dir is None:
        flows_dir = Path(__file__).parent / "out" / "flows"
    settings = {"target": target, "cells": [[model, m, s] for model in models for m in measurements for s in training_seeds],
                "k": int(k), "trials_per_cell": int(trials), "matrices": int(matrices), "T": int(T),
                "every": int(every), "layout": layout, "dataset": str(dataset), "lr": float(lr), "tol": float(tol),
                "max_steps": int(max_steps), "stall_window": int(stall_window), "stall_tol": float(stall_tol),
                "reset_moments": bool(reset_moments), "flows_dir": str(flows_dir)}
    for model in models:  # here, not in the workers: cells of one model share its flow
        for training_seed in training_seeds:
            _flow(settings, model, training_seed, progress)
    records = run_trials(trial, len(settings["cells"]), seed, settings, workers, journal,
                         target if progress else None)
    summaries = [summary(model, m, [r for r in records if r["model"] == model and r["m"] == m])
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
            dataset: str = "digits", lr: float = 0.01, tol: float = 1e-6, max_steps: int = 20_000,
            stall_window: int = 100, stall_tol: float = 1e-6, reset_moments: bool = False, flows_dir=None,
            seed: int = 0, workers: int | None = None, journal: Path | None = None,
            progress: bool = False) -> CheckResult:
        settings, records, summaries = run_cells(
            target, models, k, measurements, training_seeds, trials, matrices, T, every, layout, dataset, lr, tol,
            max_steps, stall_window, stall_tol, reset_moments, flows_dir, seed, workers, journal, progress)
        scale = (f"{len(settings['cells']) // len(summaries)} training seed(s) × {trials} trials per setting, k = {k}; "
                 "8×8 digits, not Fashion-MNIST")
        holds, verdict = _verdict(summaries, scale, *phrases, describe)
        return CheckResult(check=name, claim=claim, settings=settings, seed=seed,
                           statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records)

    run.__doc__ = f"""Figure {3 if target == "range" else 4} on flows trained here ({"y = G(x*)" if target == "range"
        else "held-out images y, drawn uniformly per trial from the dataset's test part"}): every (model, m,
        training seed) cell is one trial of the runner.

        Parameters
        ----------
        models, k, T, every, layout, dataset, training_seeds
            The generators (trained with :func:`landscape.training.train_flow`, cached in ``flows_dir``).
        measurements : sequence of int
            The numbers m of rows of A, each in 1..n.
        trials, matrices
            Inversions per cell, and how many independent A they are split over.
        lr, tol, max_steps, stall_window, stall_tol, reset_moments
            Adam and the stopping rule, as :func:`proofs_check.table1.run`.
        flows_dir, seed, workers, journal, progress
            As :func:`proofs_check.table1.run`.
        """
    return run
