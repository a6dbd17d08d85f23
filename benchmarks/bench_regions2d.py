"""Exact 2-D region meshes against regioncam (Rust, float32; a benchmark-only dependency), same networks, same run.

`enumerate_regions(net, bounds, method="planar")` (the planar mesh, float64, with every region's facets, adjacency
and lazily its H-representation and affine map) against `regioncam.Regioncam` building the same network's regions,
and, where it is small enough, against this toolkit's LP search (`method="lp"`). Median of 3 alternating runs
after a warm-up. Regions per second = regions ÷ seconds; ratio = ours ÷ regioncam's (target ≥ 1.0). The region
sets are compared: the pattern at the centroid of each regioncam face against ours.

Networks: random [2, 64, 64, 64] on [−3, 3]² (seeds 0 and 1), [2, 24, 24] on [−3, 3]², a trained 8×8 DCGAN
generator with k = 2 (infogan layout [2, 128, 128, 256] → 64, BN folded, 1,000 updates, cached under
benchmarks/out), and [2, 200, 200, 200] on [−6, 6]² with its peak memory (a child process's max RSS).

Run: .venv/bin/python benchmarks/bench_regions2d.py   (needs `pip install regioncam==0.5.2`, or `make bench`)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _timing import describe

OUT = Path(__file__).parent / "out"


def networks():
    import landscape as L
    from landscape.training import train_flow

    trained = train_flow("dcgan", OUT / "flows" / "dcgan-infogan-k2-T25-every40-seed0", k=2, T=25, every=40,
                         seed=0).flow
    return {"random [2, 64, 64, 64], seed 0, [-3, 3]^2": (L.ReLUNet.random([2, 64, 64, 64], rng=0), 3.0),
            "random [2, 64, 64, 64], seed 1, [-3, 3]^2": (L.ReLUNet.random([2, 64, 64, 64], rng=1), 3.0),
            "random [2, 24, 24], [-3, 3]^2": (L.ReLUNet.random([2, 24, 24], rng=2), 3.0),
            "trained DCGAN [2, 128, 128, 256] -> 64, [-3, 3]^2": (trained[trained.T], 3.0)}


def regioncam_faces(net, half_width: float):
    import regioncam

    camera = regioncam.Regioncam(size=half_width)
    for W, b in zip(net.weights, net.effective_biases):
        camera.linear(W.T.astype(np.float32), b.astype(np.float32))
        camera.relu()
    return camera


def same_regions(net, camera, ours) -> bool:
    import landscape as L

    inputs = np.asarray(camera.vertex_inputs, dtype=float)
    centroids = np.array([inputs[face.vertex_ids].mean(axis=0) for face in camera.faces])
    theirs = {p.bits for p in L.activation_pattern(net, centroids)}
    return theirs == {r.pattern.bits for r in ours}


def peak_memory(widths, half_width) -> tuple[int, float, float]:
    """Regions, seconds and peak RSS (GB, VmHWM: getrusage's maxrss survives exec, so a child would report this
    process's peak) of one planar enumeration in a fresh process."""
    code = ("import json, time, landscape as L\n"
            f"net = L.ReLUNet.random({widths}, rng=0)\n"
            "start = time.perf_counter()\n"
            f"regions = L.enumerate_regions(net, bounds=(-{half_width}, {half_width}), max_regions=10**7)\n"
            "seconds = time.perf_counter() - start\n"
            "peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
            "print(json.dumps([len(regions), seconds, peak / 2**20]))")
    return tuple(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                           check=True).stdout))


def main() -> None:
    import landscape as L

    print("| network | regions | regioncam faces | ours (s) | regions/s ours | regioncam (s) | regions/s regioncam "
          "| ours ÷ regioncam | same regions | LP search (s) |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
          flush=True)
    for label, (net, half_width) in networks().items():
        bounds = (-half_width, half_width)
        ours = L.enumerate_regions(net, bounds=bounds, max_regions=10**7)
        camera = regioncam_faces(net, half_width)
        ours_s, theirs_s = [], []
        for r in range(3):
            runs = [(lambda: L.enumerate_regions(net, bounds=bounds, max_regions=10**7), ours_s),
                    (lambda: regioncam_faces(net, half_width), theirs_s)]
            for run, sink in runs if r % 2 == 0 else runs[::-1]:
                start = time.perf_counter()
                run()
                sink.append(time.perf_counter() - start)
        mine, theirs = statistics.median(ours_s), statistics.median(theirs_s)
        lp = ""
        if len(ours) <= 20_000:
            start = time.perf_counter()
            L.enumerate_regions(net, bounds=bounds, method="lp", max_regions=10**7)
            lp = f"{time.perf_counter() - start:.2f}"
        print(f"| {label} | {len(ours)} | {camera.num_faces} | {mine:.3f} | {len(ours) / mine:,.0f} | {theirs:.3f} | "
              f"{camera.num_faces / theirs:,.0f} | {(len(ours) / mine) / (camera.num_faces / theirs):.2f} | "
              f"{same_regions(net, camera, ours)} | {lp} |", flush=True)
    regions, seconds, gigabytes = peak_memory([2, 200, 200, 200], 6)
    print(f"\n[2, 200, 200, 200] on [-6, 6]^2: {regions} regions in {seconds:.1f} s, peak RSS {gigabytes:.2f} GB "
          f"(target <= 1 GB)")


if __name__ == "__main__":
    describe(__doc__)
    main()
