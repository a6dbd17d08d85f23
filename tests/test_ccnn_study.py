"""The CCNN study (proofs_check ccnn) on a tiny configuration: every table entry, comparison and contrast is
recomputed here from the trial records, and bad settings are refused by name."""

import gzip
import json

import numpy as np
import pytest

from proofs_check import ccnn
from proofs_check._stats import holm, mcnemar_exact, wilson_interval

TINY = dict(variants=("basic", "rot"), starts=3, ccnn_starts=2, train=60, radii=(2.0, 50.0), cnn_epochs=2,
            cnn_batch=20, ccnn_max_iterations=30, validation_iterations=10,
            layers=({"patch": 5, "pool": 4, "features": 12, "rank": 3}, {"patch": 3, "pool": 2, "features": 10, "rank": 2}))


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    return tmp_path_factory.mktemp("ccnn") / "ccnn.jsonl"


@pytest.fixture(scope="module")
def tiny(journal):
    return ccnn.run(workers=1, journal=journal, **TINY)


def test_the_study_runs_every_cell_and_its_statistics_follow_from_the_records(tiny):
    records = tiny.records
    assert len(records) == 2 * 4 + 2 + 1  # every (variant, model) at start 0, 2 more CNN-1 starts, 1 more CCNN-1
    first = {(r["variant"], r["model"]): r for r in records if r["start"] == 0}
    for row in tiny.statistics["table"]:
        r = first[row["variant"], row["model"]]
        assert r["test_digits"] == 1000 and row["test_error"] == len(r["wrong"]) / 1000
        assert row["ci95"] == list(wilson_interval(len(r["wrong"]), 1000))
        assert row["notes"] == ccnn.NOTES[row["model"]][row["variant"]]
    comparisons = tiny.statistics["comparisons"]
    assert [(c["variant"], c["depth"]) for c in comparisons] == [("basic", 1), ("basic", 2), ("rot", 1), ("rot", 2)]
    for c in comparisons:
        cnn, convex = (set(first[c["variant"], f"{m}{c['depth']}"]["wrong"]) for m in ("cnn", "ccnn"))
        assert c["mcnemar_p"] == mcnemar_exact(len(cnn - convex), len(convex - cnn))
    assert [c["holm_p"] for c in comparisons] == holm([c["mcnemar_p"] for c in comparisons])
    table = ccnn.table_text(tiny.statistics).splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| basic | ") and "| 3.37 % |" in table[2]
    for r in records:  # the radius with the lowest validation error, or the first of a tie
        if r["model"].startswith("ccnn"):
            assert r["radius"] == TINY["radii"][int(np.argmin(r["validation_errors"]))]
            assert r["radius_at_edge"] == (r["radius"] == 50.0)
    edge = tiny.statistics["radius_choice"]
    assert edge["ccnn_fits"] == 2 * 2 + 1
    assert edge["at_largest_radius"] == sum(r.get("radius_at_edge", False) for r in records)
    assert ("chose the grid's largest radius" in tiny.verdict) == (edge["at_largest_radius"] > 0)
    short = [r for r in records if r["model"].startswith("ccnn") and not all(r["certified"])]
    tolerance = tiny.statistics["tolerance"]
    assert tolerance["short_of_tolerance"] == len(short) and tolerance["ccnn_fits"] == edge["ccnn_fits"]
    assert tolerance["largest_gap"] == max((max(r["gaps"]) for r in short), default=0.0)
    assert ("stopped at the step limit" in tiny.verdict) == bool(short)


