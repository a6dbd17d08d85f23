r"""The convexified CNN against the CNN it relaxes, on real 28×28 digits and their variations (seed 003).

The lecture notes (seed 003) report Zhang, Liang & Wainwright's test errors (%) on MNIST and four of its variations
(:data:`NOTES`): the convexified CNN (:mod:`landscape.ccnn`) below the ReLU CNN of the same shape at one and two
layers on all five. The CCNN's training problem is convex, the CNN's is not; this check measures both halves.

Every runner trial fits one model on one variation from one start:

- ``cnn1``, ``cnn2``: CNN-1 / CNN-2 with ReLU (:func:`landscape.ccnn.train_cnn`), Adam in mini-batches from a
  random initialisation (and batch order) drawn from the trial's seed;
- ``ccnn1``, ``ccnn2``: the CCNN with one / two layers (:meth:`landscape.ccnn.CCNN.fit`, full-batch accelerated
  projected gradient). Its random features come from ``feature_seed``, the same in every trial, so every start poses
  the same convex problems; start 0 is A = 0, start s > 0 a random point on the nuclear-norm ball's boundary. The
  ball's radius R is chosen from ``radii`` on a validation fifth of the training digits (the test digits play no
  part), as the original chose its hyper-parameters by validation; the CNNs train with one fixed recipe.

Start 0 of every (variation, model) gives the error table. On ``contrast_variant`` CNN-1 is also trained from
``starts`` − 1 further initialisations and CCNN-1 from ``ccnn_starts`` − 1 further starts: the landscape contrast.
The CNN's final training losses spread with the start; the CCNN's all lie within the certified duality gaps of one
optimum (:math:`L(\hat A) - L^* \le g(\hat A)`), so their spread is at most the largest gap.

Data: :func:`landscape.datasets.load_mnist5k` (4,000 training and 1,000 test digits, real MNIST; the first ``train``
training digits used), pixels p/255; each variation is :func:`landscape.ccnn.variant` of the images with a seed fixed
by ``variant_seed``, the same in every trial. The original benchmark (Larochelle et al. 2007) has 12,000 training
digits (10,000 and 2,000 for validation) and 50,000 test digits in every variation.

Statistics: each test error with its 95 % Wilson interval over the test digits; CCNN-l against CNN-l (start 0 of
each) on the same test digits by McNemar's exact test, Holm-adjusted over the family of comparisons.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from landscape import ccnn as C
from landscape import validate
from landscape.ccnn.patches import pooled_grid
from landscape.datasets import load_mnist5k

from ._result import CheckResult
from ._runner import recorded_journal, run_trials
from ._stats import holm, interval_text, mcnemar_exact, wilson_interval

MODELS = ("cnn1", "ccnn1", "cnn2", "ccnn2")
DEPTH = {"cnn1": 1, "ccnn1": 1, "cnn2": 2, "ccnn2": 2}
NOTES = {
    "cnn1": {"basic": 3.37, "rand": 9.83, "rot": 18.84, "img": 14.23, "img+rot": 45.96},
    "ccnn1": {"basic": 2.38, "rand": 7.45, "rot": 13.39, "img": 10.40, "img+rot": 42.28},
    "cnn2": {"basic": 2.11, "rand": 5.64, "rot": 8.27, "img": 10.17, "img+rot": 32.43},
    "ccnn2": {"basic": 1.38, "rand": 4.32, "rot": 6.98, "img": 7.46, "img+rot": 30.23},
}
"""The notes' test errors (%), from Zhang, Liang & Wainwright's Table 2."""

LAYERS = ({"patch": 5, "stride": 1, "pool": 4, "features": 256, "rank": 16},
          {"patch": 3, "stride": 1, "pool": 2, "features": 256, "rank": 16})
"""Layer 1 and layer 2 (the second used by the two-layer models): :class:`landscape.ccnn.LayerSpec` settings; the
nuclear-norm radius is chosen from ``radii`` by validation."""

RADII = (100.0, 400.0, 1600.0, 6400.0)
"""The nuclear-norm radii R the CCNN chooses from (the same R in every layer). With (25, 100, 400) every CCNN of the
full study chose 400, its validation error still falling steeply there for the two-layer models (rot: 31 % at
R = 100, 16 % at 400), so the grid reaches further; a choice at the grid's largest R is flagged
(``radius_at_edge``)."""

CLAIM = (
    "Seed 003 (lecture notes), after Zhang, Liang & Wainwright (2017): on MNIST and its rand, rot, img and img+rot "
    "variations the convexified CNN misclassifies fewer test digits than the ReLU CNN of the same shape, at one layer "
    "(CCNN-1 2.38 / 7.45 / 13.39 / 10.40 / 42.28 % against CNN-1 3.37 / 9.83 / 18.84 / 14.23 / 45.96 %) and at two "
    "(CCNN-2 1.38 / 4.32 / 6.98 / 7.46 / 30.23 % against CNN-2 2.11 / 5.64 / 8.27 / 10.17 / 32.43 %); and the CCNN's "
    "training is a convex problem, every start reaching the same optimum, where the CNN's depends on its start."
)


def _names(values, allowed, name: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or not values \
            or any(v not in allowed for v in values) or len(set(values)) != len(values):
        raise ValueError(f"{name} must be a non-empty list of distinct names from {list(allowed)}; got {values!r}")
    return list(values)


def _seed(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


def _radii(radii) -> list[float]:
    if isinstance(radii, (str, bytes)) or not isinstance(radii, (list, tuple)) or not radii:
        raise ValueError(f"radii must be a non-empty list of nuclear-norm radii > 0; got {radii!r}")
    return [validate.positive_scalar(R, "radii", "radii (nuclear-norm radii)") for R in radii]


def _layers(layers) -> list[dict]:
    if not isinstance(layers, (list, tuple)) or len(layers) != 2 or not all(isinstance(s, dict) for s in layers):
        raise ValueError("layers must be a list of two mappings of LayerSpec settings (layer 1, layer 2); "
                         f"got {layers!r}")
    out = []
    for depth, settings in enumerate(layers, start=1):
        if "radius" in settings:
            raise ValueError(f"layers[{depth - 1}] must not set radius: it is chosen from radii by validation")
        try:
            C.LayerSpec(**settings)
        except (TypeError, ValueError) as error:
            raise ValueError(f"layers[{depth - 1}] (layer {depth}): {error}") from None
        out.append(dict(settings))
    return out


def _specs(settings: dict, depth: int) -> tuple[C.LayerSpec, ...]:
    return tuple(C.LayerSpec(**layer) for layer in settings["layers"][:depth])


def _data(settings: dict, variant: str):
    """The variation's training and test digits (pixels in [0, 1]) and labels, the same in every trial."""
    data = load_mnist5k()
    index = C.VARIANTS.index(variant)
    train = np.clip((data.train[: settings["train"]] + 1) / 2, 0.0, 1.0)
    test = np.clip((data.test + 1) / 2, 0.0, 1.0)
    return (C.variant(train, variant, rng=np.random.default_rng([settings["variant_seed"], index, 0])),
            data.train_labels[: settings["train"]],
            C.variant(test, variant, rng=np.random.default_rng([settings["variant_seed"], index, 1])),
            data.test_labels)


