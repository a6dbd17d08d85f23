r"""Figures 3 and 4 of §4 on real training flows: compressed sensing with m Gaussian measurements.

Figure 3 (left column): the proportion of trials in which surfing (red) and regular Adam (blue) recover x*
from :math:`A G(x_*)`, with 95 % Wilson intervals, against m. Figure 4 (right column): box plots of the
per-pixel error :math:`\sqrt{\|G(\hat x_T) - y\|^2/n}` for held-out images y against m. Runs
:mod:`proofs_check.compressed_sensing` and :mod:`proofs_check.rate_distortion`; flows are cached under
``out/flows`` (the quick scale reuses the quick Table 1 flow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._report import RESULTS, Measured
from figures.table1 import failure_measurements
from proofs_check import compressed_sensing, rate_distortion
from proofs_check._stats import interval_text

SURFING, REGULAR, OPTIMUM = "tab:red", "tab:blue", "tab:gray"
RECORDED = {"Figure 3": ("compressed_sensing-paper-scale-*.jsonl.gz", "compressed_sensing-paper-scale-*.json.gz"),
            "Figure 4": ("rate-distortion-paper-scale-*.jsonl.gz",)}
"""The journals in ``results/`` of both figures on the paper's 28×28 generator at full width (one per model), and
exports of :func:`proofs_check.compressed_sensing.staged_cells` (``*.json.gz``) for runs that stopped after their
inversions."""


def _recovery(ax, rows: list[dict], model: str, k: int) -> None:
    rows = [r for r in rows if r["model"] == model]
    m = np.array([r["m"] for r in rows])
    for name, colour, label in (("regular", REGULAR, "regular Adam"), ("surfing", SURFING, "surfing")):
        rate = np.array([r[f"{name}_rate"] for r in rows])
        low, high = np.array([r[f"{name}_ci95"] for r in rows]).T
        ax.plot(m, rate, "o-", color=colour, label=label)
        ax.fill_between(m, low, high, color=colour, alpha=0.15)
    ax.axvline(k, color="k", ls=":", lw=1, label=f"m = k = {k}")
    ax.set(xlabel="measurements m", ylabel="proportion recovered (‖x̂_T − x*‖ < 0.01)", ylim=(-0.02, 1.02),
           title=f"Figure 3: {model}, y = G(x*)")
    ax.legend(fontsize=8)


def _distortion(ax, rows: list[dict], records: list[dict], model: str) -> None:
    rows = [r for r in rows if r["model"] == model]
    positions = np.arange(len(rows), dtype=float)
    cells = [[c for c in records if c["model"] == model and c["m"] == r["m"]] for r in rows]
    series = [(name, colour, [np.concatenate([c[f"error_{name}"] for c in cell]) for cell in cells])
              for name, colour in (("regular", REGULAR), ("surfing", SURFING))]
    if all("optimum" in r for r in rows):  # the certified optimum's own error: the floor on the box
        series.append(("optimum", OPTIMUM, [np.array([e["optimum_error"] for c in cell for e in c["optimum"]
                                                      if not e["refused"] and e["certified"]]) for cell in cells]))
    width = 0.8 / len(series)
    for index, (name, colour, data) in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * width
        parts = ax.boxplot(data, positions=positions + offset, widths=0.9 * width, patch_artist=True,
                           showfliers=True, flierprops={"markersize": 2})
        for box in parts["boxes"]:
            box.set(facecolor=colour, alpha=0.5)
    ax.set_xticks(positions, [str(r["m"]) for r in rows])
    ax.set(xlabel="measurements m", ylabel="per-pixel error √(‖G(x̂_T) − y‖²/n)",
           title=f"Figure 4: {model}, held-out y")
    ax.plot([], [], "s", color=REGULAR, alpha=0.5, label="regular Adam")
    ax.plot([], [], "s", color=SURFING, alpha=0.5, label="surfing")
    if len(series) == 3:
        ax.plot([], [], "s", color=OPTIMUM, alpha=0.5, label="certified optimum on the box")
    ax.legend(fontsize=8)


def optimum_measurements(optimum: dict | None) -> dict:
    """Figure 4's distances from the certified optimum (:mod:`proofs_check._optimum`), where it was asked for."""
    if optimum is None:
        return {}
    rows = {"certified optima (asked, certified, refused)": [optimum["asked"], optimum["certified"],
                                                             optimum["refused"]],
            "the optimum's per-pixel error quartiles": optimum["optimum_error_quartiles"]}
    for method, label in (("regular", "regular"), ("surfing", "surfing")):
        rows[f"{label} reached the optimum (‖x̂ − x°‖ < 0.01), 95% CI"] = [optimum[f"reached_{method}"],
                                                                          optimum[f"reached_ci95_{method}"]]
        rows[f"{label} excess f(x̂) − f(x°) quartiles"] = optimum[f"excess_quartiles_{method}"]
    return rows


