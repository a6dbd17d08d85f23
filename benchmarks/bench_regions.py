"""Region enumeration: regions per second of landscape.enumerate_regions against a reference that runs
the same breadth-first search but finds each region's facets with one scipy.optimize.linprog per row
(plus its Chebyshev LP), same network, same run. Target: >= 20 x. Also the 2-D fast path on a random
[2, 64, 64, 64] network in [-3, 3]^2: all regions, count and seconds (target < 10 s).

Run: .venv/bin/python benchmarks/bench_regions.py
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from scipy.optimize import linprog

import landscape as L
from landscape.activation import preactivation_maps_of_gates
from _timing import describe


def reference_enumeration(net, bounds, limit):
    """BFS over facet adjacency; facets by one LP per row. Stops after ``limit`` regions."""
    k = net.input_dim

    def halfspaces(gates):
        M, m = preactivation_maps_of_gates(net, gates)
        sign = np.where(gates, -1.0, 1.0)
        G, h = sign[:, None] * M, -sign * m
        if bounds is not None:
            G = np.vstack([G, np.eye(k), -np.eye(k)])
            h = np.concatenate([h, np.full(k, bounds[1]), np.full(k, -bounds[0])])
        return G, h

    def has_interior(G, h):
        norms = np.linalg.norm(G, axis=1)
        res = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.c_[G, norms], b_ub=h,
                      bounds=[(None, None)] * k + [(0, 1)], method="highs")
        return res.status == 0 and res.x[-1] > 1e-9

    def facets(G, h):
        out = []
        for r in range(net.n_hidden):
            if not np.any(G[r]):
                continue
            relaxed = h.copy()
            relaxed[r] += 1.0
            res = linprog(-G[r], A_ub=G, b_ub=relaxed, bounds=[(None, None)] * k, method="highs")
            if res.status == 0 and -res.fun > h[r] + 1e-9 * (1 + abs(h[r])):
                out.append(r)
        return out

    start = L.activation_pattern(net, np.zeros(k) + 1e-3).unpack()
    seen, queue = {start.tobytes()}, deque([start])
    while queue and len(seen) < limit:
        gates = queue.popleft()
        G, h = halfspaces(gates)
        for r in facets(G, h):
            neighbour = gates.copy()
            neighbour[r] = not neighbour[r]
            key = neighbour.tobytes()
            if key not in seen and has_interior(*halfspaces(neighbour)):
                seen.add(key)
                queue.append(neighbour)
    return len(seen)


def rate(fn):
    start = time.perf_counter()
    count = fn()
    seconds = time.perf_counter() - start
    return count, seconds, count / seconds


def main():
    print("| network | region set | ours: regions, s, regions/s | reference: regions, s, regions/s | speed-up | target |")
    print("|---|---|---|---|---:|---|")
    cases = [
        ([3, 12, 12], None, "all of R^3", 150),
        ([2, 24, 24], None, "all of R^2", 150),
        ([2, 64, 64, 64], (-3.0, 3.0), "[-3, 3]^2 (2-D fast path)", 60),
    ]
    for widths, bounds, label, limit in cases:
        net = L.ReLUNet.random(widths, rng=0)
        ours = rate(lambda: len(L.enumerate_regions(net, bounds=bounds)))
        reference = rate(lambda: reference_enumeration(net, bounds, limit))
        print(f"| {widths} | {label} | {ours[0]}, {ours[1]:.2f}, {ours[2]:.0f} | {reference[0]}, {reference[1]:.2f}, "
              f"{reference[2]:.1f} | {ours[2] / reference[2]:.0f} × | >= 20 × |", flush=True)


if __name__ == "__main__":
    describe(__doc__)
    main()
