"""Invert a saved ReLU network exactly (k = 2 or 3) and see where gradient descent ends.

    python examples/invert_my_network.py my_generator.npz --target target.npy --box 3

The network is an `.npz` as `ReLUNet.save` writes it (keys W1..Wd, b1..bd, optional V and c; see the
README for importing PyTorch state dicts). Without arguments a random network and a target in its range are
used. Prints the exact global minimiser of f(x) = ½‖G(x) − y‖² in the box, every exact local minimum, and,
from a grid of starts, which certified local minimum Adam reaches.
"""

import argparse

import numpy as np

import landscape as L


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("network", nargs="?", help="a ReLUNet .npz (default: a random [2, 12, 30] → 40 network)")
    parser.add_argument("--target", help="a .npy file holding y (default: G(x∘) for a random x∘)")
    parser.add_argument("--box", type=float, default=3.0, help="search the box [-B, B]^k")
    args = parser.parse_args()
    net = L.ReLUNet.load(args.network) if args.network else L.ReLUNet.random([2, 12, 30], out_dim=40, rng=0)
    if net.input_dim > 3:
        parser.error(f"the network has k = {net.input_dim}; exact inversion here is for k <= 3")
    y = np.load(args.target) if args.target else net.forward(np.random.default_rng(1).uniform(-1, 1, net.input_dim))
    f = L.Objective(net, y)
    bounds = (-args.box, args.box)
    best = L.global_minimizer(f, bounds=bounds)
    print(f"{len(best.regions)} linear pieces in the box; global minimiser x* = {np.round(best.x, 6)}, "
          f"f* = {best.value:.3g}{' (on the box face: widen --box)' if best.on_box_face else ''}; "
          f"gap to the next local minimum {best.gap:.3g}")
    for m in best.local_minima:
        print(f"  local minimum {np.round(m.x, 4)}  f = {m.value:.4g}")
    axis = np.linspace(-args.box * 0.9, args.box * 0.9, 5)
    starts = np.stack(np.meshgrid(*[axis] * net.input_dim), axis=-1).reshape(-1, net.input_dim)
    ends = L.regular_descent(net, y, x0=starts, stall_window=100).x
    reached = [L.polish_to_local_minimum(f, x, bounds=bounds).x for x in ends]
    hits = sum(np.linalg.norm(x - best.x) <= 1e-6 * (1 + np.linalg.norm(best.x)) for x in reached)
    print(f"Adam from {len(starts)} grid starts reached the global minimiser's basin {hits} times")


if __name__ == "__main__":
    main()
