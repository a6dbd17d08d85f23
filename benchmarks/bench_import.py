"""Import plus first call of every core kernel, in a fresh interpreter.

Warm: Numba's on-disk cache already holds the kernels (target: under 2 s on the 2-core machine).
Cold: an empty cache, so the first call compiles (reported). Both are also given as a ratio to
the same interpreter importing numpy alone. Run: .venv/bin/python benchmarks/bench_import.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from _timing import describe

FIRST_CALL = """
import numpy as np
import landscape as L
net = L.ReLUNet.random([3, 16, 32], out_dim=40, rng=0)
X = np.random.default_rng(1).normal(size=(50, 3))
L.activation_pattern(net, X, return_preactivations=True)
L.near_zero_mask(net, X, 0.1)
f = L.Objective(net, np.zeros(40))
f.value_and_grad(X)
f.directional_derivative(X, -X)
"""


def run(code: str, cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def main(repeats: int = 5):
    baseline = statistics.median(run("import numpy", tempfile.mkdtemp()) for _ in range(repeats))
    cold = statistics.median(run(FIRST_CALL, tempfile.mkdtemp(prefix="numba-cold-")) for _ in range(3))
    warm_dir = tempfile.mkdtemp(prefix="numba-warm-")
    run(FIRST_CALL, warm_dir)
    warm = statistics.median(run(FIRST_CALL, warm_dir) for _ in range(repeats))
    print("| measurement | seconds | ÷ `import numpy` | target |")
    print("|---|---:|---:|---|")
    print(f"| `import numpy` alone | {baseline:.2f} | 1.0 | |")
    print(f"| import + first calls, warm Numba cache | {warm:.2f} | {warm / baseline:.1f} | < 2 s |")
    print(f"| import + first calls, cold (compiles) | {cold:.2f} | {cold / baseline:.1f} | reported |")


if __name__ == "__main__":
    describe(__doc__)
    main()
