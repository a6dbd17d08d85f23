"""Every inversion method's cost per gradient-evaluation equivalent against batched regular Adam, same run.

Targets y = G(x*) with x* uniform on [−1, 1]^k, budget 300, on two random flows (T = 20): k = 2, [2, 20, 60] → 80,
and k = 5, [5, 50, 200] → 300. Each method's cost (InversionResult.cost, in its unit) is what its budget counts (an
Adam step, an ADMM iteration, a QP of Algorithm 2, an LP of the layer-wise inversion, a forward pass of PLUGIn (its
tolerance 1e-300, so that every target spends the budget), a gradient evaluation of PGD-GAN's outer steps and
projections, a Langevin step). Seconds per evaluation = wall time ÷ the evaluations spent, summed over the batch; the ratio divides it by regular Adam's, measured alternately with it
(median of 3 runs each). The descent-based methods run 100 targets in one batch; Algorithm 2 and the layer-wise LP
run one target at a time (5 targets). Landscape learning's map is learned once before the timing (10 rounds).

Also: ADMM's time per iteration ÷ one batched forward + backward pass of f over the same 100 points
(`Objective.value_and_grad`). Target (issue 11, the seed's "2–3 times slower per iteration"): ≤ 3.

Run: .venv/bin/python benchmarks/bench_methods.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from _timing import describe

NETWORKS = {"k = 2, [2, 20, 60] → 80": ([2, 20, 60], 80), "k = 5, [5, 50, 200] → 300": ([5, 50, 200], 300)}
BATCH, PER_TARGET_BATCH, BUDGET, REPEATS = 100, 5, 300, 3


def per_evaluation(run) -> tuple[float, float]:
    """(seconds, seconds per evaluation) of one call."""
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    return seconds, seconds / max(int(np.sum(result.cost)), 1)


def paired(method, reference) -> dict:
    method(), reference()  # warm-up: compilation, caches
    ours, ref = [], []
    for r in range(REPEATS):
        pair = [(method, ours), (reference, ref)]
        for run, sink in pair if r % 2 == 0 else pair[::-1]:
            sink.append(per_evaluation(run))
    per_eval, ref_per_eval = statistics.median(s[1] for s in ours), statistics.median(s[1] for s in ref)
    return {"seconds": statistics.median(s[0] for s in ours), "per_evaluation": per_eval,
            "ratio": per_eval / ref_per_eval}


def admm_against_forward_backward(net, Y, X0) -> tuple[float, float]:
    import landscape as L
    from landscape.inversion import admm

    objective = L.Objective(net, Y)
    objective.value_and_grad(X0)
    passes = []
    for _ in range(50):
        start = time.perf_counter()
        objective.value_and_grad(X0)
        passes.append(time.perf_counter() - start)
    iterations = []
    for _ in range(REPEATS):
        result = admm(net, Y, budget=BUDGET, x0=X0, tol=1e-300)
        iterations.append(result.seconds / len(result.trace["primal_residual"]))
    return statistics.median(iterations), statistics.median(passes)


def main() -> None:
    import landscape as L
    from landscape.inversion import METHODS, learn_landscape

    print("| network | method | evaluation | targets per call | s per call | µs per evaluation | ÷ regular Adam |\n"
          "|---|---|---|---:|---:|---:|---:|", flush=True)
    admm_rows = []
    for label, (widths, out_dim) in NETWORKS.items():
        flow = L.NetworkFlow.smooth_random(widths, T=20, out_dim=out_dim, rng=0)
        net, k = flow[flow.T], widths[0]
        rng = np.random.default_rng(1)
        Y = net.forward(rng.uniform(-1, 1, (BATCH, k)))
        X0 = rng.uniform(-1, 1, (BATCH, k))
        learned = learn_landscape(net, net.forward(rng.uniform(-1, 1, (200, k))), rounds=10, rng=2)
        few = slice(0, PER_TARGET_BATCH)
        calls = {
            "regular_descent": ("Adam step", BATCH, lambda: METHODS["regular_descent"](net, Y, budget=BUDGET, x0=X0)),
            "surf": ("Adam step", BATCH, lambda: METHODS["surf"](flow, Y, budget=BUDGET, x0=X0)),
            "csgm": ("Adam step", BATCH, lambda: METHODS["csgm"](net, Y, budget=BUDGET, rng=3)),
            "negation_check": ("gradient step", BATCH, lambda: METHODS["negation_check"](net, Y, budget=BUDGET, x0=X0)),
            "admm": ("iteration", BATCH, lambda: METHODS["admm"](net, Y, budget=BUDGET, x0=X0)),
            "landscape_learning": ("Adam step in z", BATCH,
                                   lambda: METHODS["landscape_learning"](net, Y, budget=BUDGET, rng=3, landscape=learned)),
            "plugin": ("forward pass", BATCH, lambda: METHODS["plugin"](net, Y, budget=BUDGET, x0=X0, tol=1e-300)),
            "pgd_gan": ("gradient evaluation", BATCH, lambda: METHODS["pgd_gan"](net, Y, budget=BUDGET, x0=X0)),
            "langevin": ("Langevin step", BATCH, lambda: METHODS["langevin"](net, Y, budget=BUDGET, x0=X0, rng=3)),
            "projected_surf": ("QP", PER_TARGET_BATCH,
                               lambda: METHODS["projected_surf"](flow, Y[few], x0=X0[few], tau=0.002)),
            "layerwise_lp": ("LP", PER_TARGET_BATCH, lambda: METHODS["layerwise_lp"](net, Y[few])),
        }
        reference = calls["regular_descent"][2]
        for name, (unit, targets, call) in calls.items():
            row = paired(call, reference)
            print(f"| {label} | {name} | {unit} | {targets} | {row['seconds']:.3f} | {row['per_evaluation'] * 1e6:.1f} "
                  f"| {row['ratio']:.2f} |", flush=True)
        admm_rows.append((label, *admm_against_forward_backward(net, Y, X0)))
    print("\n| network | ADMM ms per iteration (100 targets) | forward + backward ms (100 points) | ratio | target |\n"
          "|---|---:|---:|---:|---|")
    for label, iteration, forward_backward in admm_rows:
        print(f"| {label} | {iteration * 1e3:.3f} | {forward_backward * 1e3:.3f} | {iteration / forward_backward:.2f} "
              "| <= 3 |")


if __name__ == "__main__":
    describe(__doc__)
    main()
