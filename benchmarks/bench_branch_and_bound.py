"""Branch and bound for the certified global minimum, against enumeration and across bounds, same run.

Generators: DCGAN with the InfoGAN layout on the 8×8 digits (Table 1's widths: FC 128 → FC 32·2·2 → ConvT 16 →
ConvT 1), trained here for 200 updates (T = 5 snapshots every 40; cached under benchmarks/out/flows), at
k = 2, 3, 4, 5; targets: held-out digits (the first three of the held-out split); box [−1, 1]^k (the GANs' prior).

1. k = 2: `branch_and_bound(f, (−1, 1))` (linear bounds) against `global_minimizer(f, bounds=(−1, 1),
   runner_up=False)`, which meshes the whole box; the same value to the certificate's tolerance; seconds of each
   (median of 3, alternating) and their ratio (target: branch and bound ≥ 20× faster).
2. Pruning, k = 2 and 3: the same search with interval bounds and with linear bounds, each until certified or
   20,000 boxes: boxes bounded, and their ratio (target: the linear bounds need ≥ 10× fewer).
3. k = 3, 4, 5: the linear search with a 60 s limit per target: certified or not, the gap reached, boxes.
4. The path of global minimisers along a k = 2 flow of Table 1's length (T = 100 snapshots every 40 updates):
   `minimizer_path(..., method="branch_and_bound")` (each snapshot's search starting from the previous minimiser)
   against `method="enumeration"` on two runs of 11 consecutive snapshots (θ_0 … θ_10, the start of training,
   and θ_90 … θ_100, its end), first held-out target; seconds of each, the estimate for all 101 snapshots and
   whether every f* agrees (target: the whole path in under 10 s).
5. The runner-up (uniqueness), k = 2 and 3: `branch_and_bound(f, (−1, 1))` for f* alone, with
   `runner_up=True, runner_up_within=1e-6` (enough to decide uniqueness) and with `runner_up=True` (the exact
   runner-up); at k = 2 against `global_minimizer(f, bounds=(−1, 1))`, which meshes the box and finds the runner-up;
   seconds, boxes, the separation and whether it equals the enumerated gap.

6. Where it stops, by k and width: `estimated_boxes` (no search) at k = 2 … 5 on the same
   generator at half, once and twice Table 1's widths (hidden (64, 16, 8), (128, 32, 16), (256, 64, 32)), first
   held-out target, level = f at the box centre after projected descent; the estimate and the seconds it took.

7. With measurements A (k = 2, Gaussian A with m = 10, 30, 64 rows, first held-out target): the whole search
   against meshing the box (seconds, median of 3, and their ratio); the same f* from both.

8. k = 3, the distribution over the first 10 held-out targets: the certified search without limits, boxes and
   seconds per target, their median and maximum (target: under a minute each); a search refused for its estimated
   size is reported with the estimate and then run for five minutes.

9. The triangle relaxation (`bound="triangle"`: the linear bounds, then the relaxation of every layer's unstable
   ReLUs by their convex hulls where those do not prune) against the linear bounds alone: the whole search at k = 2
   (first three held-out targets) and k = 3 (first two), boxes and seconds of each, the same f*; and `estimated_boxes`
   with each bound at k = 2 … 5 (first two held-out targets, level as in part 6): where either stops.

10. Part 8 with the triangle relaxation (`bound="triangle"`).

11. The triangle QPs' warm start: the k = 3 search with `bound="triangle"` on held-out targets 2 and 6, each
    triangle QP started from its parent's (or the last) working set, against the same search with every QP solved
    from an empty working set; median seconds of two runs each, alternating, and the same boxes and f*.

12. k = 4 with the triangle relaxation, first two held-out targets: the certified search without limits (the
    estimate, about 6.6·10⁴ boxes, is below the default limit), boxes and seconds per target.

13. k = 4 and 5, first two held-out targets: the certified search with the linear bounds and a node limit of
    5·10⁶ (beyond the default, which refuses k = 5 for its estimated 10⁶ boxes): seconds and boxes per target
    (target: under ten minutes at k = 5).

Run: .venv/bin/python benchmarks/bench_branch_and_bound.py [--parts 1,3]  (the numbered parts; default all)
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "out"
BOX = (-1.0, 1.0)
NODE_CAP = 20_000
LARGE_NODE_LIMIT = 5_000_000
TIME_LIMIT = 60.0


WIDTHS = {"half": (64, 16, 8), "table 1": (128, 32, 16), "twice": (256, 64, 32)}


def generator(k: int, hidden=WIDTHS["table 1"]):
    from landscape.training import train_flow

    name = f"dcgan-infogan-k{k}-T5-every40-seed0" + ("" if hidden == WIDTHS["table 1"] else
                                                     "-h" + "x".join(map(str, hidden)))
    flow = train_flow("dcgan", OUT / "flows" / name, k=k, T=5, every=40, layout="infogan", hidden=hidden, seed=0).flow
    return flow[flow.T]


def held_out():
    """The held-out digits, flattened (targets: the first few)."""
    import landscape as L

    return L.datasets.load_digits().flat("test")


def median_seconds(call, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mesh_runs(targets) -> None:
    import landscape as L

    net = generator(2)
    print("| k = 2, target | enumeration: regions | enumeration s | branch and bound s | boxes | ratio | same f* |\n"
          "|---|---:|---:|---:|---:|---:|---|", flush=True)
    for index, y in enumerate(targets):
        f = L.Objective(net, y)
        mesh = L.global_minimizer(f, bounds=BOX, runner_up=False)
        found = L.branch_and_bound(f, BOX)
        same = abs(found.value - mesh.value) <= found.tolerance and found.certified
        enumeration = median_seconds(lambda: L.global_minimizer(f, bounds=BOX, runner_up=False))
        search = median_seconds(lambda: L.branch_and_bound(f, BOX))
        print(f"| held-out {index} | {len(mesh.regions)} | {enumeration:.2f} | {search:.2f} | {found.nodes} "
              f"| {enumeration / search:.2f} | {same} |", flush=True)


def pruning_runs(targets) -> None:
    import landscape as L

    print("\n| k, target | interval: boxes (certified) | linear: boxes (certified) | ratio |\n|---|---:|---:|---:|",
          flush=True)
    for k in (2, 3):
        net = generator(k)
        for index, y in enumerate(targets[:2]):
            f = L.Objective(net, y)
            runs = {bound: L.branch_and_bound(f, BOX, bound=bound, max_nodes=NODE_CAP) for bound in ("interval", "linear")}
            cells = [f"{run.nodes} ({'yes' if run.certified else 'no'})" for run in runs.values()]
            print(f"| {k}, held-out {index} | {cells[0]} | {cells[1]} | {runs['interval'].nodes / runs['linear'].nodes:.1f} "
                  f"{'(interval capped)' if not runs['interval'].certified else ''} |", flush=True)


def limited_runs(targets) -> None:
    import landscape as L

    print("\n| k, target | certified | f (best) | lower bound | relative gap | boxes | leaves | s |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|", flush=True)
    for k in (3, 4, 5):
        net = generator(k)
        for index, y in enumerate(targets[:2]):
            run = L.branch_and_bound(L.Objective(net, y), BOX, time_limit=TIME_LIMIT, max_nodes=10**7)
            print(f"| {k}, held-out {index} | {run.certified} | {run.value:.6g} | {run.lower_bound:.6g} "
                  f"| {run.gap / (1 + run.value):.2e} | {run.nodes} | {run.leaves} | {run.seconds:.1f} |", flush=True)


def runner_up_runs(targets) -> None:
    import landscape as L

    print("\n| k, target | f* alone: s (boxes) | uniqueness (within 1e-6): s (boxes) | runner-up: s (boxes) "
          "| enumeration s | separation | enumerated gap | unique |\n|---|---:|---:|---:|---:|---:|---:|---|", flush=True)
    for k in (2, 3):
        net = generator(k)
        for index, y in enumerate(targets[:3] if k == 2 else targets[:2]):
            f = L.Objective(net, y)
            runs, seconds = {}, {}
            for name, options in (("alone", {}), ("within", {"runner_up": True, "runner_up_within": 1e-6}),
                                  ("exact", {"runner_up": True})):
                start = time.perf_counter()
                runs[name] = L.branch_and_bound(f, BOX, **options)
                seconds[name] = time.perf_counter() - start
            enumerated, gap = "—", "—"
            if k == 2:
                start = time.perf_counter()
                gap = f"{L.global_minimizer(f, bounds=BOX).gap:.6g}"
                enumerated = f"{time.perf_counter() - start:.1f}"
            cells = [f"{seconds[name]:.1f} ({runs[name].nodes})" for name in runs]
            print(f"| {k}, held-out {index} | {' | '.join(cells)} | {enumerated} | {runs['exact'].separation:.6g} "
                  f"| {gap} | {runs['exact'].unique} |", flush=True)


def estimate_runs(target) -> None:
    import landscape as L
    from landscape.branch_and_bound.search import projected_descent

    print("\n| k | " + " | ".join(f"{name} {hidden}: boxes (s)" for name, hidden in WIDTHS.items()) + " |\n|---|"
          + "---:|" * len(WIDTHS), flush=True)
    for k in (2, 3, 4, 5):
        cells = []
        for hidden in WIDTHS.values():
            f = L.Objective(generator(k, hidden), target)
            lo, hi = np.full(k, BOX[0]), np.full(k, BOX[1])
            start = time.perf_counter()
            _, level = projected_descent(f, (lo + hi) / 2, lo, hi)
            estimate, exact = L.estimated_boxes(f, BOX, level)
            cells.append(f"{'' if exact else '≥ '}{estimate:.3g} ({time.perf_counter() - start:.2f})")
        print(f"| {k} | " + " | ".join(cells) + " |", flush=True)


def path_runs(targets) -> None:
    import landscape as L
    from landscape.training import train_flow

    flow = train_flow("dcgan", OUT / "flows" / "dcgan-infogan-k2-T100-every40-seed0", k=2, T=100, every=40,
                      layout="infogan", seed=0).flow
    print("\n| k = 2 path, snapshots | enumeration s | branch and bound s | ratio | same f* at every snapshot |"
          "\n|---|---:|---:|---:|---|", flush=True)
    seconds = {"enumeration": 0.0, "branch_and_bound": 0.0}
    for first in (0, 90):
        part = L.NetworkFlow(flow.snapshots[first:first + 11], flow.times[first:first + 11])
        paths, spent = {}, {}
        for method in seconds:
            start = time.perf_counter()
            paths[method] = L.minimizer_path(part, targets[0], bounds=BOX, method=method)
            spent[method] = time.perf_counter() - start
            seconds[method] += spent[method]
        exact, searched = paths["enumeration"], paths["branch_and_bound"]
        same = bool(np.all(searched.certified) and np.all(np.abs(searched.values - exact.values)
                                                          <= 1e-6 * (1 + np.abs(exact.values))))
        print(f"| θ_{first} … θ_{first + 10} | {spent['enumeration']:.1f} | {spent['branch_and_bound']:.1f} "
              f"| {spent['enumeration'] / spent['branch_and_bound']:.2f} | {same} |", flush=True)
    print(f"| all 101 snapshots (estimate from these 22) | {seconds['enumeration'] * 101 / 22:.0f} "
          f"| {seconds['branch_and_bound'] * 101 / 22:.0f} | | |", flush=True)


def measured_runs(target) -> None:
    import landscape as L

    net, rng = generator(2), np.random.default_rng(0)
    print("\n| k = 2, m | branch and bound s | boxes | meshing s | ratio | same f* |\n|---|---:|---:|---:|---:|---|",
          flush=True)
    for m in (10, 30, 64):
        f = L.Objective(net, target, L.gaussian_measurements(m, net.output_dim, rng=rng))
        found = L.branch_and_bound(f, BOX)
        mesh = L.global_minimizer(f, bounds=BOX, runner_up=False)
        search = median_seconds(lambda: L.branch_and_bound(f, BOX))
        meshing = median_seconds(lambda: L.global_minimizer(f, bounds=BOX, runner_up=False))
        same = found.certified and abs(found.value - mesh.value) <= found.tolerance
        print(f"| {m} | {search:.2f} | {found.nodes} | {meshing:.2f} | {meshing / search:.1f} | {same} |", flush=True)


def distribution_runs(targets, bound: str = "linear", k: int = 3, max_nodes: int | None = None) -> None:
    import landscape as L

    net = generator(k)
    print(f"\n| k = {k}, held-out target ({bound}) | certified | f* | boxes | s |\n|---|---|---:|---:|---:|", flush=True)
    seconds, boxes = [], []
    for index, y in enumerate(targets):
        try:
            found = L.branch_and_bound(L.Objective(net, y), BOX, bound=bound, max_nodes=max_nodes)
        except L.SearchTooLargeError as refusal:  # then what the search reaches in five minutes
            found = L.branch_and_bound(L.Objective(net, y), BOX, bound=bound, time_limit=5 * TIME_LIMIT)
            print(f"| {index} | refused (estimate {refusal.estimate:.2g} boxes); in {5 * TIME_LIMIT:.0f} s: "
                  f"{'certified' if found.certified else f'gap {found.gap / (1 + found.value):.1e}'} "
                  f"| {found.value:.6g} | {found.nodes} | {found.seconds:.1f} |", flush=True)
            continue
        seconds.append(found.seconds)
        boxes.append(found.nodes)
        print(f"| {index} | {found.certified} | {found.value:.6g} | {found.nodes} | {found.seconds:.1f} |", flush=True)
    print(f"| median (max) of the {len(boxes)} run to the end | | | {statistics.median(boxes):.0f} ({max(boxes)}) "
          f"| {statistics.median(seconds):.1f} ({max(seconds):.1f}) |", flush=True)


def triangle_runs(targets) -> None:
    import landscape as L
    from landscape.branch_and_bound.search import projected_descent

    print("\n| k, target | linear: boxes, s | triangle: boxes, s (relaxations) | boxes ratio | seconds ratio | same f* |\n"
          "|---|---:|---:|---:|---:|---|", flush=True)
    for k, count in ((2, 3), (3, 2)):
        net = generator(k)
        for index, y in enumerate(targets[:count]):
            f = L.Objective(net, y)
            linear, triangle = (L.branch_and_bound(f, BOX, bound=bound) for bound in ("linear", "triangle"))
            same = abs(linear.value - triangle.value) <= max(linear.tolerance, triangle.tolerance)
            print(f"| {k}, held-out {index} | {linear.nodes:,}, {linear.seconds:.1f} | {triangle.nodes:,}, "
                  f"{triangle.seconds:.1f} ({triangle.triangles:,}) | {linear.nodes / triangle.nodes:.1f} | "
                  f"{linear.seconds / triangle.seconds:.2f} | {'yes' if same else 'NO'} |", flush=True)
    print("\n| k, target | level | linear: estimated boxes (s) | triangle: estimated boxes (s) |\n|---|---:|---:|---:|",
          flush=True)
    for k in (2, 3, 4, 5):
        net = generator(k)
        for index, y in enumerate(targets[:2]):
            f = L.Objective(net, y)
            lo, hi = np.full(k, BOX[0]), np.full(k, BOX[1])
            _, level = projected_descent(f, (lo + hi) / 2, lo, hi)
            cells = []
            for bound in ("linear", "triangle"):
                start = time.perf_counter()
                estimate, exact = L.estimated_boxes(f, BOX, level, bound=bound)
                cells.append(f"{'' if exact else '≥ '}{estimate:.3g} ({time.perf_counter() - start:.1f})")
            print(f"| {k}, held-out {index} | {level:.4g} | {cells[0]} | {cells[1]} |", flush=True)


@contextmanager
def cold_triangles():
    """Within it every triangle QP is solved from an empty working set (no warm start)."""
    from landscape.branch_and_bound import relaxed

    warm = relaxed.triangle_bound
    relaxed.triangle_bound = lambda *arguments: warm(*arguments[:6])
    try:
        yield
    finally:
        relaxed.triangle_bound = warm


def warm_start_runs(targets) -> None:
    import landscape as L

    net = generator(3)
    print("\n| k = 3, held-out target | boxes | relaxations | cold starts: s | warm starts: s | ratio | same f* |\n"
          "|---|---:|---:|---:|---:|---:|---|", flush=True)
    for index, y in targets:
        f = L.Objective(net, y)
        found = {}
        for name, context in (("cold", cold_triangles), ("warm", nullcontext), ("cold again", cold_triangles),
                              ("warm again", nullcontext)):
            with context():
                found[name] = L.branch_and_bound(f, BOX, bound="triangle")
        cold = statistics.median(found[name].seconds for name in ("cold", "cold again"))
        warm = statistics.median(found[name].seconds for name in ("warm", "warm again"))
        same = all(abs(r.value - found["cold"].value) <= r.tolerance and r.nodes == found["cold"].nodes
                   for r in found.values())
        print(f"| {index} | {found['warm'].nodes:,} | {found['warm'].triangles:,} | {cold:.1f} | {warm:.1f} | "
              f"{cold / warm:.2f} | {'yes' if same else 'NO'} |", flush=True)


PARTS = {1: lambda: mesh_runs(held_out()[:3]), 2: lambda: pruning_runs(held_out()[:2]),
         3: lambda: limited_runs(held_out()[:2]), 4: lambda: path_runs(held_out()[:1]),
         5: lambda: runner_up_runs(held_out()[:3]), 6: lambda: estimate_runs(held_out()[0]),
         7: lambda: measured_runs(held_out()[0]), 8: lambda: distribution_runs(held_out()[:10]),
         9: lambda: triangle_runs(held_out()[:3]), 10: lambda: distribution_runs(held_out()[:10], "triangle"),
         11: lambda: warm_start_runs([(index, held_out()[index]) for index in (2, 6)]),
         12: lambda: distribution_runs(held_out()[:2], "triangle", k=4),
         13: lambda: [distribution_runs(held_out()[:2], k=k, max_nodes=LARGE_NODE_LIMIT) for k in (4, 5)]}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="1,2,3,4,5,6,7,8,9,10,11,12,13",
                        help="the parts to run, comma-separated numbers from the list above (default: all)")
    chosen = [int(part) for part in parser.parse_args().parts.split(",")]
    if not set(chosen) <= set(PARTS):
        parser.error(f"--parts must list numbers from {sorted(PARTS)}; got {chosen}")
    for part in chosen:
        PARTS[part]()
