"""Hand–Voroninski's landscape: every exact local minimum of f against x0 and −ρ_d·x0, as widths grow.

Each local minimum x is drawn at (⟨x, x0⟩, ⟨x, x0⊥⟩) with ‖x0‖ = 1, so x0 sits at (1, 0) and −ρ_d·x0 at
(−ρ_d, 0); one panel per width, rows for A = I and a Gaussian A.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._report import Measured
from figures._scale import by_scale
from proofs_check import hand_voroninski


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    seed = int(rng.integers(2**31))
    result = hand_voroninski.run(**by_scale(
        scale,
        tiny={"widths": ((2, 10, 20), (2, 20, 40)), "m_values": (None, 15), "trials": 2, "workers": 1},
        quick={"widths": ((2, 20, 40), (2, 50, 100)), "m_values": (None, 40), "trials": 3},
        full={"widths": ((2, 20, 40), (2, 50, 100), (2, 100, 200), (2, 200, 400)), "m_values": (None, 40), "trials": 20}),
        seed=seed)
    sweep, summaries = result.settings["sweep"], result.statistics["per_setting"]
    return Measured(
        name="hand_voroninski",
        title="Hand–Voroninski: local minima near x0 and −ρ_d·x0",
        claim=result.claim,
        settings={"sweep": [[w, "identity" if m is None else m] for w, m in sweep],
                  "trials per setting": result.settings["trials_per_setting"], "seed": seed},
        measurements={
            f"{s['widths']} {'A=I' if s['m'] is None else 'm=' + str(s['m'])}: median / max distance, minima per trial":
                [round(s["median_worst_distance"], 3), round(s["max_worst_distance"], 3),
                 round(s["mean_minima_per_trial"], 2)]
            for s in summaries
        },
        verdict=result.verdict,
        notes=["Distances are from each trial's farthest local minimum to the nearer of x0 and −ρ_d·x0. Inside a "
               "linear piece f is a convex quadratic, so interior critical points are exactly these minima; "
               "critical points on kinks that are not minima are not searched here."],
        data={"result": result},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    result = measured.data["result"]
    sweep, summaries = result.settings["sweep"], result.statistics["per_setting"]
    widths = list(dict.fromkeys(tuple(w) for w, _ in sweep))
    ms = list(dict.fromkeys(m for _, m in sweep))
    fig = Figure(figsize=(3.6 * len(widths), 3.4 * len(ms)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(ms), len(widths), sharex=True, sharey=True))
    for s, ((w, m), summary) in enumerate(zip(sweep, summaries)):
        ax = axes[ms.index(m), widths.index(tuple(w))]
        rho = summary["rho_d"]
        for record in (r for r in result.records if r["setting"] == s):
            for minimum in record["minima"]:
                x = np.array(minimum["x"])
                # ⟨x, x0⟩ = -along_minus_x0 as recorded; the rest of x is orthogonal to x0.
                along = -minimum["along_minus_x0"]
                across = np.sqrt(max(float(x @ x) - along**2, 0.0))
                ax.plot(along, across, "o", color="tab:blue", alpha=0.6, markersize=4, zorder=3)
        # The reference points are drawn hollow and under the minima, which usually sit on them.
        ax.plot([1.0], [0.0], "*", color="k", mfc="none", markersize=16, zorder=2, label="x0")
        ax.plot([-rho], [0.0], "*", color="tab:red", mfc="none", markersize=16, zorder=2,
                label=f"−ρ_d x0 (ρ_d = {rho:.3f})")
        ax.plot([], [], "o", color="tab:blue", alpha=0.6, markersize=4, label="exact local minimum")
        trials = result.settings["trials_per_setting"]
        ax.set_title(f"{list(w)}, {'A = I' if m is None else f'm = {m}'}, {trials} networks\n"
                     f"median farthest-minimum distance {summary['median_worst_distance']:.2g}", fontsize=9)
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set_xlabel("⟨x, x0⟩")
        ax.set_ylabel("|x − ⟨x, x0⟩x0|")
    axes[0, 0].legend(fontsize=8, loc="upper center")
    fig.suptitle("Exact local minima of ½‖AG(x) − AG(x0)‖² for random bias-free networks (‖x0‖ = 1)\n"
                 "farthest-minimum distance: per network, the largest distance from a local minimum to the nearer of\n"
                 "x0 and −ρ_d x0; each panel's title gives its median over the panel's networks", fontsize=10)
    path = out_dir / "hand_voroninski.png"
    fig.savefig(path, dpi=110)
    return [path]