def _fit_ccnn(settings: dict, specs: tuple[C.LayerSpec, ...], X, y, start, iterations: int) -> C.CCNN:
    return C.CCNN.fit(X, y, layers=specs, classes=10, tol=settings["ccnn_tol"], max_iterations=iterations,
                      rng=settings["feature_seed"], start=start)


def _chosen_radius(settings: dict, specs: tuple[C.LayerSpec, ...], X, y) -> tuple[float, list[float]]:
    """The nuclear-norm radius R (every layer's) of ``radii`` with the lowest error on the last fifth of the training
    digits when fitted (from A = 0) on the rest, and those validation errors; the only radius, unvalidated, if
    ``radii`` holds one. The test digits play no part."""
    radii = settings["radii"]
    if len(radii) == 1:
        return radii[0], []
    held = len(X) // 5
    errors = [_fit_ccnn(settings, tuple(replace(spec, radius=R) for spec in specs), X[:-held], y[:-held], None,
                        settings["validation_iterations"]).error(X[-held:], y[-held:]) for R in radii]
    return radii[int(np.argmin(errors))], errors


def trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    """One model fitted on one variation from one start; its test errors and training loss."""
    variant, model, start = settings["cells"][index]
    X, y, X_test, y_test = _data(settings, variant)
    specs = _specs(settings, DEPTH[model])
    started = time.perf_counter()
    record = {"variant": variant, "model": model, "start": start}
    if model.startswith("cnn"):
        fitted = C.train_cnn(X, y, layers=specs, classes=10, epochs=settings["cnn_epochs"],
                             batch_size=settings["cnn_batch"], lr=settings["cnn_lr"], rng=np.random.default_rng(seed))
        record["train_loss"] = fitted.train_loss
    else:
        radius, validation = _chosen_radius(settings, specs, X, y)
        fitted = _fit_ccnn(settings, tuple(replace(spec, radius=radius) for spec in specs), X, y,
                           None if start == 0 else np.random.default_rng(seed), settings["ccnn_max_iterations"])
        fits = [layer.fit for layer in fitted.layers]
        record |= {"radius": radius, "validation_errors": validation,
                   "radius_at_edge": len(settings["radii"]) > 1 and radius == max(settings["radii"]),
                   "train_loss": fits[-1].loss,
                   "gaps": [f.gap for f in fits], "certified": [bool(f.converged) for f in fits],
                   "iterations": [int(f.iterations) for f in fits]}
    record["seconds"] = time.perf_counter() - started
    wrong = np.flatnonzero(fitted.predict(X_test) != y_test)
    record |= {"test_error": len(wrong) / len(y_test), "wrong": wrong.tolist(), "test_digits": len(y_test),
               "train_error": fitted.error(X, y)}
    return record


