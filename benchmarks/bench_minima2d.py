"""Exact 2-D minimisers on trained generators: the pruned search against one certified QP per region, same run.

For trained 8×8 generators with k = 2 (snapshots every 40 updates, BN folded, flows cached under benchmarks/out):
VAE and WGAN-GP with the MLP layout [2, 32, 64] → 64 (the architecture of the full-scale `trained_flows` figure),
and DCGAN with the MLP layout [2, 64, 128, 64] → 64, each T = 100, and the InfoGAN-layout DCGAN
[2, 128, 128, 256] → 64 (T = 25); target y = G(x°, θ_T) with x° ~ U[−1, 1]² (seed 0), box [−2, 2]².

- `minimizer_path(flow, y, bounds)` over every snapshot: seconds (one run after a warm-up), the share of
  regions that needed a QP (median and largest over snapshots), basin jumps. Target: < 10 s for T = 100.
- `global_minimizer(f, regions=R)` on a planar RegionSet (pruned) against the same regions without their mesh
  (`local_minima` there: one certified QP per region), on the snapshots listed, median of 3 alternating runs;
  the answers (x*, f*, gap) are compared.

Run: .venv/bin/python benchmarks/bench_minima2d.py
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from _timing import compare, describe

OUT = Path(__file__).parent / "out"
BOUNDS = (-2.0, 2.0)
FLOWS = {  # name: (model, layout, hidden, T, snapshots compared with one QP per region)
    "VAE, MLP [2, 32, 64] -> 64": ("vae", "mlp", (32, 64), 100, (50, 100)),
    "WGAN-GP, MLP [2, 32, 64] -> 64": ("wgangp", "mlp", (32, 64), 100, (50, 100)),
    "DCGAN, MLP [2, 64, 128, 64] -> 64": ("dcgan", "mlp", (64, 128, 64), 100, (100,)),
    "DCGAN, InfoGAN [2, 128, 128, 256] -> 64": ("dcgan", "infogan", (), 25, ()),
}


def trained(model: str, layout: str, hidden: tuple, T: int):
    from landscape.training import train_flow

    name = f"{model}-{layout}{'x'.join(map(str, hidden))}-k2-T{T}-every40-seed0"
    return train_flow(model, OUT / "flows" / name, k=2, T=T, every=40, layout=layout, hidden=hidden or None,
                      seed=0).flow


def main() -> None:
    import landscape as L
    from landscape.touching import same_point
    from landscape import RegionSet

    warnings.simplefilter("ignore", UserWarning)  # minimisers on the box face are counted, not warned about
    results = {}
    print("| generator | T | minimizer_path (s) | QP share: median, largest | jumps | snapshot | regions "
          "| pruned (ms) | one QP per region (ms) | ratio | same answer |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for name, (model, layout, hidden, T, compared) in FLOWS.items():
        flow = trained(model, layout, hidden, T)
        y = flow[T].forward(np.random.default_rng(0).uniform(-1.0, 1.0, 2))
        L.global_minimizer(L.Objective(flow[0], y), bounds=BOUNDS)  # warm-up: compilation
        start = time.perf_counter()
        path = L.minimizer_path(flow, y, bounds=BOUNDS)
        seconds = time.perf_counter() - start
        entry = {"T": T, "path_s": seconds, "qp_share_median": float(np.median(path.qp_fractions)),
                 "qp_share_max": float(path.qp_fractions.max()), "jumps": len(path.jumps), "snapshots": []}
        head = (f"| {name} | {T} | {seconds:.2f} | {100 * entry['qp_share_median']:.3f} %, "
                f"{100 * entry['qp_share_max']:.3f} % | {len(path.jumps)} |")
        if not compared:
            print(head + " | | | | | | |", flush=True)
        for t in compared:
            f = L.Objective(flow[t], y)
            regions = L.enumerate_regions(flow[t], bounds=BOUNDS)
            plain = RegionSet(regions.net, list(regions), regions.adjacency, regions.bounds)
            answers = {}

            def pruned():
                answers["pruned"] = L.global_minimizer(f, regions=regions)

            def one_per_region():  # every local minimum, one certified QP per region (the LP path unordered)
                answers["full"] = L.local_minima(f, regions=plain)

            timing = compare(pruned, one_per_region, repeats=3)
            a, every = answers["pruned"], answers["full"]
            b = every[0]
            others = [m for m in every if not same_point(m.x, b.x)]
            gap = 0.0 if b.flat_dimension else (others[0].value - b.value if others else float("inf"))
            same = bool(same_point(a.x, b.x) and abs(a.value - b.value) <= 1e-9 * (1 + b.value)
                        and (a.gap == gap or abs(a.gap - gap) <= 1e-9 * (1 + abs(gap))))
            entry["snapshots"].append({"t": t, "regions": len(regions), **timing, "same_answer": same})
            print(f"{head} {t} | {len(regions):,} | {timing['ours_s'] * 1e3:.1f} | {timing['reference_s'] * 1e3:.0f} "
                  f"| {timing['ratio']:.4f} | {'yes' if same else 'NO'} |", flush=True)
            head = "| | | | | |"
        results[name] = entry
    OUT.mkdir(exist_ok=True)
    (OUT / "minima2d.json").write_text(json.dumps(results, indent=2))
    ratios = [s["ratio"] for e in results.values() for s in e["snapshots"]]
    print(f"\nmedian ratio pruned / one QP per region: {statistics.median(ratios):.4f}")


if __name__ == "__main__":
    describe(__doc__)
    main()
