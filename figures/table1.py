r"""Table 1 and Figure 2 of §4 on real training flows, beside the paper's numbers.

Runs :mod:`proofs_check.table1` (generators trained here on the bundled 8×8 digits; the paper trained on
Fashion-MNIST with the 28×28 InfoGAN generator) and draws the table (ours and the paper's) and the
distributions of :math:`\|\hat x_T - x_*\|` for surfing (red) and regular Adam (blue), the paper's Figure 2.
Flows are cached under ``out/flows`` and reused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._report import RESULTS, Measured
from figures._scale import by_scale
from proofs_check import table1
from proofs_check._stats import interval_text

SURFING, REGULAR = "tab:red", "tab:blue"


SHORT_NAMES = {"stopped_short": "short", "other_global_minimum": "other x", "spurious_minimum": "spurious",
               "wandered": "wandered", "uncertified": "uncert."}


def _classes_text(entry: dict) -> str:
    """``short 3, spurious 10`` (two per line), or — where nothing was classified."""
    parts = [f"{SHORT_NAMES[name]} {count}" for name, count in entry.get("classes", {}).items() if count]
    return "\n".join(", ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)) or "—"


def failure_measurements(failures: dict) -> dict:
    """A cell's failure classification, stopping rules and failure rates by σ_min tertile, as report rows."""
    out = {}
    for method in ("regular", "surfing"):
        entry = failures[method]
        label = "regular Adam" if method == "regular" else "surfing"
        if "classes" in entry:
            out[f"{label}: failures classified (of failed)"] = [entry["classified"], entry["failed"]]
            out[f"{label}: failure classes"] = {name.replace("_", " "): count for name, count in entry["classes"].items()
                                                if count}
            if entry.get("median_spurious_distance") is not None:
                out[f"{label}: spurious minima, median distance to x* and f"] = [entry["median_spurious_distance"],
                                                                                  entry["median_spurious_f"]]
        if "stop_rules" in entry:
            out[f"{label}: rule that ended the last run (all runs)"] = entry["stop_rules"]
            out[f"{label}: rule that ended the last run (failed runs)"] = entry["stop_rules_of_failures"]
        out[f"{label}: failure rate by σ_min(J(x*)) tertile, low → high"] = [
            t["rate"] for t in entry["failure_rate_by_sigma_tertile"]]
    out["σ_min(J(x*)) tertile edges"] = failures["sigma_min_tertile_edges"]
    return out




def recorded_scales(this_run: dict, results: Path = RESULTS) -> str | None:
    """Table 1 beside the paper's at every scale recorded in ``results``, with this run's as the last column: the
    paper's 28×28 generator on 28×28 digits (``table1-paper-scale-*.jsonl.gz``, one journal per cell) and the 8×8
    flows (``table1-seed0.jsonl.gz``). A Markdown table (with both recorded, followed by :func:`disagreement_text`),
    or None where nothing is recorded."""
    columns = {}
    paper_scale = sorted(results.glob("table1-paper-scale-*.jsonl.gz"))
    if paper_scale:
        columns["28×28, the paper's generator widths (recorded)"] = table1.journal_statistics(*paper_scale)
    if (results / "table1-seed0.jsonl.gz").is_file():
        columns["8×8, narrow generator (recorded)"] = table1.journal_statistics(results / "table1-seed0.jsonl.gz")
    if not columns:
        return None
    table = table1.scales_table(columns | {"this run": this_run})
    if len(columns) < 2:
        return table
    large, small = columns.values()
    return table + "\n\n" + disagreement_text(small, large)