def _rate(record: dict) -> dict:
    wrong, n = len(record["wrong"]), record["test_digits"]
    return {"test_error": wrong / n, "ci95": list(wilson_interval(wrong, n))}


def summarise(settings: dict, records: list[dict]) -> dict:
    """The error table (start 0), the paired comparisons CCNN-l against CNN-l, and the landscape contrast."""
    first = {(r["variant"], r["model"]): r for r in records if r["start"] == 0}
    table = [{"variant": v, "model": m, **_rate(first[v, m]), "notes": NOTES[m][v],
              "train_loss": first[v, m]["train_loss"]} for v in settings["variants"] for m in settings["models"]]
    comparisons = []
    for v in settings["variants"]:
        for depth in (1, 2):
            cnn, convex = first.get((v, f"cnn{depth}")), first.get((v, f"ccnn{depth}"))
            if cnn is None or convex is None:
                continue
            wrong_cnn, wrong_ccnn = set(cnn["wrong"]), set(convex["wrong"])
            only_cnn, only_ccnn = len(wrong_cnn - wrong_ccnn), len(wrong_ccnn - wrong_cnn)
            comparisons.append({"variant": v, "depth": depth, "cnn_error": cnn["test_error"],
                                "ccnn_error": convex["test_error"], "only_cnn_wrong": only_cnn,
                                "only_ccnn_wrong": only_ccnn, "mcnemar_p": mcnemar_exact(only_cnn, only_ccnn)})
    for row, adjusted in zip(comparisons, holm([c["mcnemar_p"] for c in comparisons])):
        row["holm_p"] = adjusted
        gain = row["cnn_error"] - row["ccnn_error"]
        row["verdict"] = ("CCNN lower" if adjusted < 0.05 and gain > 0 else "CNN lower" if adjusted < 0.05 and gain < 0
                          else "no significant difference")
    contrast = {"variant": settings["contrast_variant"]}
    for model in ("cnn1", "ccnn1"):
        runs = sorted((r for r in records if r["variant"] == settings["contrast_variant"] and r["model"] == model),
                      key=lambda r: r["start"])
        if not runs:
            continue
        losses = np.array([r["train_loss"] for r in runs])
        errors = np.array([r["test_error"] for r in runs])
        entry = {"starts": len(runs), "train_losses": losses.tolist(), "test_errors": errors.tolist(),
                 "loss_spread": float(losses.max() - losses.min()), "test_error_range": [float(errors.min()),
                                                                                        float(errors.max())]}
        if model == "ccnn1":
            gaps = np.array([r["gaps"][-1] for r in runs])
            entry |= {"largest_gap": float(gaps.max()), "all_certified": all(all(r["certified"]) for r in runs),
                      "within_gaps": bool(entry["loss_spread"] <= gaps.max())}
        contrast[model] = entry
    convex = [r for r in records if "radius_at_edge" in r]
    edge = {"ccnn_fits": len(convex), "at_largest_radius": sum(r["radius_at_edge"] for r in convex)}
    short = [r for r in convex if not all(r["certified"])]
    tolerance = {"ccnn_fits": len(convex), "short_of_tolerance": len(short),
                 "largest_gap": max((max(r["gaps"]) for r in short), default=0.0),
                 "which": [f"CCNN-{DEPTH[r['model']]} on {r['variant']}" + (f" (start {r['start']})" if r["start"] else "")
                           for r in short]}
    return {"table": table, "comparisons": comparisons, "contrast": contrast, "radius_choice": edge,
            "tolerance": tolerance}


