"""Training loop overhead and per-model wall time of one paper-protocol flow.

For each model, one flow as §4 records it (T = 100 snapshots every 40 generator updates, 4,000 updates,
batch 64, the 8×8 infogan-layout generator [k, 128, 128, 256] → 64, k = 5, digits) through `train_flow`,
against the bare jitted gradient computations those updates need, measured in the same run: a compiled
`lax.scan` over 4,000 iterations that each draw a batch and latents and evaluate n_critic critic
gradients and one generator gradient (the VAE: one ELBO gradient), each followed by the cheapest possible
parameter change (p ← p − 1e-12·g, so that XLA cannot hoist work on fixed parameters out of the loop),
with no optimiser state, no BN statistics, no snapshot export, no checkpoint and no Python loop.

    overhead = (train_flow wall time − its compile time) / 4,000  ÷  reference time per update

Target: overhead <= 1.3; snapshot export (BN folding + dense ConvT, 101 snapshots) < 10 % of training time.

Run: .venv/bin/python benchmarks/bench_training.py [--models vae dcgan ...] [--k 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp

from landscape import datasets
from landscape.training import GeneratorSpec, hyperparameters, train_flow
from landscape.training import objectives

T, EVERY = 100, 40


def reference(model: str, k: int, data):
    """A compiled function doing the gradient evaluations of T·EVERY generator updates, nothing else."""
    hyper = hyperparameters(model)
    spec = GeneratorSpec("infogan", k, data.image_shape)
    arch = spec.architecture()
    partner = objectives.partner_architecture(hyper, spec)
    carry = objectives.init_carry(hyper, arch, partner, jax.random.PRNGKey(0))
    images = jnp.asarray(data.flat("train"), jnp.float32)

    def sgd(params, grads):
        return jax.tree_util.tree_map(lambda p, g: p - 1e-12 * g, params, grads)

    def update(state, u, key):
        key = jax.random.fold_in(key, u)
        if model == "vae":
            grads = jax.grad(lambda p: objectives.vae_loss(hyper, arch, partner, p, carry["g_state"], images, key)[0])(state)
            return sgd(state, grads)
        g, d = state["g"], state["d"]
        for i in range(hyper.n_critic):
            grads = jax.grad(objectives.critic_loss, argnums=3)(hyper, arch, partner, d, g, carry["g_state"],
                                                                jax.random.fold_in(key, i), images)
            d = sgd(d, grads)
        grads = jax.grad(lambda p: objectives.generator_loss(hyper, arch, partner, p, carry["g_state"], d, key)[0])(g)
        return {"g": sgd(g, grads), "d": d}

    start = {"g": carry["g"], "e": carry["e"]} if model == "vae" else {"g": carry["g"], "d": carry["d"]}

    def run(key):
        return jax.lax.scan(lambda state, u: (update(state, u, key), None), start, jnp.arange(T * EVERY))[0]

    compiled = jax.jit(run).lower(jax.random.PRNGKey(1)).compile()
    return lambda: jax.block_until_ready(compiled(jax.random.PRNGKey(1)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(objectives.MODELS), choices=objectives.MODELS)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data = datasets.load_digits()
    print("flow wall s: one flow in a fresh process (compile s: its first compilation; later flows of the same "
          "shape reuse it)")
    print("| model | flow wall s | compile s | train s | export s (% of train) | checkpoint s | "
          "ms / update | bare gradients ms / update | overhead | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for model in args.models:
        bare = reference(model, args.k, data)
        bare()
        reference_times, ours_times, compile_seconds = [], [], []
        record = None
        for _ in range(args.repeats):
            start = time.perf_counter()
            bare()
            reference_times.append(time.perf_counter() - start)
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                run = train_flow(model, out, k=args.k, T=T, every=EVERY, dataset=data)
                wall = time.perf_counter() - start
            record = run.record
            compile_seconds.append(record["seconds"]["compile"])
            ours_times.append(wall - record["seconds"]["compile"])
        ours, ref = statistics.median(ours_times), statistics.median(reference_times)
        s = record["seconds"]
        print(f"| {model} | {ours + compile_seconds[0]:.1f} | {compile_seconds[0]:.1f} | {s['train']:.1f} | "
              f"{s['export']:.2f} ({100 * s['export'] / s['train']:.1f} %) | {s['checkpoint']:.2f} | "
              f"{1e3 * ours / (T * EVERY):.2f} | {1e3 * ref / (T * EVERY):.2f} | {ours / ref:.2f} | <= 1.3 |",
              flush=True)


if __name__ == "__main__":
    main()
