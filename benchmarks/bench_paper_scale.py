"""The paper's 28×28 InfoGAN generator at its own widths (k = 20: FC 1024 → FC 128·7·7 → ConvT 64 → ConvT 1), kept
as layer operators, in the same run:

* engine: 300 inversions of y = G(x*), 60 Adam steps each (tol = 0): ``regular_descent(engine="jax")`` ÷ the same Adam
  written directly in JAX on the convolutional generator (the training code's eval-mode forward, ``jit`` + ``vmap``ped
  gradient, ``lax.fori_loop``), answers checked equal. Target (issue 23): ≤ 1.1. Beside it, at a width where the
  dense form fits ([20, 256, 32·7·7, 16·14·14] → 784, 62 MB), the dense form's time ÷ the operators' time.
* polishing: regular Adam to convergence from 10 uniform starts (y = G(x*)), each end point polished to a certified
  local minimum (region, pieces, QPs): median and worst seconds per point. Target: median ≤ 2 s.
* memory: the peak resident memory of one Table-1 cell (300 trials: regular Adam and surfing over a lazy flow of
  T + 1 = 101 paper-width snapshots, at most 3 steps per run: the memory does not grow with the steps, only the time),
  and the disk a trained flow of 101 float32 snapshots takes.
  Targets: ≤ 4 GB and ≤ 3 GB.

The generator is the training code's own initialisation (PyTorch's defaults), exported as operators; snapshots of the
lazy flow are that network with its parameters perturbed per snapshot (the timing and memory do not depend on
training). Threads: one BLAS/XLA thread (the experiments' worker setting).

Run: .venv/bin/python benchmarks/bench_paper_scale.py [--part engine polish memory] [--flow DIR]
(``--flow``: polish on the last snapshot of a trained paper-width flow, e.g. a Table 1 cell's, instead.)
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

TRIALS, STEPS, K = 300, 60, 20
MEMORY_STEPS = 3
OUT = Path(__file__).parent / "out"


def generator(hidden=(1024, 128, 64), seed: int = 0, structured: bool = True):
    """The InfoGAN generator for 28×28 images at ``hidden`` widths: the exported network, its architecture and its
    (float64) parameters and BN statistics."""
    import jax

    from landscape.training import GeneratorSpec, export_snapshot
    from landscape.training import models

    spec = GeneratorSpec("infogan", K, (28, 28), tuple(hidden))
    arch = spec.architecture()
    with jax.enable_x64(True):
        params, state = models.init(arch, jax.random.PRNGKey(seed), dtype=np.float64)
    return export_snapshot(spec, params, state, structured=structured), arch, params, state


def jax_reference(arch, params, state, Y, X0, steps: int, lr: float = 0.01):
    """Adam on ½‖G(x) − y‖² for every row, written directly in JAX on the training code's eval-mode forward."""
    import jax
    import jax.numpy as jnp
    import optax

    from landscape.training import models

    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(jnp.asarray, params)
        state = jax.tree_util.tree_map(jnp.asarray, state)

        def f(x, y):
            out, _ = models.apply(arch, params, state, x[None], train=False)
            return 0.5 * jnp.sum((out[0] - y) ** 2)

        gradient = jax.vmap(jax.grad(f))
        adam = optax.adam(lr, b1=0.9, b2=0.999, eps=1e-8)

        @jax.jit
        def run(X, Y):
            def body(_, carry):
                X, opt = carry
                updates, opt = adam.update(gradient(X, Y), opt)
                return optax.apply_updates(X, updates), opt

            return jax.lax.fori_loop(0, steps, body, (X, adam.init(X)))[0]

    def call():
        with jax.enable_x64(True):
            return np.asarray(jax.block_until_ready(run(jnp.asarray(X0), jnp.asarray(Y))))

    return call


def paired(ours, reference, repeats: int = 3) -> dict:
    ours(), reference()
    times = {"ours": [], "reference": []}
    for r in range(repeats):
        order = [("ours", ours), ("reference", reference)]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    return {"ours_s": medians["ours"], "reference_s": medians["reference"], "ratio": medians["ours"] / medians["reference"]}


def engine() -> dict:
    import landscape as L

    net, arch, params, state = generator()
    rng = np.random.default_rng(0)
    X0, Y = rng.uniform(-1, 1, (TRIALS, K)), net.forward(rng.uniform(-1, 1, (TRIALS, K)))
    ours = lambda: L.regular_descent(net, Y, x0=X0, tol=0.0, max_steps=STEPS, engine="jax").x  # noqa: E731
    reference = jax_reference(arch, params, state, Y, X0, STEPS)
    np.testing.assert_allclose(ours(), reference(), rtol=1e-7, atol=1e-8)
    result = {"operators_vs_jax": paired(ours, reference)}
    small, *_ = generator(hidden=(256, 32, 16))
    dense = small.densified()
    Y_small = small.forward(rng.uniform(-1, 1, (TRIALS, K)))
    result["dense_vs_operators_at_256_32_16"] = paired(
        lambda: L.regular_descent(dense, Y_small, x0=X0, tol=0.0, max_steps=STEPS, engine="jax").x,
        lambda: L.regular_descent(small, Y_small, x0=X0, tol=0.0, max_steps=STEPS, engine="jax").x)
    result["dense_bytes_at_256_32_16"] = small.dense_bytes()
    result["dense_bytes_at_paper_width"] = net.dense_bytes()
    return result


