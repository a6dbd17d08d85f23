"""The examples run as a researcher would run them."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("script, arguments, expected", [
    ("theorem31_on_my_widths.py", ["2,10,30", "--trials", "2"], "median r_critical/(1+|y|)"),
    ("invert_my_network.py", [], "Adam from 25 grid starts reached the global minimiser's basin 25 times"),
    ("surf_my_flow.py", ["--k", "2", "--T", "4", "--every", "10", "--trials", "20"], "surfing: "),
])
def test_example_runs(script, arguments, expected, tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *arguments], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    help_text = subprocess.run([sys.executable, str(EXAMPLES / script), "--help"], capture_output=True, text=True,
                               timeout=120)
    assert help_text.returncode == 0 and "usage:" in help_text.stdout