def test_the_contrast_compares_cnn_starts_with_ccnn_starts_on_one_problem(tiny):
    contrast = tiny.statistics["contrast"]
    cnn = [r for r in tiny.records if r["model"] == "cnn1" and r["variant"] == "basic"]
    assert contrast["cnn1"]["train_losses"] == [r["train_loss"] for r in sorted(cnn, key=lambda r: r["start"])]
    assert len(set(contrast["cnn1"]["train_losses"])) == 3  # other initialisations, other losses
    convex = sorted((r for r in tiny.records if r["model"] == "ccnn1" and r["variant"] == "basic"),
                    key=lambda r: r["start"])
    assert [r["start"] for r in convex] == [0, 1] and convex[0]["radius"] == convex[1]["radius"]
    losses = [r["train_loss"] for r in convex]
    assert contrast["ccnn1"]["loss_spread"] == max(losses) - min(losses)
    assert contrast["ccnn1"]["within_gaps"] == (max(losses) - min(losses) <= max(r["gaps"][-1] for r in convex))
    assert "CCNN-1 from 2 starts" in tiny.verdict


def test_the_summaries_follow_from_the_journal_alone_and_a_foreign_or_short_journal_is_refused(tiny, journal, tmp_path):
    packed = tmp_path / "ccnn.jsonl.gz"  # as recorded in results/
    packed.write_bytes(gzip.compress(journal.read_bytes()))
    recorded = ccnn.journal_statistics(packed)
    assert json.loads(json.dumps(recorded["statistics"])) == json.loads(tiny.to_json())["statistics"]
    assert (recorded["verdict"], recorded["holds"]) == (tiny.verdict, tiny.holds)
    assert recorded["finished"] and recorded["trials"] == len(tiny.records)
    lines = journal.read_text().splitlines()
    header = json.loads(lines[0])
    first_cell = next(i for i, line in enumerate(lines[1:], 1) if json.loads(line)["trial"] == 0)
    short = tmp_path / "short.jsonl"  # the error table's first cell missing
    short.write_text("\n".join(line for i, line in enumerate(lines) if i != first_cell) + "\n")
    with pytest.raises(ValueError, match=r"lacks cells of the error table \(variation, model\): \[\('basic', 'cnn1'\)\]"):
        ccnn.journal_statistics(short)
    contrast_only = tmp_path / "partial.jsonl"  # the last contrast start missing: summarised, marked unfinished
    contrast_only.write_text("\n".join(lines[:-1]) + "\n")
    assert json.loads(lines[-1])["trial"] >= 8 and not ccnn.journal_statistics(contrast_only)["finished"]
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text(json.dumps({"seed": 0, "n_trials": 1, "settings": {"cells": [["dcgan", 5, 0]]}}) + "\n")
    with pytest.raises(ValueError, match="is not a CCNN study's journal"):
        ccnn.journal_statistics(foreign)
    with pytest.raises(ValueError, match="cannot be read as a trial journal"):
        ccnn.journal_statistics(tmp_path / "absent.jsonl.gz")
    assert header["settings"]["contrast_variant"] == "basic"


def test_the_study_refuses_bad_settings_by_name():
    for settings, message in [
        ({"variants": ("basic", "noise")}, "variants must be a non-empty list"),
        ({"models": ()}, "models must be a non-empty list"),
        ({"contrast_variant": "img"}, "contrast_variant must be one of the variants"),
        ({"train": 5000}, "train must be 10 … 4000"),
        ({"radii": (0.0,)}, "radii"),
        ({"radii": "100"}, "radii must be a non-empty list"),
        ({"starts": 0}, "starts must be an integer >= 1"),
        ({"validation_iterations": 0}, "validation_iterations must be an integer >= 1"),
        ({"feature_seed": -1}, "feature_seed must be an integer >= 0"),
        ({"layers": ({"patch": 29}, {})}, r"layers\[0\] \(layer 1\): patch must be at most the images' 28 pixels"),
        ({"layers": ({"patch": 5, "pool": 4}, {"patch": 7})}, r"layers\[1\] \(layer 2\): patch must be at most layer 1's "
                                                             "pooled grid 6 × 6; got 7"),
        ({"layers": ({"patch": 5, "radius": 3.0}, {})}, "must not set radius"),
        ({"layers": ({"pool": 0}, {})}, r"layers\[0\] \(layer 1\): pool must be an integer >= 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            ccnn.run(variants=settings.pop("variants", ("basic",)), workers=1, **settings)
