import json

import numpy as np
import pytest

from proofs_check import CheckResult, affine_form, hand_voroninski
from proofs_check.__main__ import main
from proofs_check._runner import run_trials


def test_affine_form_identities_hold_with_and_without_measurements():
    for m in (None, 25):
        result = affine_form.run(trials=20, widths=(3, 15, 40), m=m, seed=1, workers=1)
        assert result.holds, result.verdict
        assert result.statistics["max_linear_form_rel_error"] < 1e-12
        assert result.statistics["trials_with_stencil_on_one_piece"] >= 15


def test_same_seed_same_json_at_one_and_two_workers_and_round_trip():
    a, b = affine_form.quick(seed=4, workers=1), affine_form.quick(seed=4, workers=2)
    assert a.to_json() == b.to_json()
    assert CheckResult.from_json(a.to_json()) == a
    assert affine_form.quick(seed=5, workers=1).to_json() != a.to_json()


def test_command_line_writes_json(tmp_path):
    path = tmp_path / "out.json"
    assert main(["affine_form", "--quick", "--seed", "2", "--json", str(path), "--workers", "1"]) == 0
    assert json.loads(path.read_text())["check"] == "affine_form"


def _draw(index, seed, settings):
    return {"index": index, "value": float(np.random.default_rng(seed).normal()) * settings["scale"]}


def test_runner_resumes_from_a_cut_journal_and_refuses_a_foreign_one(tmp_path):
    journal = tmp_path / "run.jsonl"
    full = run_trials(_draw, 6, 3, {"scale": 2.0}, workers=1, journal=journal)
    lines = journal.read_text().splitlines()
    assert len(lines) == 7  # header + one line per trial
    journal.write_text("\n".join(lines[:3]) + '\n{"trial": 5, "rec')  # two trials kept, one line cut by a kill
    assert run_trials(_draw, 6, 3, {"scale": 2.0}, workers=2, journal=journal) == full
    assert full == run_trials(_draw, 6, 3, {"scale": 2.0}, workers=2)
    with pytest.raises(ValueError, match="different settings"):
        run_trials(_draw, 6, 3, {"scale": 3.0}, workers=1, journal=journal)
    with pytest.raises(ValueError, match="n_trials"):
        run_trials(_draw, 0, 3, {}, workers=1)


def test_rho_matches_its_closed_forms():
    assert hand_voroninski.rho(1) == pytest.approx(0.0, abs=1e-15)
    assert hand_voroninski.rho(2) == pytest.approx(1 / np.pi)
    theta2 = np.arccos(1 / np.pi)  # theta_1 = pi/2, theta_2 = arccos(((pi - pi/2) cos(pi/2) + sin(pi/2)) / pi)
    assert hand_voroninski.rho(3) == pytest.approx((np.pi - theta2) / np.pi**2 + np.sin(theta2) / np.pi)
    values = [hand_voroninski.rho(d) for d in range(1, 12)]
    assert all(0 <= a < b < 1 for a, b in zip(values, values[1:]))


def test_hand_voroninski_minima_sit_near_x0_and_minus_rho_x0():
    result = hand_voroninski.run(widths=((2, 100, 200),), m_values=(None,), trials=3, seed=0, workers=2)
    (summary,) = result.statistics["per_setting"]
    assert summary["x0_always_a_minimum"]
    assert summary["max_worst_distance"] < 0.35
    assert abs(summary["mean_scale_of_negative_minima"] - hand_voroninski.rho(2)) < 0.1


def test_hand_voroninski_refuses_bad_settings():
    with pytest.raises(ValueError, match="not expansive"):
        hand_voroninski.run(widths=((2, 10, 5),))
    with pytest.raises(ValueError, match="k = 2"):
        hand_voroninski.run(widths=((3, 10, 20),))
    with pytest.raises(ValueError, match="m_values"):
        hand_voroninski.run(widths=((2, 10, 20),), m_values=(0,))
    with pytest.raises(ValueError, match="trials"):
        hand_voroninski.run(trials=0)
    with pytest.raises(ValueError, match="trials"):
        affine_form.run(trials=0)
    narrow = hand_voroninski.run(widths=((2, 6, 4),), m_values=(None,), trials=1, workers=1, allow_non_expansive=True)
    assert "does not apply" in narrow.verdict
