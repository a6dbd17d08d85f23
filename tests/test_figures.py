import json

import pytest

from figures.__main__ import arguments, figure_modules, main
from landscape.inversion import METHODS


@pytest.fixture(scope="session")  # session: built once per test process even if other modules run in between
def tiny_run(tmp_path_factory):
    """Every figure module at ``--scale tiny``: every code path in under a minute; the numbers mean nothing."""
    out = tmp_path_factory.mktemp("figures")
    assert main(["--scale", "tiny", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """The main job itself (``python -m figures --quick``, about 8 minutes)."""
    out = tmp_path_factory.mktemp("figures-quick")
    assert main(["--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_the_main_job_runs_at_full_scale_unless_told_otherwise():
    assert arguments([]).scale == "full" and arguments(["--quick"]).scale == "quick"
    assert arguments(["--scale", "tiny"]).scale == "tiny"


def _assert_every_figure_and_an_honest_report(out, results):
    report = (out / "REPORT.md").read_text()
    assert {r["name"] for r in results} == set(figure_modules())
    for r in results:
        for name in r["files"]:
            assert (out / name).stat().st_size > 10_000
        assert r["verdict"] in report and r["title"] in report
        assert f"| [{r['title']}](#{r['name']}) |" in report  # the summary table links every section


def test_every_figure_module_runs_and_reports(tiny_run):
    _assert_every_figure_and_an_honest_report(*tiny_run)


@pytest.mark.slow
def test_main_job_at_quick_scale_writes_every_figure_and_an_honest_report(quick_run):
    _assert_every_figure_and_an_honest_report(*quick_run)


@pytest.mark.slow
def test_landscape_figure_measures_a_small_critical_ball(quick_run):
    # At the quick setting (widths [2, 50, 200], n = 250) the critical points sit well inside the window.
    _, results = quick_run
    measured = next(r for r in results if r["name"] == "landscape_2d")["measurements"]
    assert measured["largest violating radius / (1+‖y‖)"] < 0.2
    assert measured["fraction of grid points with D_{-x/‖x‖} f_0 < 0"] > 0.9
    assert 1 <= measured["exact local minima of f_0 in the window"]
    assert measured["largest local-minimum radius / (1+‖y‖)"] < 0.2
    assert measured["linear pieces in the window (exact)"] >= measured["distinct linear pieces met by the grid"]


@pytest.mark.slow
def test_tracking_figure_finds_no_run_below_the_bound_that_loses_the_minimiser(quick_run):
    _, results = quick_run
    measured = next(r for r in results if r["name"] == "tracking")["measurements"]
    assert measured["runs with δ < δ* on flows satisfying Assumption 3.2"] > 0
    assert measured["of which lost the exact minimiser"] == 0


def test_table1_figure_checks_the_minimiser_exactly_in_two_dimensions(tiny_run):
    _, results = tiny_run
    rows = next(r for r in results if r["name"] == "table1_synthetic")["measurements"]
    two_d = [row for key, row in rows.items() if key.startswith("k = 2 ")]
    assert two_d and all(row["targets_whose_exact_minimiser_is_not_x_generating"] is not None for row in two_d)
    for row in rows.values():  # rates are counts of the trials: a rate over the wrong axis is not
        for method in ("regular", "surfing"):
            count = row[f"success_{method}"] * row["trials"]
            assert count == pytest.approx(round(count), abs=1e-9) and 0 <= round(count) <= row["trials"]
        assert row["budget"] > 0


def test_figure1_marks_exact_minima_and_scores_end_points_against_the_exact_global_minimiser(tiny_run):
    _, results = tiny_run
    measured = next(r for r in results if r["name"] == "trained_landscapes")["measurements"]
    assert set(measured) == {"target 1", "target 2"}
    for entry in measured.values():
        levels = [value for key, value in entry.items() if key.startswith("θ_")]
        assert len(levels) == 3
        for level in levels:
            assert level["linear pieces in the box"] >= 1 and level["exact local minima"] >= 1
            assert all(-3 <= v <= 3 for v in level["global minimiser x*"])
        starts = entry["starts (grid)"]
        for name in ("regular Adam", "surfing"):  # a share of the grid's starts: a count, consistent with the minima
            share = entry[f"share of starts whose end point polishes to x*(θ_T): {name}"]
            distinct = entry[f"distinct certified minima reached: {name}"]
            assert share * starts == pytest.approx(round(share * starts), abs=1e-9) and 1 <= distinct <= starts
            if distinct == 1:  # every start ended at the same minimum: x* for all of them or for none
                assert share in (0.0, 1.0)
            if share == 1.0:
                assert distinct == 1


def test_compressed_sensing_figure_reports_both_experiments(tiny_run):
    _, results = tiny_run
    measured = next(r for r in results if r["name"] == "compressed_sensing")["measurements"]
    recovery = [row for key, row in measured.items() if key.startswith("Figure 3")]
    distortion = [row for key, row in measured.items() if key.startswith("Figure 4")]
    assert recovery and distortion
    for row in recovery:
        assert row["regular 95% CI"][0] <= row["regular Adam recovered"] <= row["regular 95% CI"][1]
    for row in distortion:
        low, median, high = row["per-pixel error quartiles, surfing"]
        assert 0 <= low <= median <= high


def test_theorem31_at_trained_initialisations_measures_both_ends_of_each_flow(tiny_run):
    _, results = tiny_run
    measured = next(r for r in results if r["name"] == "theorem31_trained")["measurements"]
    for name, entry in measured.items():
        for end in ("θ_0", "θ_T"):
            assert 0 <= entry[end]["fraction of points violating eq. (2)"] <= 1
            assert 0 <= entry[end]["median r_violation / (1+‖y‖)"] <= 1
        if name.endswith("k = 2"):
            assert entry["θ_T"]["median exact local minima in the box"] >= 1


def test_algorithm2_is_scored_against_the_exact_path_on_trained_flows(tiny_run):
    _, results = tiny_run
    measured = next(r for r in results if r["name"] == "trained_flows")["measurements"]
    for entry in measured.values():
        T = entry["of T steps"]
        for tau in (0.01, 0.1):
            run = entry[f"Algorithm 2, τ = {tau}"]
            assert 0 <= run["snapshots off the exact path (‖x_t − x*(θ_t)‖ > 1e-6)"] <= T + 1
            assert run["most pieces at one step"] >= 1


def test_inversion_figure_scores_basins_at_least_as_often_as_exact_answers(tiny_run):
    _, results = tiny_run
    measured = next(r for r in results if r["name"] == "inversion")["measurements"]
    scored = {key: row for key, row in measured.items() if "ended in the global basin" in row}
    assert {key.rsplit(", ", 1)[1] for key in scored} == set(METHODS)  # every method scored somewhere
    for row in scored.values():
        assert 0 <= row["returned x_g to 1e-6"] <= row["ended in the global basin"] <= 1


def test_the_ablation_figure_keeps_regular_adam_where_an_arm_changes_only_surfing(tiny_run):
    _, results = tiny_run
    measured = next(r for r in results if r["name"] == "table1_ablation")["measurements"]
    default = measured["dcgan, k = 3, default"]
    for arm in ("start at θ_2", "schedule uniform"):  # same x*, x_init and regular Adam in every such arm
        assert measured[f"dcgan, k = 3, {arm}"]["regular Adam"] == default["regular Adam"]
        assert measured[f"dcgan, k = 3, {arm}"]["surfing − default surfing"] == pytest.approx(
            measured[f"dcgan, k = 3, {arm}"]["surfing"] - default["surfing"])
    assert 0 <= default["restarts within surfing's steps"] - default["regular Adam"]  # restarts include the first run


def test_failure_slices_find_x_star_and_the_failed_ends_as_certified_minima_of_the_final_network(tiny_run):
    _, results = tiny_run
    figure = next(r for r in results if r["name"] == "failure_slices")
    sliced = {key: entry for key, entry in figure["measurements"].items() if ", trial " in key}
    if not sliced:  # no trial failed at this scale: the verdict must say so
        assert "nothing to slice" in figure["verdict"]
        return
    for entry in sliced.values():
        final = entry["θ_10"]  # tiny: T = 10; y = G(x*, θ_T), so x* is a global minimum of f_θT on every plane through it
        assert min(final["f at those"]) < 1e-12 and final["of them local minima in R^k"] >= 1
        for method in entry["failed"]:
            profile = entry[f"θ_T, segment {method}'s end → x*"]
            assert profile["highest"] >= profile["f_start"] and profile["barrier"] >= 0
            if f"{method}: certified minimum f and distance to x*" in entry:  # the segment starts at that minimum
                f_minimum, distance = entry[f"{method}: certified minimum f and distance to x*"]
                assert profile["length"] == pytest.approx(distance) and profile["f_start"] == pytest.approx(f_minimum)


def test_the_figure_modules_measure_without_matplotlib():
    import subprocess
    import sys

    code = ("import importlib, sys\nfrom figures.__main__ import figure_modules\n"
            "modules = [importlib.import_module(f'figures.{name}') for name in figure_modules()]\n"
            "assert all(callable(m.measure) and callable(m.draw) for m in modules)\n"
            "print('matplotlib' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "False"  # the modules import, and measure, with no matplotlib loaded


def test_the_table1_report_puts_the_recorded_scales_beside_this_run(tiny_run, tmp_path):
    from figures.table1 import RESULTS, recorded_scales

    out, results = tiny_run
    report = (out / "REPORT.md").read_text()
    assert "| 8×8, narrow generator (recorded) | this run |" in report
    if any(RESULTS.glob("table1-paper-scale-*.jsonl.gz")):
        assert "28×28, the paper's generator widths (recorded)" in report
    assert recorded_scales({"per_setting": []}, results=tmp_path) is None  # nothing recorded, no table


def test_the_ccnn_report_gives_the_recorded_full_scale_study(tiny_run, tmp_path):
    from figures.ccnn import RECORDED, recorded_study
    from figures.table1 import RESULTS

    out, results = tiny_run
    report = (out / "REPORT.md").read_text()
    if (RESULTS / RECORDED).is_file():
        assert f"Recorded full-scale run (`results/{RECORDED}`" in report
        assert "| basic | 5.1 % [3.9, 6.6] | 3.37 % | 3.3 % [2.4, 4.6] | 2.38 % |" in report  # the README's row
    assert recorded_study(results=tmp_path) is None  # nothing recorded, no table


def test_the_compressed_sensing_report_gives_the_recorded_paper_scale_figures(tiny_run, tmp_path):
    from figures.compressed_sensing import recorded_paper_scale
    from figures.table1 import RESULTS

    out, results = tiny_run
    report = (out / "REPORT.md").read_text()
    if (RESULTS / "rate-distortion-paper-scale-wgan-seed0.jsonl.gz").is_file():
        assert "`rate-distortion-paper-scale-wgan-seed0.jsonl.gz`)" in report  # named where its table begins
        assert "| wgan | 30 | 0.501 [0.414, 0.585] | 0.509 [0.438, 0.572] | 17 of 40 | 0.84 |" in report  # the README's
    if (RESULTS / "compressed_sensing-paper-scale-dcgan-gpu-inversions-seed0.json.gz").is_file():  # a staged_cells export
        assert "| dcgan | 60 † | 72.5 % [57.2, 83.9] | 85.0 % [70.9, 92.9] | 40 | 0.27 |" in report  # the README's
        assert "† read from the stage checkpoints" in report
    assert recorded_paper_scale(results=tmp_path) is None  # nothing recorded, no table


def test_the_report_says_in_words_whether_the_8x8_disagreement_survives_at_the_paper_scale():
    from figures.table1 import disagreement_text

    def statistics(*verdicts):
        return {"per_setting": [{"model": m, "k": k, "verdict": v} for m, k, v in verdicts]}

    small = statistics(("vae", 20, "regular better"), ("wgan", 20, "regular better"), ("dcgan", 5, "surfing better"),
                       ("dcgan", 10, "regular better"))  # dcgan k = 10 not recorded at the paper's scale
    gone = statistics(("vae", 20, "no significant difference"), ("wgan", 20, "no significant difference"),
                      ("dcgan", 5, "surfing better"))
    assert disagreement_text(small, gone) == (
        "Of the 3 settings recorded at both scales, the 8×8 flows have regular Adam significantly better than "
        "surfing, against the paper, in 2 (vae k = 20, wgan k = 20); at the paper's scale it survives in none of them.")
    kept = statistics(("vae", 20, "no significant difference"), ("wgan", 20, "regular better"))
    assert disagreement_text(small, kept).endswith("that disagreement survives in 1 of them (wgan k = 20).")
