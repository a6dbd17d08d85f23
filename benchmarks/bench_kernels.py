"""Core-issue speed targets: landscape's batched kernels against the plain numpy version of the
same computation, on N = 100,000 points, networks [2, 64, 64, 64] and [20, 200, 800] with readout.

Target for every row: ratio <= 1.0. Run: .venv/bin/python benchmarks/bench_kernels.py [--n N]
"""

from __future__ import annotations

import argparse

import numpy as np

import landscape as L
from _timing import HEADER, compare, row


def numpy_patterns_and_preactivations(net, X):
    preacts, x = [], X
    for w, b in zip(net.weights, net.effective_biases):
        z = x @ w.T + b
        preacts.append(z)
        x = np.maximum(z, 0.0)
    bits = np.packbits(np.concatenate([z > 0 for z in preacts], axis=1), axis=1)
    return bits, preacts


def numpy_near_zero_mask(net, X, tau):
    masks, x = [], X
    for w, b in zip(net.weights, net.effective_biases):
        z = x @ w.T + b
        masks.append(np.abs(z) <= tau)
        x = np.maximum(z, 0.0)
    return np.concatenate(masks, axis=1)


def numpy_grad(net, y, X):
    outputs = [X]
    for w, b in zip(net.weights, net.effective_biases):
        outputs.append(np.maximum(outputs[-1] @ w.T + b, 0.0))
    V = net.readout
    r = outputs[-1] @ V.T - y
    g = r @ V
    for i in range(net.depth, 0, -1):
        g = (g * (outputs[i] > 0)) @ net.weights[i - 1]
    return g


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="number of points")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lines = [HEADER]
    for widths in ([2, 64, 64, 64], [20, 200, 800]):
        net = L.ReLUNet.random(widths, out_dim=widths[-1], rng=rng)
        X = rng.uniform(-3, 3, size=(args.n, widths[0]))
        y = rng.normal(size=net.output_dim)
        f = L.Objective(net, y)
        tau = 0.05

        patterns, preacts = L.activation_pattern(net, X, return_preactivations=True)
        bits_ref, preacts_ref = numpy_patterns_and_preactivations(net, X)
        assert np.array_equal(patterns.packed, bits_ref)
        assert all(np.allclose(a, b) for a, b in zip(preacts, preacts_ref))
        assert np.array_equal(L.near_zero_mask(net, X, tau), numpy_near_zero_mask(net, X, tau))
        assert np.allclose(f.grad(X), numpy_grad(net, y, X), rtol=1e-9, atol=1e-9)

        tag = f"{widths}, N={args.n}"
        cases = [
            ("patterns + pre-activations", lambda: L.activation_pattern(net, X, return_preactivations=True),
             lambda: numpy_patterns_and_preactivations(net, X)),
            ("near-zero masks", lambda: L.near_zero_mask(net, X, tau), lambda: numpy_near_zero_mask(net, X, tau)),
            ("grad", lambda: f.grad(X), lambda: numpy_grad(net, y, X)),
        ]
        for name, ours, ref in cases:
            result = compare(ours, ref, args.repeats)
            lines.append(row(f"{name}, {tag}", result, "<= 1.0"))
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
