r"""The competing inverters on the same networks and targets, scored against the exact global minimiser (k = 2).

Runs :mod:`proofs_check.inversion`: per (network, targets) cell, the share of inversions each method ended in
the basin of the exact global minimiser (bars, 95 % Wilson intervals) and the share that returned it to 1e-6
(dots), at the same budget of gradient evaluations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._report import Measured
from figures._scale import by_scale
from proofs_check import inversion


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    seed = int(rng.integers(2**31))
    flows_dir = out_dir / "flows"
    result = by_scale(
        scale,
        tiny=lambda: inversion.run(networks=("random",), target_kinds=("range", "compressed"), repeats=1, targets=3,
                                   random_widths=(2, 6, 12), random_out=16, budget=300, landscape_rounds=3, seed=seed,
                                   workers=1, flows_dir=flows_dir),
        quick=lambda: inversion.run(networks=("random", "trained"), target_kinds=("range", "heldout"), repeats=1,
                                    targets=6, random_widths=(2, 12, 36), random_out=48, landscape_rounds=4,
                                    seed=seed, workers=None,
                                    flows_dir=flows_dir),
        full=lambda: inversion.run(target_kinds=inversion.TARGET_KINDS, repeats=10, targets=30, seed=seed,
                                   flows_dir=flows_dir, progress=True, journal=out_dir / f"inversion-seed{seed}.jsonl"))()
    rows = [r for r in result.statistics["per_method"] if "basin_rate" in r]
    cells = list(dict.fromkeys((r["network"], r["targets"]) for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in result.statistics["per_method"]))
    measurements = {f"{r['network']}, {r['targets']}, {r['method']}": {
        "ended in the global basin": r["basin_rate"], "95% CI": r["basin_ci95"], "returned x_g to 1e-6": r["success_rate"],
        f"median cost ({r['unit']})": r["median_cost"], "ms per target": 1e3 * r["seconds_per_target"]}
        | ({"learning the map: s, gradient evaluations": [round(r["training_seconds"], 2),
                                                          r["training_gradient_evaluations"]]}
           if "training_seconds" in r else {})
        for r in rows}
    for r in result.statistics["per_method"]:
        if "not_applicable" in r:
            measurements[f"{r['network']}, {r['targets']}, {r['method']}"] = {"not applicable": r["not_applicable"]}
    return Measured(
        name="inversion", title="Competing inverters against the exact global minimiser (k = 2)", claim=inversion.CLAIM,
        settings={"scale": {"tiny": "tiny: one random network [2, 6, 12] → 16, 3 targets per cell, budget 300, 3 learning "
                                    "rounds",
                            "quick": "quick: one network per kind, range and held-out targets, 6 targets per cell, 4 "
                                     "learning rounds",
                            "full": "full: 10 networks per kind × 30 targets per cell"}[scale],
                  "budget (gradient evaluations)": result.settings["budget"],
                  "networks": (f"random {result.settings['random_network'][0]} → {result.settings['random_network'][1]}; "
                               "trained VAE decoder [2, 16, 32] → 64 (digits)")},
        measurements=measurements, verdict=result.verdict,
        notes=["Each method's cost is in its own unit (see landscape.inversion): gradient evaluations for the descent "
               "methods, ADMM iterations (one is about two forward–backward passes; the budget caps them as it caps "
               "gradient evaluations), PLUGIn's steps (one forward pass each, no backward pass), one LP per layer for the "
               "layer-wise LP (no budget), and the QPs Algorithm 2 (projected_surf, τ = 0.01, from the exact minimiser "
               "of f_θ0; no budget) solved. PGD-GAN counts its image-space steps and its projections' descent steps; "
               "annealed Langevin (10 levels of σ from 1 to 1e-3, Gaussian prior) spends its whole budget and returns "
               "its last sample, so only the basin score (after polishing) is fair to it.",
               "Landscape learning's cost is per target, after the map is learned; learning it (per network "
               "and kind of target, on other targets of that kind) is reported apart."],
        data={"rows": rows, "cells": cells, "methods": methods},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    rows = measured.data["rows"]
    cells = measured.data["cells"]
    methods = measured.data["methods"]
    fig = Figure(figsize=(max(8.0, 2.3 * len(cells)), 4.6), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(methods)
    colours = dict(zip(methods, ("tab:blue", "tab:red", "darkred", "tab:green", "tab:purple", "tab:orange", "tab:brown",
                                 "tab:olive", "tab:cyan", "tab:pink", "tab:gray")))
    for j, method in enumerate(methods):
        for i, cell in enumerate(cells):
            row = next((r for r in rows if (r["network"], r["targets"]) == cell and r["method"] == method), None)
            if row is None:
                continue
            position = i - 0.4 + (j + 0.5) * width
            low, high = row["basin_ci95"]
            ax.bar(position, row["basin_rate"], width * 0.9, color=colours[method],
                   label=method if i == 0 else None, yerr=[[row["basin_rate"] - low], [high - row["basin_rate"]]],
                   capsize=2, error_kw={"lw": 0.8})
            ax.plot(position, row["success_rate"], "k.", ms=5)
    ax.set_xticks(range(len(cells)), [f"{n}\n{t}" for n, t in cells])
    ax.set(ylabel="share ending in the global minimum's basin", ylim=(0, 1.05),
           title="Inverters scored against the exact global minimiser (bars: basin; dots: returned it to 1e-6)")
    ax.legend(fontsize=8, ncol=min(len(methods), 6), loc="upper center", bbox_to_anchor=(0.5, -0.14))
    file = out_dir / "inversion.png"
    fig.savefig(file, dpi=110)

    return [file]
