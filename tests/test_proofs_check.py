import json

import pytest

from proofs_check import CheckResult, affine_form
from proofs_check.__main__ import main


def test_affine_form_identities_hold_with_and_without_measurements():
    for m in (None, 25):
        result = affine_form.run(trials=20, widths=(3, 15, 40), m=m, seed=1)
        assert result.holds, result.verdict
        assert result.statistics["max_linear_form_rel_error"] < 1e-12
        assert result.statistics["trials_with_stencil_on_one_piece"] >= 15


def test_same_seed_same_json_and_round_trip():
    a, b = affine_form.quick(seed=4), affine_form.quick(seed=4)
    assert a.to_json() == b.to_json()
    assert CheckResult.from_json(a.to_json()) == a
    assert affine_form.quick(seed=5).to_json() != a.to_json()


def test_command_line_writes_json(tmp_path):
    path = tmp_path / "out.json"
    assert main(["affine_form", "--quick", "--seed", "2", "--json", str(path)]) == 0
    assert json.loads(path.read_text())["check"] == "affine_form"


def test_zero_trials_is_refused():
    with pytest.raises(ValueError, match="trials"):
        affine_form.run(trials=0)
