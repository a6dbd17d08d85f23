"""Algorithm 1 throughput: 300 inversions in one batched `surf` call against 300 single-inversion calls of
the same code (same flow, targets, starts and step budget). Target: >= 10 x.

Run: .venv/bin/python benchmarks/bench_surfing.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import landscape as L
from _timing import describe


def main(trials: int = 300, repeats: int = 3):
    flow = L.NetworkFlow.smooth_random([5, 50, 200], T=20, out_dim=300, rng=0)
    rng = np.random.default_rng(1)
    x_star = rng.uniform(-1, 1, size=(trials, 5))
    Y = flow[flow.T].forward(x_star)
    X0 = rng.uniform(-1, 1, size=(trials, 5))
    options = dict(optimizer="adam", lr=0.01, budget=200, max_steps=300, tol=1e-6)

    batched = L.surf(flow, Y, x0=X0, **options)
    single = [L.surf(flow, Y[i], x0=X0[i], **options) for i in range(5)]
    for i, s in enumerate(single):  # same answers, batched or not
        np.testing.assert_allclose(s.x, batched.x[i], rtol=1e-9, atol=1e-12)

    t_batch, t_single = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        L.surf(flow, Y, x0=X0, **options)
        t_batch.append(time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(trials):
            L.surf(flow, Y[i], x0=X0[i], **options)
        t_single.append(time.perf_counter() - start)
    b, s = statistics.median(t_batch), statistics.median(t_single)
    print("| Algorithm 1, [5, 50, 200] → 300, T = 20, 300 inversions | seconds | throughput ratio | target |")
    print("|---|---:|---:|---|")
    print(f"| one batched call | {b:.2f} | {s / b:.1f} × | >= 10 × |")
    print(f"| 300 single calls | {s:.2f} | 1 | |")


if __name__ == "__main__":
    describe(__doc__)
    main()
