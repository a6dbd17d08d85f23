"""Surf a flow of training snapshots: Algorithm 1 against plain Adam on the final network (§4's protocol).

    python examples/surf_my_flow.py my_flow.npz --trials 200
    python examples/surf_my_flow.py --model dcgan --k 5 --T 25      # train one here first (cached)

A flow is what `NetworkFlow.save` writes, or a directory of one ReLUNet .npz per snapshot. Targets are
y = G(x*, θ_T) for x* uniform in [-1, 1]^k; success is ‖x̂_T − x*‖ < 0.01, as in Table 1.
"""

import argparse
from pathlib import Path

import numpy as np

import landscape as L


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("flow", nargs="?", help="a saved NetworkFlow (default: train one with --model)")
    parser.add_argument("--model", default="dcgan", help="vae, gan, dcgan, wgan or wgangp")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--T", type=int, default=10)
    parser.add_argument("--every", type=int, default=40)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--out", default="flows", help="where a trained flow is cached")
    args = parser.parse_args()
    if args.flow:
        flow = L.NetworkFlow.load(args.flow)
    else:
        from landscape.training import train_flow

        directory = Path(args.out) / f"{args.model}-k{args.k}-T{args.T}-every{args.every}"
        flow = train_flow(args.model, directory, k=args.k, T=args.T, every=args.every, progress=True).flow
    final, k = flow[flow.T], flow[0].input_dim
    rng = np.random.default_rng(0)
    x_star, x_init = rng.uniform(-1, 1, (args.trials, k)), rng.uniform(-1, 1, (args.trials, k))
    Y = final.forward(x_star)
    options = dict(stall_window=100, x_star=x_star)
    regular = L.regular_descent(final, Y, x0=x_init, **options)
    budget = int(np.percentile(regular.total_steps, 75))
    surfed = L.surf(flow, Y, x0=x_init, budget=budget, **options)
    for name, result in (("regular Adam", regular), ("surfing", surfed)):
        success = np.linalg.norm(result.x - x_star, axis=1) < 0.01
        print(f"{name}: {success.mean():.1%} of {args.trials} recovered x*, {np.median(result.total_steps):.0f} steps "
              "(median)")


if __name__ == "__main__":
    main()