def recorded_paper_scale(results: Path = RESULTS) -> str | None:
    """Figures 3 and 4 as recorded at the paper's scale in ``results`` (:data:`RECORDED`, summarised by
    :func:`proofs_check.compressed_sensing.journal_statistics`): a Markdown table per figure, one row per (model, m);
    None where neither is recorded."""
    parts = []
    for figure, patterns in RECORDED.items():
        paths = sorted(path for pattern in patterns for path in results.glob(pattern))
        if not paths:
            continue
        rows = compressed_sensing.journal_statistics(*paths)["per_setting"]
        names = ", ".join(f"`{path.name}`" for path in paths)
        if figure == "Figure 3":
            lines = [f"{figure} ({names}): x* recovered (‖x̂_T − x*‖ < 0.01), regular Adam → surfing, "
                     "Wilson 95 %",
                     "", "| model | m | regular Adam | surfing | trials | McNemar p | verdict |",
                     "|---|---:|---|---|---:|---:|---|"]
            lines += [f"| {r['model']} | {r['m']}{' †' * bool(r['from_stages'])} | {100 * r['regular_rate']:.1f} % "
                      f"{interval_text(r['regular_ci95'])} | {100 * r['surfing_rate']:.1f} % "
                      f"{interval_text(r['surfing_ci95'])} | {r['trials']} | "
                      f"{r['mcnemar_p']:.2g} | {r['verdict']} |" for r in rows]
            if any(r["from_stages"] for r in rows):
                lines += ["", "† read from the stage checkpoints of a run stopped after its inversions "
                          "(`proofs_check.compressed_sensing.staged_cells`): no failure classes."]
        else:
            lines = [f"{figure} ({names}): per-pixel error √(‖G(x̂_T) − y‖²/n) for held-out y, "
                     "median [quartiles]",
                     "", "| model | m | regular Adam | surfing | surfing lower in | Wilcoxon p | verdict |",
                     "|---|---:|---|---|---:|---:|---|"]
            lines += [f"| {r['model']} | {r['m']} | {_quartiles_text(r['error_quartiles_regular'])} | "
                      f"{_quartiles_text(r['error_quartiles_surfing'])} | "
                      f"{r['surfing_lower_error']} of {r['trials']} | "
                      f"{r['wilcoxon_p']:.2g} | {r['verdict']} |" for r in rows]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) or None


