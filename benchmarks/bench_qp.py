"""Per-polytope QP, k = 10 with 300 rows (regions of a random [10, 100, 200] network, readout n = 300).

Ratios (medians over the same QPs, interleaved):
  landscape.qp / direct DAQP call on the same matrices   target <= 3
  fresh cvxpy Problem per QP / landscape.qp               target >= 10
Run: .venv/bin/python benchmarks/bench_qp.py
"""

from __future__ import annotations

import statistics
import time

import cvxpy as cp
import daqp
import numpy as np

import landscape as L
from landscape.qp import polytope_qp
from _timing import describe


def problems(count: int = 40):
    rng = np.random.default_rng(0)
    net = L.ReLUNet.random([10, 100, 200], out_dim=300, rng=rng)
    f = L.Objective(net, rng.normal(size=300))
    out = []
    for x in rng.normal(size=(count, 10)):
        region = L.region_of(net, x)
        J, c = region.affine
        out.append((J, f.y - c, np.array(region.G), np.array(region.h)))
    return out


def ours(M, v, G, h):
    return polytope_qp(10, 300).solve(M, v, G, h).value


def direct(M, v, G, h):
    x, *_ = daqp.solve(M.T @ M, -(M.T @ v), G, h)
    return 0.5 * float(np.sum((M @ x - v) ** 2))


def fresh(M, v, G, h):
    x = cp.Variable(M.shape[1])
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(M @ x - v)), [G @ x <= h])
    problem.solve(solver=cp.DAQP)
    return problem.value


def per_solve(fn, qps, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for q in qps:
            fn(*q)
        times.append((time.perf_counter() - start) / len(qps))
    return statistics.median(times)


def main():
    qps = problems()
    for q in qps:
        a, b, c = ours(*q), direct(*q), fresh(*q)
        assert abs(a - b) <= 1e-6 * (1 + abs(b)) and abs(a - c) <= 1e-5 * (1 + abs(c)), (a, b, c)
    t_direct, t_ours, t_fresh = [], [], []
    for _ in range(5):
        t_direct.append(per_solve(direct, qps, 3))
        t_ours.append(per_solve(ours, qps, 3))
        t_fresh.append(per_solve(fresh, qps[:10], 1))
    d, o, fr = (statistics.median(t) for t in (t_direct, t_ours, t_fresh))
    print("| QP, k = 10, 300 rows | ms per solve | ratio | target |")
    print("|---|---:|---:|---|")
    print(f"| direct DAQP call | {d * 1e3:.3f} | 1 | |")
    print(f"| landscape.qp (certified) | {o * 1e3:.3f} | {o / d:.2f} × direct | <= 3 |")
    print(f"| fresh cvxpy Problem per QP (DAQP) | {fr * 1e3:.3f} | {fr / o:.1f} × landscape.qp | landscape >= 10 × faster |")


if __name__ == "__main__":
    describe(__doc__)
    main()