def _verdict(statistics: dict, settings: dict) -> tuple[bool, str]:
    comparisons = statistics["comparisons"]
    lower = [c for c in comparisons if c["verdict"] == "CCNN lower"]
    higher = [c for c in comparisons if c["verdict"] == "CNN lower"]
    holds = bool(comparisons) and len(lower) == len(comparisons)
    parts = [f"CCNN-{c['depth']} vs CNN-{c['depth']} on {c['variant']}: {100 * c['ccnn_error']:.1f} % vs "
             f"{100 * c['cnn_error']:.1f} % (Holm p = {c['holm_p']:.2g})" for c in comparisons]
    text = (f"The CCNN misclassified significantly fewer test digits in {len(lower)} of {len(comparisons)} "
            f"comparisons, more in {len(higher)} ({settings['train']:,} training digits, 1,000 test digits): "
            + "; ".join(parts) + ".")
    edge = statistics["radius_choice"]
    if edge["at_largest_radius"]:
        text += (f" The validation chose the grid's largest radius in {edge['at_largest_radius']} of "
                 f"{edge['ccnn_fits']} CCNN fits: a larger R might validate better, so the grid may have held "
                 "those CCNNs back (against the CCNN in the comparisons).")
    tolerance = statistics["tolerance"]
    if tolerance["short_of_tolerance"]:
        text += (f" {tolerance['short_of_tolerance']} of {tolerance['ccnn_fits']} CCNN fits stopped at the step limit "
                 f"before their duality gap reached its tolerance (gaps up to {tolerance['largest_gap']:.2g}: "
                 + ", ".join(tolerance["which"]) + "): those CCNNs' training losses are above the convex problem's "
                 "optimum by up to their gaps, so their test errors are not the optimum's either.")
    contrast = statistics["contrast"]
    if "cnn1" in contrast:
        c = contrast["cnn1"]
        text += (f" CNN-1 from {c['starts']} initialisations on {contrast['variant']}: final training loss "
                 f"{min(c['train_losses']):.4f}–{max(c['train_losses']):.4f}, test error "
                 f"{100 * c['test_error_range'][0]:.1f}–{100 * c['test_error_range'][1]:.1f} %.")
    if "ccnn1" in contrast:
        c = contrast["ccnn1"]
        text += (f" CCNN-1 from {c['starts']} starts: losses within {c['loss_spread']:.2g} of each other, "
                 + ("inside the largest certified gap " if c["within_gaps"] else "more than the largest gap ")
                 + f"{c['largest_gap']:.2g}" + ("" if c["all_certified"] else " (not every fit reached its tolerance)")
                 + ".")
    return holds, text