def trained_final(directory: Path):
    """The last snapshot of a flow trained by :func:`landscape.training.train_flow` into ``directory`` (read back
    with the settings its ``training.json`` records; a flow not finished there is refused)."""
    from landscape.training import train_flow

    record = json.loads((Path(directory) / "training.json").read_text())
    if record.get("status") != "complete":
        raise SystemExit(f"--flow {directory}: the flow there has not finished training")
    settings, spec = record["settings"], record["settings"]["generator"]
    flow = train_flow(settings["model"], directory, k=spec["k"], T=settings["T"], every=settings["every"],
                      layout=spec["layout"], hidden=spec["hidden"], dataset=settings["data"]["name"],
                      seed=settings["seed"]).flow
    return flow[flow.T]


def polish(flow_directory: Path | None = None) -> dict:
    import landscape as L

    net = generator()[0] if flow_directory is None else trained_final(flow_directory)
    rng = np.random.default_rng(1)
    x_star, X0 = rng.uniform(-1, 1, (10, K)), rng.uniform(-1, 1, (10, K))
    Y = net.forward(x_star)
    ends = L.regular_descent(net, Y, x0=X0, stall_window=100, engine="jax").x
    seconds, moves, gave_up = [], [], []
    distances = np.linalg.norm(ends - x_star, axis=1)
    for x, y in zip(ends, Y):
        start = time.perf_counter()
        try:
            found = L.polish_to_local_minimum(L.Objective(net, y), x, max_pieces=128)
        except L.TooManyRegionsError:  # as proofs_check._failures counts it: uncertified
            gave_up.append(time.perf_counter() - start)
            continue
        seconds.append(time.perf_counter() - start)
        moves.append(found.moves)
    return {"network": "PyTorch initialisation" if flow_directory is None else f"θ_T of {Path(flow_directory).name}",
            "points": len(ends), "end_points_within_0.01_of_x_star": int(np.sum(distances < 0.01)),
            "certified": len(seconds), "gave_up_too_many_regions": len(gave_up),
            "median_s": statistics.median(seconds) if seconds else None, "worst_s": max(seconds) if seconds else None,
            "median_s_to_give_up": statistics.median(gave_up) if gave_up else None,
            "median_moves": statistics.median(moves) if moves else None}


def memory() -> dict:
    import landscape as L
    from proofs_check import _protocol
    from proofs_check.table1 import invert

    net, *_ = generator()
    base = {layer_index: layer for layer_index, layer in enumerate(net.layers)}

    def snapshot(t: int):
        from landscape.layers import fold_batchnorm

        rng = np.random.default_rng(t)
        hidden = [fold_batchnorm(layer, 1 + 0.01 * rng.normal(size=layer.out_shape[0]),
                                 0.01 * rng.normal(size=layer.out_shape[0]), np.zeros(layer.out_shape[0]),
                                 np.ones(layer.out_shape[0]), 1e-5) for layer in base.values()]
        return L.ReLUNet.from_layers(hidden, net.readout_layer)

    flow = L.NetworkFlow.lazy(snapshot, 101)
    rng = np.random.default_rng(2)
    x_star, X0 = rng.uniform(-1, 1, (TRIALS, K)), rng.uniform(-1, 1, (TRIALS, K))
    Y = flow[flow.T].forward(x_star)
    protocol = _protocol.validated(100, max_steps=MEMORY_STEPS)
    invert(flow, Y, None, X0, x_star, protocol)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    stored = 4 * sum(int(np.prod(np.shape(a))) for a in _training_state(net))
    return {"peak_resident_bytes": peak, "float32_bytes_per_snapshot": stored,
            "flow_of_101_float32_snapshots_bytes": 101 * stored}


def _training_state(net) -> list:
    """What training stores per snapshot: every parameter and BN statistic (float32)."""
    import jax

    from landscape.training import GeneratorSpec, models

    arch = GeneratorSpec("infogan", K, (28, 28), (1024, 128, 64)).architecture()
    params, state = models.init(arch, jax.random.PRNGKey(0))
    return [*params.values(), *state.values()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", nargs="+", choices=("engine", "polish", "memory"), default=["engine", "polish", "memory"])
    parser.add_argument("--flow", type=Path, default=None,
                        help="polish on the last snapshot of this trained flow's directory (train_flow's output) "
                             "instead of the untrained generator")
    args = parser.parse_args()
    results = {}
    for part in args.part:
        results[part] = polish(args.flow) if part == "polish" else {"engine": engine, "memory": memory}[part]()
        print(part, json.dumps(results[part], indent=1), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_paper_scale.json").write_text(json.dumps(results, indent=1))
