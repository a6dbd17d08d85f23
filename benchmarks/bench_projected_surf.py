"""Algorithm 2 per step, split into the piece search P(x_{t-1}, θ_t, τ) and the per-piece QPs, for k = 5 and 10,
widths [k, 50, 200], T = 100 (a smooth flow; y = G(x∘, θ_T); started at x∘, since the global minimiser of f_θ0
would need every region of a 250-neuron network).

Reference for the piece search, same run: every one of the 2^|S| sign choices on S(x, θ, τ), one
scipy.optimize.linprog interior test each (the definition, as in tests/naive.py), on steps with |S| <= 10.

Run: .venv/bin/python benchmarks/bench_projected_surf.py
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

import landscape as L
from _timing import HEADER, compare, describe, row
from landscape.activation import preactivation_maps_of_gates


def brute_force_pieces(net: L.ReLUNet, x: np.ndarray, tau: float) -> int:
    """|P(x, θ, τ)| by testing every flip of S(x, θ, τ) for an interior with one LP each."""
    k = net.input_dim
    base = L.activation_pattern(net, x).unpack()
    flips = np.flatnonzero(L.near_zero_mask(net, x, tau))
    count = 0
    for choice in itertools.product((False, True), repeat=len(flips)):
        gates = base.copy()
        gates[flips[list(choice)]] ^= True
        M, m = preactivation_maps_of_gates(net, gates)
        sign = np.where(gates, -1.0, 1.0)
        G, h = sign[:, None] * M, -sign * m
        norms = np.linalg.norm(G, axis=1)
        res = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.c_[G, norms], b_ub=h,
                      bounds=[(None, None)] * k + [(0, 1)], method="highs")
        count += res.status == 0 and res.x[-1] > 1e-9
    return count


def main(T: int = 100, tau: float = 0.002):
    print(f"τ = {tau}")
    print("| k | widths | steps | \\|S\\| per step: median (max) | pieces per step: median (max) "
          "| piece search ms/step: median (max) | QPs ms/step: median (max) | total s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    checks = []
    for k in (5, 10):
        widths = [k, 50, 200]
        flow = L.NetworkFlow.smooth_random(widths, T, amplitude=0.05, start_distance=0.2, rng=k)
        x_generating = np.random.default_rng(k).uniform(-1, 1, k)
        y = flow[T].forward(x_generating)
        result = L.projected_surf(flow, y, tau, x0=x_generating)
        search, solve = 1e3 * result.search_seconds, 1e3 * result.solve_seconds
        sizes = [np.count_nonzero(L.near_zero_mask(flow[t], result.iterates[t - 1], tau)) for t in range(1, T + 1)]
        print(f"| {k} | {widths} | {T} | {np.median(sizes):.0f} ({max(sizes)}) "
              f"| {np.median(result.pieces):.0f} ({result.pieces.max()}) "
              f"| {np.median(search):.1f} ({search.max():.1f}) | {np.median(solve):.1f} ({solve.max():.1f}) "
              f"| {result.search_seconds.sum() + result.solve_seconds.sum():.1f} |")
        small = [t for t in range(1, T + 1)
                 if 4 <= np.count_nonzero(L.near_zero_mask(flow[t], result.iterates[t - 1], tau)) <= 10]
        for t in small[:3]:
            net, x = flow[t], result.iterates[t - 1]
            assert len(L.pieces(net, x, tau)) == brute_force_pieces(net, x, tau)
            checks.append((k, t, int(np.count_nonzero(L.near_zero_mask(net, x, tau))),
                           compare(lambda: L.pieces(net, x, tau), lambda: brute_force_pieces(net, x, tau), 3)))
    print()
    print(HEADER)
    for k, t, size, timing in checks:
        print(row(f"P(x, θ, τ) search, k = {k}, step {t}, \\|S\\| = {size}", timing, "report"))


if __name__ == "__main__":
    describe(__doc__)
    main()