def _quartiles_text(quartiles: list[float]) -> str:
    low, median, high = quartiles
    return f"{median:.3f} [{low:.3f}, {high:.3f}]"


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    seeds = [int(s) for s in rng.integers(2**31, size=2)]
    flows_dir = out_dir / "flows"
    if scale == "tiny":  # the tiny Table 1 flow
        tiny = {"models": ("dcgan",), "k": 3, "measurements": (3, 10), "training_seeds": (0,), "trials": 6,
                "matrices": 2, "T": 5, "every": 40, "max_steps": 400, "workers": 1, "flows_dir": flows_dir,
                "engine": "numpy"}  # a few hundred steps: compiling would not pay
        exact = compressed_sensing.run(seed=seeds[0], polish_limit=1, **tiny)
        approximate = rate_distortion.run(seed=seeds[1], **tiny)
    elif scale == "quick":
        exact = compressed_sensing.quick(seed=seeds[0], workers=None, flows_dir=flows_dir)
        approximate = rate_distortion.quick(seed=seeds[1], workers=None, flows_dir=flows_dir)
    else:
        exact = compressed_sensing.run(seed=seeds[0], flows_dir=flows_dir, progress=True,
                                       journal=out_dir / f"compressed_sensing-seed{seeds[0]}.jsonl")
        approximate = rate_distortion.run(seed=seeds[1], flows_dir=flows_dir, progress=True,
                                          journal=out_dir / f"rate_distortion-seed{seeds[1]}.jsonl")
    recovery, distortion = exact.statistics["per_setting"], approximate.statistics["per_setting"]
    models = list(dict.fromkeys(r["model"] for r in recovery))

    measurements = {}
    for r in recovery:
        measurements[f"Figure 3, {r['model']}, m = {r['m']}"] = {
            "regular Adam recovered": r["regular_rate"], "regular 95% CI": r["regular_ci95"],
            "surfing recovered": r["surfing_rate"], "surfing 95% CI": r["surfing_ci95"],
            "McNemar p": r["mcnemar_p"], "verdict": r["verdict"],
            "P75 iterations, regular → surfing": [r["iterations_p75_regular"], r["iterations_p75_surfing"]],
            "surfing budget(s)": r["budgets"], **failure_measurements(r["failures"])}
    for r in distortion:
        measurements[f"Figure 4, {r['model']}, m = {r['m']}"] = {
            "per-pixel error quartiles, regular": r["error_quartiles_regular"],
            "per-pixel error quartiles, surfing": r["error_quartiles_surfing"],
            "trials with surfing lower / regular lower": [r["surfing_lower_error"], r["regular_lower_error"]],
            "Wilcoxon p": r["wilcoxon_p"], "verdict": r["verdict"], **optimum_measurements(r.get("optimum"))}
    settings = exact.settings
    scale_note = (f"{scale}: DCGAN, k = {settings['k']}, T = {settings['T']} every {settings['every']} (the {scale} Table 1 flow), "
             f"{settings['trials_per_cell']} trials per m over {settings['matrices']} matrices A: enough to see the "
             "direction, not to estimate the curves"
             if scale != "full" else "full: DCGAN and WGAN, k = 20, T = 100 every 100, 3 training seeds × 200 trials per m")
    recorded = recorded_paper_scale()
    recorded_note = [] if recorded is None else [
        "Recorded at the paper's scale (`results/`: its 28×28 InfoGAN generator at full width on 28×28 MNIST digits, "
        "n = 784, k = 20, flows of Table 1's settings, T = 100 every 40; the paper shows both figures only as "
        "plots):\n\n"
        + "\n".join("  " + line for line in recorded.splitlines())]
    return Measured(
        name="compressed_sensing",
        title="Figures 3 and 4 on trained flows: compressed sensing, exact recovery and rate–distortion", claim=f"{compressed_sensing.CLAIM} {rate_distortion.CLAIM}",
        settings={"scale": scale_note, "data": "scikit-learn digits (8×8, n = 64), not Fashion-MNIST (28×28, n = 784)",
                  "generator": "infogan layout [k, 128, 128, 256] → 64 with BN",
                  "measurement matrices": "A with i.i.d. N(0, 1/m) entries, a fresh A per group of trials",
                  **{key: settings[key] for key in ("T", "every", "k", "trials_per_cell", "matrices")},
                  "protocol": settings["protocol"]},
        measurements=measurements,
        verdict=f"Figure 3: {exact.verdict} Figure 4: {approximate.verdict}",
        notes=["The paper shows Figures 3 and 4 only as plots (its text gives no numbers), so no paper values are "
               "drawn beside ours; its m axis is for n = 784 pixels, ours for n = 64.",
               "Figure 4's paired test: Wilcoxon signed-rank on surfing's minus regular Adam's error per trial "
               "(same y, A and x_init).",
               "Budget: as in Table 1, the 75th percentile of regular Adam's total steps to convergence in the cell (the "
               "paper's rule; before version 0.2 Figure 3 used its steps to the target instead).",
               "Failures (Figure 3): classified exactly as in Table 1, up to 50 per method and cell."] + recorded_note,
        data={"models": models, "recovery": recovery, "distortion": distortion, "exact": exact, "approximate": approximate},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    models = measured.data["models"]
    recovery = measured.data["recovery"]
    distortion = measured.data["distortion"]
    exact = measured.data["exact"]
    approximate = measured.data["approximate"]
    fig = Figure(figsize=(11, 4.2 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 2, squeeze=False)
    for row, model in enumerate(models):
        _recovery(axes[row, 0], recovery, model, exact.settings["k"])
        _distortion(axes[row, 1], distortion, approximate.records, model)
    file = out_dir / "compressed_sensing.png"
    fig.savefig(file, dpi=110)

    return [file]
