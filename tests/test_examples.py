"""The examples run as a researcher would run them."""

import subprocess
import sys
from pathlib import Path

import pytest

from landscape import NetworkFlow

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("script, arguments, expected", [
    ("theorem31_on_my_widths.py", ["2,10,30", "--trials", "2"], "median r_critical/(1+|y|)"),
    ("invert_my_network.py", [], "Adam from 25 grid starts reached the global minimiser's basin 25 times"),
    ("surf_my_flow.py", ["saved-flow.npz", "--trials", "20"], "surfing: "),  # training a flow: tests/test_training.py
])
def test_example_runs(script, arguments, expected, tmp_path):
    if "saved-flow.npz" in arguments:
        NetworkFlow.smooth_random([2, 8, 16], T=4, out_dim=20, rng=0).save(tmp_path / "saved-flow.npz")
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *arguments], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    help_text = subprocess.run([sys.executable, str(EXAMPLES / script), "--help"], capture_output=True, text=True,
                               timeout=120)
    assert help_text.returncode == 0 and "usage:" in help_text.stdout
