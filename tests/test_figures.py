import json

from figures.__main__ import figure_modules, main


def test_main_job_writes_every_figure_and_an_honest_report(tmp_path):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "REPORT.md").read_text()
    results = json.loads((tmp_path / "results.json").read_text())
    assert {r["name"] for r in results} == set(figure_modules())
    for r in results:
        for name in r["files"]:
            assert (tmp_path / name).stat().st_size > 10_000
        assert r["verdict"] in report and r["title"] in report


def test_landscape_figure_measures_a_small_critical_ball(tmp_path):
    # At the quick setting (widths [2, 50, 200], n = 250) eq. (2) holds outside a ball well inside the window.
    main(["--quick", "--out", str(tmp_path), "--only", "landscape_2d"])
    (result,) = json.loads((tmp_path / "results.json").read_text())
    measured = result["measurements"]
    assert measured["largest violating radius / (1+‖y‖)"] < 0.2
    assert measured["fraction of grid points with D_{-x/‖x‖} f_0 < 0"] > 0.9
    assert measured["distinct linear pieces met by the grid"] > 1000