def disagreement_text(small: dict, large: dict) -> str:
    """In words: where the 8×8 flows (``small``) have regular Adam significantly better than surfing — the paper
    reports the opposite — and whether that survives at the paper's scale (``large``), over the (model, k) settings
    recorded at both."""
    def named(settings: list[dict]) -> str:
        return ", ".join(f"{s['model']} k = {s['k']}" for s in settings) or "none"

    verdicts = {(s["model"], s["k"]): s["verdict"] for s in large["per_setting"]}
    shared = [s for s in small["per_setting"] if (s["model"], s["k"]) in verdicts]
    reversed_small = [s for s in shared if s["verdict"] == "regular better"]
    surviving = [s for s in reversed_small if verdicts[s["model"], s["k"]] == "regular better"]
    return (f"Of the {len(shared)} settings recorded at both scales, the 8×8 flows have regular Adam significantly "
            f"better than surfing, against the paper, in {len(reversed_small)} ({named(reversed_small)}); at the "
            "paper's scale " + (f"that disagreement survives in {len(surviving)} of them ({named(surviving)})."
                                if surviving else "it survives in none of them."))


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    seed = int(rng.integers(2**31))
    flows_dir = out_dir / "flows"
    result = by_scale(
        scale,
        tiny=lambda: table1.run(models=("dcgan",), ks=(3,), training_seeds=(0,), trials=10, T=5, census_targets=1,
                                census_starts=10, seed=seed, workers=1, flows_dir=flows_dir),
        quick=lambda: table1.quick(seed=seed, workers=None, flows_dir=flows_dir),
        full=lambda: table1.run(seed=seed, flows_dir=flows_dir, journal=out_dir / f"table1-seed{seed}.jsonl",
                                progress=True))()
    rows = result.statistics["per_setting"]


    measurements = {}
    for row in rows:
        key = f"{row['model']}, k = {row['k']}"
        measurements[key] = {
            "regular Adam success": row["regular_rate"], "regular 95% CI": row["regular_ci95"],
            "surfing success": row["surfing_rate"], "surfing 95% CI": row["surfing_ci95"],
            "McNemar p": row["mcnemar_p"], "verdict": row["verdict"],
            "P75 iterations, regular": row["iterations_p75_regular"], "P75 iterations, surfing": row["iterations_p75_surfing"],
            "surfing budget(s)": row["budgets"], **failure_measurements(row["failures"]),
        }
        if "regular_spurious_solved_by_surfing" in row:
            measurements[key]["regular runs ended in a spurious minimum that surfing solved"] = \
                row["regular_spurious_solved_by_surfing"]
        if "census" in row:
            census = row["census"]
            measurements[key][f"census ({census['targets']} targets × {census['starts_per_target']} starts)"] = {
                "median distinct certified minima reached by Adam": census["median_distinct_minima"],
                "most distinct minima for one target": census["largest_distinct_minima"],
                "median share of starts reaching x*": census["median_share_reaching_x_star"]}
        if "paper" in row:
            measurements[key]["paper: regular % → surfing %"] = [row["paper"]["regular_percent"], row["paper"]["surfing_percent"]]
    scale_note = ({"tiny": "tiny: one model, k = 3, 10 trials, T = 5: tests the code paths only, the numbers mean nothing",
                   "quick": "quick: 2 models, k = 5, 1 training seed, 30 trials, T = 25 (1,000 training updates): too small to "
             "estimate the paper's rates, enough to see the direction; `python -m figures` runs the full table",
                   "full": "full: 4 models × k = 5, 10, 20 × 3 training seeds × 300 trials, T = 100 every 40"}[scale])
    scales = recorded_scales(result.statistics)
    scales_note = [] if scales is None else [
        "Recorded runs at each scale (`results/`; regular Adam → surfing in %, Wilson 95 % intervals, trials, "
        "McNemar's verdict):\n\n" + "\n".join("  " + line for line in scales.splitlines())]
    return Measured(
        name="table1",
        title="Table 1 and Figure 2 on trained flows: surfing against regular Adam", claim=table1.CLAIM,
        settings={"scale": scale_note, "data": "scikit-learn digits (8×8), not Fashion-MNIST (28×28)",
                  "generator": "infogan layout [k, 128, 128, 256] → 64 with BN (the paper: FC 1024, FC 7·7·128, ConvT 64, ConvT 1)",
                  **{key: result.settings[key] for key in ("T", "every", "trials_per_cell")},
                  "protocol": result.settings["protocol"]},
        measurements=measurements,
        verdict=result.verdict,
        notes=["Iterations: steps until ‖x − x*‖ < 0.01 was first reached (all snapshots for surfing); a trial that "
               "never got there counts with all the steps it ran.",
               "Census: for a few targets per cell, regular Adam from many uniform starts, every end point polished "
               "to a certified local minimum (exact QPs), distinct minima counted: how many spurious minima Adam "
               "meets on the trained surface.",
               "Convergence: ‖∇f‖ ≤ 1e-6, or the best f improved by less than stall_tol·|f| (relative) over stall_window "
               "steps (spurious minima sit on kinks where the gradient never becomes small).",
               "Failures: every failed run of either method polished to a certified local minimum and classified — "
               "stopped short (polishing reaches x*), another global minimiser, a spurious minimum, wandered (surfing "
               "only: its iterate before θ_T already descends to another minimum on f_θT) or uncertified.",
               *scales_note],
        data={"rows": rows, "result": result},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    rows = measured.data["rows"]
    result = measured.data["result"]
    fig = Figure(figsize=(max(12.0, 3.2 * len(rows)), 7.5), layout="constrained")
    grid = fig.add_gridspec(2, len(rows), height_ratios=[1.0, 1.25])
    table_ax = fig.add_subplot(grid[0, :])
    table_ax.set_axis_off()
    header = ["model, k", "regular Adam %\n(95 % CI)", "surfing %\n(95 % CI)", "McNemar p", "iterations (P75)\nregular → surfing",
              "paper %\nregular → surfing", "paper iterations\nregular → surfing", "regular Adam's failures",
              "surfing's failures"]
    cells = []
    for row in rows:
        paper = row.get("paper")
        cells.append([
            f"{row['model']}, {row['k']}",
            f"{100 * row['regular_rate']:.1f}\n{interval_text(row['regular_ci95'])}",
            f"{100 * row['surfing_rate']:.1f}\n{interval_text(row['surfing_ci95'])}",
            f"{row['mcnemar_p']:.2g}",
            f"{row['iterations_p75_regular']:.0f} → {row['iterations_p75_surfing']:.0f}",
            "—" if paper is None else f"{paper['regular_percent']} → {paper['surfing_percent']}",
            "—" if paper is None else f"{paper['regular_iterations']} → {paper['surfing_iterations']}",
            _classes_text(row["failures"]["regular"]), _classes_text(row["failures"]["surfing"]),
        ])
    table = table_ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1.0, 2.0)
    table_ax.set_title("Table 1 on trained flows (8×8 digits, infogan layout) beside the paper (Fashion-MNIST, 28×28)",
                       fontsize=10)

    edges = np.linspace(-8, 1.5, 40)
    for column, row in enumerate(rows):
        ax = fig.add_subplot(grid[1, column])
        records = [r for r in result.records if r["model"] == row["model"] and r["k"] == row["k"]]
        for name, colour, label in (("distance_regular", REGULAR, "regular Adam"), ("distance_surfing", SURFING, "surfing")):
            values = np.log10(np.maximum(np.concatenate([r[name] for r in records]), 1e-8))
            ax.hist(values, bins=edges, color=colour, alpha=0.55, label=label)
        ax.axvline(np.log10(table1.SUCCESS_RADIUS), color="k", ls="--", lw=1, label="success: 0.01")
        ax.set(xlabel="log10 ‖x̂_T − x*‖", ylabel="trials", title=f"Figure 2: {row['model']}, k = {row['k']}")
        ax.legend(fontsize=7)
    file = out_dir / "table1.png"
    fig.savefig(file, dpi=110)

    return [file]
