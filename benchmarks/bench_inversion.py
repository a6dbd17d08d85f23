"""Batched inversion engine against the same Adam loop in JAX (`jit` + `vmap`, float64), in the same run.

300 inversions of y = G(x*) from uniform starts, on three networks: a trained 8×8 generator (DCGAN, infogan
layout [5, 128, 128, 256] → 64 with BN folded, trained here for 1,000 updates and cached under
benchmarks/out), and random nets [5, 50, 200] → 300 and [20, 200, 800] → 784. Two workloads per network:

* regular Adam: `regular_descent` for exactly 300 steps (tol = 0);
* Algorithm 1: `surf` over T + 1 snapshots, 200 steps split by `budget_schedule` and 100 on θ_T.

The JAX reference runs the same Adam updates (same lr, betas, eps, starting points, step counts) as one
compiled `lax.fori_loop` per snapshot over a `vmap`ped gradient; both answers are checked equal. Each is
timed twice: with one thread per process (BLAS, Numba and XLA at 1) and with default threading. Target
(issue 10/12): ours ÷ JAX <= 1.0.

With ``--under-load``, a third measurement runs with default threads while a second process runs the same
workload over and over (two such processes on the machine's cores): its time ÷ the idle default-threads time
(target ≤ 2.5) and its ratio to JAX measured under the same load (target ≤ 1.0).

Run: .venv/bin/python benchmarks/bench_inversion.py [--networks trained small large] [--device cpu|gpu] [--under-load]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
TRIALS, REGULAR_STEPS, SURF_BUDGET, FINAL_STEPS = 300, 300, 200, 100
OUT = Path(__file__).parent / "out"


def network_flow(name: str):
    import landscape as L

    if name == "trained":
        from landscape.training import train_flow

        return train_flow("dcgan", OUT / "flows" / "dcgan-infogan-k5-T25-every40-seed0", k=5, T=25, every=40, seed=0).flow
    widths, out_dim = {"small": ([5, 50, 200], 300), "large": ([20, 200, 800], 784)}[name]
    return L.NetworkFlow.smooth_random(widths, T=20, out_dim=out_dim, rng=0)


def jax_inverter(device: str):
    """Adam on f(x) = ½‖G(x) − y‖², one compiled loop per snapshot, vmapped over the batch."""
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    target = jax.devices(device)[0]

    def generator(params, x):
        weights, biases, V, c = params
        for W, b in zip(weights, biases):
            x = jnp.maximum(W @ x + b, 0.0)
        return V @ x + c

    def loss(params, x, y):
        r = generator(params, x) - y
        return 0.5 * r @ r

    gradient = jax.vmap(jax.grad(loss, argnums=1), in_axes=(None, 0, 0))

    @jax.jit
    def adam(params, X, Y, m, v, t, steps, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        def step(_, state):
            X, m, v, t = state
            g = gradient(params, X, Y)
            t = t + 1
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            X = X - lr * (m / (1 - beta1**t)) / (jnp.sqrt(v / (1 - beta2**t)) + eps)
            return X, m, v, t
        return jax.lax.fori_loop(0, steps, step, (X, m, v, t))

    def parameters(net):
        V = net.readout if net.readout is not None else jnp.eye(net.widths[-1])
        c = net.readout_bias if net.readout_bias is not None else jnp.zeros(V.shape[0])
        return jax.device_put((tuple(net.weights), tuple(net.effective_biases), V, c), target)

    def run(nets, steps, X0, Y):
        X, Y = jax.device_put(X0, target), jax.device_put(Y, target)
        m, v, t = jnp.zeros_like(X), jnp.zeros_like(X), jnp.zeros((), X.dtype)
        for net, n in zip(nets, steps):
            X, m, v, t = adam(parameters(net), X, Y, m, v, t, int(n))
        return np.asarray(X.block_until_ready())

    return run


def measure(names: list[str], device: str) -> list[dict]:
    import numpy as np

    import landscape as L
    from _timing import compare

    rows = []
    for name in names:
        flow = network_flow(name)
        final = flow[flow.T]
        rng = np.random.default_rng(1)
        X0 = rng.uniform(-1, 1, (TRIALS, final.input_dim))
        Y = final.forward(rng.uniform(-1, 1, (TRIALS, final.input_dim)))
        schedule = L.budget_schedule(SURF_BUDGET, flow.T)
        jax_run = jax_inverter(device)
        workloads = {
            "regular Adam": (lambda: L.regular_descent(final, Y, x0=X0, tol=0.0, max_steps=REGULAR_STEPS).x,
                             lambda: jax_run([final], [REGULAR_STEPS], X0, Y)),
            "Algorithm 1": (lambda: L.surf(flow, Y, x0=X0, steps=schedule, tol=0.0, max_steps=FINAL_STEPS).x,
                            lambda: jax_run(flow.snapshots, [*schedule, FINAL_STEPS], X0, Y)),
        }
        for workload, (ours, reference) in workloads.items():
            difference = float(np.max(np.abs(ours() - reference())))
            result = compare(ours, reference, repeats=5)
            rows.append({"network": name, "widths": [*final.widths, final.output_dim], "workload": workload,
                         "difference": difference, **result})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", default=["trained", "small", "large"], choices=["trained", "small", "large"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "gpu"], help="where the JAX reference runs")
    parser.add_argument("--under-load", action="store_true",
                        help="also measure with default threads while a second process runs the same workload")
    parser.add_argument("--mode", choices=["one-thread", "default", "busy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "busy":  # the load: the same workload, again and again, until killed
        while True:
            measure(args.networks, args.device)
    if args.mode:  # a child: measure and hand the rows back as JSON
        print(json.dumps(measure(args.networks, args.device)))
        return
    network_flow("trained")  # train (or read) the cached flow once, before any timing
    print("| network | workload | threads | ours (s) | JAX (s) | ours ÷ JAX | max |x − x_JAX| | ours ÷ ours idle |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    idle = {}
    for mode in ("one-thread", "default") + (("default, under load",) if args.under_load else ()):
        env = os.environ | (ONE_THREAD if mode == "one-thread" else {})
        command = [sys.executable, __file__, "--device", args.device, "--networks", *args.networks]
        load = subprocess.Popen(command + ["--mode", "busy"], env=env) if mode.endswith("load") else None
        try:
            child = subprocess.run(command + ["--mode", "default" if load else mode], env=env, capture_output=True,
                                   text=True)
        finally:
            if load is not None:
                load.kill()
        if child.returncode != 0:
            sys.exit(f"the {mode} measurement failed:\n{child.stderr}")
        for row in json.loads(child.stdout.strip().splitlines()[-1]):
            key = (row["network"], row["workload"])
            idle.setdefault(key, row["ours_s"]) if mode == "default" else None
            slowdown = f"{row['ours_s'] / idle[key]:.2f}" if load is not None else ""
            print(f"| {row['network']} {row['widths']} | {row['workload']} | {mode} | {row['ours_s']:.3f} | "
                  f"{row['reference_s']:.3f} | {row['ratio']:.2f} | {row['difference']:.1e} | {slowdown} |", flush=True)


if __name__ == "__main__":
    main()