def run(variants=C.VARIANTS, models=MODELS, starts: int = 20, ccnn_starts: int = 5, contrast_variant: str = "basic",
        train: int = 4000, layers=LAYERS, radii=RADII, cnn_epochs: int = 150, cnn_batch: int = 64, cnn_lr: float = 1e-3,
        ccnn_tol: float = 1e-4, ccnn_max_iterations: int = 2000, validation_iterations: int = 300,
        feature_seed: int = 0, variant_seed: int = 0,
        seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    """The error table on every (variation, model) and the landscape contrast on ``contrast_variant``.

    Parameters
    ----------
    variants, models
        Subsets of :data:`landscape.ccnn.VARIANTS` and :data:`MODELS`.
    starts, ccnn_starts
        CNN-1's initialisations and CCNN-1's starts on ``contrast_variant`` (one of ``variants``).
    train
        Training digits used, 10 … 4,000 (the test set is always the 1,000 held-out digits).
    layers
        The two layers' :class:`landscape.ccnn.LayerSpec` settings (:data:`LAYERS`) but the radius; one-layer models
        use the first.
    radii
        The CCNN's nuclear-norm radii R: each CCNN trial fits every R on the first four fifths of the training digits
        (from A = 0), keeps the one with the lowest error on the last fifth, and refits with it on all of them (from
        its start). One radius: no validation.
    cnn_epochs, cnn_batch, cnn_lr
        The CNNs' Adam training, to a training error of 0 by default: on the 4,000 basic digits CNN-1 reaches
        training error 3.3 % after 20 epochs (test 5.8 %), 0.6 % after 60 (4.3 %) and 0 after 150 (4.4 %);
        CNN-2 5.7 % after 20 (test 7.6 %), 2.4 % after 60 (4.5 %).
    ccnn_tol, ccnn_max_iterations, validation_iterations
        The CCNN's certificate (duality gap ≤ tol·(1 + L)), its step limit per layer, and the steps of each fit
        that only chooses R (its validation error settles long before the loss's last digits: on 1,000 digits,
        R = 100, the gap is 5e-3 after 300 steps, 1.5e-4 after 1,000 and 1e-8 after 3,000).
    feature_seed, variant_seed
        The CCNN's random features and the variations' randomness, the same in every trial.
    seed, workers, journal, progress
        As every check: trial t draws from child t of ``seed``; resumable through the journal.
    """
    variants = _names(variants, C.VARIANTS, "variants")
    models = _names(models, MODELS, "models")
    if contrast_variant not in variants:
        raise ValueError(f"contrast_variant must be one of the variants {variants}; got {contrast_variant!r}")
    starts, ccnn_starts = validate.positive_int(starts, "starts"), validate.positive_int(ccnn_starts, "ccnn_starts")
    train = validate.positive_int(train, "train")
    if not 10 <= train <= 4000:
        raise ValueError(f"train must be 10 … 4000 (of the training digits of load_mnist5k; a fifth of them "
                         f"validates the radius); got {train}")
    settings = {
        "variants": variants, "models": models, "starts": starts, "ccnn_starts": ccnn_starts,
        "contrast_variant": contrast_variant, "train": train, "layers": _layers(layers), "radii": _radii(radii),
        "cnn_epochs": validate.positive_int(cnn_epochs, "cnn_epochs"),
        "cnn_batch": validate.positive_int(cnn_batch, "cnn_batch"), "cnn_lr": validate.positive_scalar(cnn_lr, "cnn_lr"),
        "ccnn_tol": validate.nonnegative_scalar(ccnn_tol, "ccnn_tol"),
        "ccnn_max_iterations": validate.positive_int(ccnn_max_iterations, "ccnn_max_iterations"),
        "validation_iterations": validate.positive_int(validation_iterations, "validation_iterations"),
        "feature_seed": _seed(feature_seed, "feature_seed"), "variant_seed": _seed(variant_seed, "variant_seed")}
    first, second = (C.LayerSpec(**layer) for layer in settings["layers"])
    if first.patch > 28:
        raise ValueError(f"layers[0] (layer 1): patch must be at most the images' 28 pixels; got {first.patch}")
    grid = pooled_grid(C.patch_grid(28, 28, first.patch, first.stride), first.pool)
    if any(DEPTH[m] == 2 for m in models) and second.patch > min(grid):
        raise ValueError(f"layers[1] (layer 2): patch must be at most layer 1's pooled grid {grid[0]} × {grid[1]}; "
                         f"got {second.patch}")
    cells = [[v, m, 0] for v in variants for m in models]
    if "cnn1" in models:
        cells += [[contrast_variant, "cnn1", s] for s in range(1, starts)]
    if "ccnn1" in models:
        cells += [[contrast_variant, "ccnn1", s] for s in range(1, ccnn_starts)]
    settings["cells"] = cells
    costs = [(4.0 if model.startswith("ccnn") else 1.0) * DEPTH[model] for _, model, _ in cells]
    records = run_trials(trial, len(cells), seed, settings, workers, journal, "ccnn" if progress else None, costs)
    statistics = summarise(settings, records)
    holds, verdict = _verdict(statistics, settings)
    return CheckResult(check="ccnn", claim=CLAIM, settings=settings, seed=seed, statistics=statistics, holds=holds,
                       verdict=verdict, records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    """300 training digits, basic and rot, 64 random features, R = 100 (not validated), the CNNs 40 epochs, CNN-1 from
    3 initialisations and CCNN-1 from 2 starts, at most 100 steps per CCNN layer: the code paths on real digits."""
    small = tuple(layer | {"features": 64} for layer in LAYERS)
    return run(variants=("basic", "rot"), starts=3, ccnn_starts=2, train=300, cnn_epochs=40, layers=small,
               radii=(100.0,), ccnn_max_iterations=100, seed=seed, workers=workers, journal=journal, progress=progress)


def journal_statistics(path) -> dict:
    """The study's summaries from its trial journal alone, plain or gzip-compressed (``results/ccnn-seed0.jsonl.gz``):
    ``{"settings", "statistics", "holds", "verdict", "trials", "finished"}`` as :func:`run` would report them over the
    finished trials (``finished``: every cell of the run's settings is in the journal). A file that is not a CCNN
    journal, or one missing a cell of the error table, is refused with its path named."""
    header, entries = recorded_journal(path)
    settings = None if header is None else header.get("settings")
    if not isinstance(settings, dict) or "contrast_variant" not in settings or "cells" not in settings:
        raise ValueError(f"journal {str(path)!r} is not a CCNN study's journal (its header names no CCNN cells)")
    records = [record for _, record in sorted(entries.items())]
    have = {(r["variant"], r["model"]) for r in records if r["start"] == 0}
    missing = [(v, m) for v in settings["variants"] for m in settings["models"] if (v, m) not in have]
    if missing:
        raise ValueError(f"journal {str(path)!r} lacks cells of the error table (variation, model): {missing}")
    statistics = summarise(settings, records)
    holds, verdict = _verdict(statistics, settings)
    return {"settings": settings, "statistics": statistics, "holds": holds, "verdict": verdict,
            "trials": len(records), "finished": len(records) == len(settings["cells"])}

def table_text(statistics: dict) -> str:
    """The error table as Markdown: ours (95 % interval) beside the notes' numbers."""
    rows = statistics["table"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines = ["| variation | " + " | ".join(f"{m.upper()}: ours | notes" for m in models) + " |",
             "|---|" + "---:|---:|" * len(models)]
    for v in dict.fromkeys(r["variant"] for r in rows):
        cells = []
        for m in models:
            r = next(r for r in rows if r["variant"] == v and r["model"] == m)
            cells += [f"{100 * r['test_error']:.1f} % {interval_text(r['ci95'])}", f"{r['notes']:.2f} %"]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
