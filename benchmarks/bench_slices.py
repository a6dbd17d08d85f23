"""Exact slices: meshing a plane through a trained k = 20 generator against meshing a k = 2 network of its widths.

The generator: DCGAN with the InfoGAN layout on the 8×8 digits, k = 20, its snapshot after 200 updates (trained here
once and cached under benchmarks/out/flows). The slice: the plane through three points drawn uniformly from
[−1, 1]^20 (seed 0), meshed in [−3, 3]² (`enumerate_regions(plane.net, bounds)`). The reference: a random k = 2
network of the same hidden widths and output, meshed in the same box, in the same run (median of 5 alternating runs).
Both run the same planar mesh, so the target is ratio ≈ 1 per region: folding the plane into the first layer adds
nothing to the meshing. Reported: seconds, regions and milliseconds per region for each.

Run: .venv/bin/python benchmarks/bench_slices.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from _timing import compare, describe

OUT = Path(__file__).parent / "out"
BOUNDS = (-3.0, 3.0)


def main() -> None:
    import landscape as L
    from landscape.training import train_flow

    flow = train_flow("dcgan", OUT / "flows" / "dcgan-infogan-k20-T5-every40-seed0", k=20, T=5, every=40,
                      layout="infogan", seed=0).flow
    net = flow[flow.T]
    rng = np.random.default_rng(0)
    plane = L.plane_through(net, *rng.uniform(-1, 1, (3, 20)))
    reference = L.ReLUNet.random([2, *net.hidden_widths], out_dim=net.output_dim, rng=1)
    counts = {}

    def slice_mesh():
        counts["slice"] = len(L.enumerate_regions(plane.net, bounds=BOUNDS))

    def reference_mesh():
        counts["reference"] = len(L.enumerate_regions(reference, bounds=BOUNDS))

    timing = compare(slice_mesh, reference_mesh, repeats=5)
    per_region = {"slice_ms_per_region": 1e3 * timing["ours_s"] / counts["slice"],
                  "reference_ms_per_region": 1e3 * timing["reference_s"] / counts["reference"]}
    result = {"widths": list(net.widths), "output": net.output_dim, "regions": counts, **timing, **per_region,
              "ratio_per_region": per_region["slice_ms_per_region"] / per_region["reference_ms_per_region"]}
    print("| network | regions in [−3, 3]² | mesh (ms) | ms per region |")
    print("|---|---:|---:|---:|")
    print(f"| slice of the trained k = 20 generator {list(net.widths)} → {net.output_dim} | {counts['slice']:,} "
          f"| {timing['ours_s'] * 1e3:.0f} | {per_region['slice_ms_per_region']:.3f} |")
    print(f"| random k = 2 network of the same widths | {counts['reference']:,} | {timing['reference_s'] * 1e3:.0f} "
          f"| {per_region['reference_ms_per_region']:.3f} |")
    print(f"\nratio per region (slice / reference): {result['ratio_per_region']:.2f}")
    OUT.mkdir(exist_ok=True)
    (OUT / "slices.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    describe(__doc__)
    main()
