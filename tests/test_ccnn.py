"""Convexified CNNs: patches and pooling against loops, the nuclear-ball projection against cvxpy's, the loss and
gradient against the naive sum and finite differences, random features against the Gaussian kernel, and the
projected-gradient solver against cvxpy on the same small convex problem (same optimum, certified by the gap)."""

import naive
import numpy as np
import pytest

from landscape import ccnn


def _problem(seed=0, n=40, size=6, m=12, classes=3):
    rng = np.random.default_rng(seed)
    images, labels = rng.normal(size=(n, size, size)), rng.integers(0, classes, n)
    features = ccnn.RandomFourierFeatures.draw(9, m, 0.1, rng)
    Z = ccnn.average_pool(features(ccnn.patches(images, 3)), ccnn.patch_grid(size, size, 3), 2)
    return Z, labels


@pytest.mark.parametrize("shape, size, stride", [((3, 7, 7), 3, 1), ((2, 2, 9, 8), 4, 2), ((1, 5, 5), 5, 3)])
def test_patches_match_a_loop_over_every_window(shape, size, stride):
    images = np.random.default_rng(1).normal(size=shape)
    four = images if images.ndim == 4 else images[:, None]
    np.testing.assert_array_equal(ccnn.patches(images, size, stride), naive.image_patches(four, size, stride))
    rows, columns = ccnn.patch_grid(shape[-2], shape[-1], size, stride)
    assert ccnn.patches(images, size, stride).shape[1] == rows * columns


def test_average_pooling_averages_each_block_of_the_patch_grid():
    Z = np.arange(2 * 15 * 2, dtype=float).reshape(2, 15, 2)  # a 3 × 5 grid
    pooled = ccnn.average_pool(Z, (3, 5), 2)
    grid = Z.reshape(2, 3, 5, 2)
    assert pooled.shape == (2, 6, 2)
    np.testing.assert_allclose(pooled[:, 0], grid[:, :2, :2].mean(axis=(1, 2)))
    np.testing.assert_allclose(pooled[:, 2], grid[:, :2, 4:].mean(axis=(1, 2)))  # a partial block
    np.testing.assert_allclose(pooled[:, 5], grid[:, 2:, 4:].mean(axis=(1, 2)))


def test_random_features_approximate_the_gaussian_kernel():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(30, 4)) * 0.5
    features = ccnn.RandomFourierFeatures.draw(4, 20_000, 0.7, rng)
    Phi = features(z)
    exact = np.exp(-0.7 * np.sum((z[:, None] - z[None]) ** 2, axis=-1))
    # each entry is a mean of 20,000 bounded terms (|2 cos cos| ≤ 2): error below 5 standard errors, 5·√(2/m)
    assert np.abs(Phi @ Phi.T - exact).max() < 5 * np.sqrt(2 / 20_000)


def test_loss_and_gradient_match_the_naive_sum_and_finite_differences():
    Z, y = _problem(n=8, m=5)
    rng = np.random.default_rng(3)
    A = rng.normal(size=(5, Z.shape[1], 3))
    loss, gradient = ccnn.loss_and_gradient(A, Z, y)
    assert loss == pytest.approx(naive.ccnn_loss(A, Z, y), rel=1e-12)
    direction = rng.normal(size=A.shape)
    step = 1e-6
    numeric = (naive.ccnn_loss(A + step * direction, Z, y) - naive.ccnn_loss(A - step * direction, Z, y)) / (2 * step)
    assert np.sum(gradient * direction) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("radius", [0.3, 2.0, 50.0])
def test_the_nuclear_ball_projection_is_cvxpys(radius):
    import cvxpy as cp

    A = np.random.default_rng(4).normal(size=(4, 3, 2))
    X = cp.Variable((4, 6))
    cp.Problem(cp.Minimize(cp.sum_squares(X - A.reshape(4, 6))), [cp.normNuc(X) <= radius]).solve(solver="CLARABEL")
    projected = ccnn.project_nuclear_ball(A, radius)
    np.testing.assert_allclose(projected.reshape(4, 6), X.value, atol=1e-6)
    assert np.linalg.svd(projected.reshape(4, 6), compute_uv=False).sum() <= radius * (1 + 1e-12)


@pytest.mark.parametrize("radius", [0.5, 5.0])
def test_projected_gradient_reaches_cvxpys_optimum_from_any_start(radius):
    Z, y = _problem()
    reference = ccnn.fit_cvxpy(Z, y, radius)
    rng = np.random.default_rng(5)
    for start in (None, 10 * rng.normal(size=(Z.shape[2], Z.shape[1], 3))):
        fit = ccnn.fit_projected_gradient(Z, y, radius, A0=start, tol=1e-8)
        assert fit.converged and fit.gap <= 1e-8 * (1 + fit.loss) and fit.nuclear_norm <= radius * (1 + 1e-9)
        # the gap bounds L(A) − L* for both answers, so they agree within the larger gap
        assert abs(fit.loss - reference.loss) <= max(fit.gap, reference.gap) + 1e-12
        assert fit.loss == pytest.approx(reference.loss, rel=1e-6)


def test_the_papers_stochastic_gradient_approaches_the_optimum():
    Z, y = _problem()
    best = ccnn.fit_projected_gradient(Z, y, 0.5, tol=1e-9)
    stochastic = ccnn.fit_projected_gradient(Z, y, 0.5, batch_size=8, epochs=200, rng=0)
    assert best.loss <= stochastic.loss <= best.loss + stochastic.gap + 1e-12
    assert stochastic.loss - best.loss < 1e-2 and stochastic.nuclear_norm <= 0.5 * (1 + 1e-9)
    again = ccnn.fit_projected_gradient(Z, y, 0.5, batch_size=8, epochs=200, rng=0)
    np.testing.assert_array_equal(again.A, stochastic.A)


def test_bad_input_is_refused_with_the_arguments_name():
    Z, y = _problem(n=10)
    with pytest.raises(ValueError, match="size must be at most"):
        ccnn.patches(np.zeros((2, 5, 5)), 6)
    with pytest.raises(ValueError, match="images must have shape"):
        ccnn.patches(np.zeros(5), 2)
    with pytest.raises(ValueError, match="images must be finite"):
        ccnn.patches(np.full((1, 4, 4), np.nan), 2)
    with pytest.raises(ValueError, match="radius must be"):
        ccnn.fit_projected_gradient(Z, y, 0.0)
    with pytest.raises(ValueError, match="radius must be"):
        ccnn.project_nuclear_ball(np.ones((2, 2, 2)), -1.0)
    with pytest.raises(ValueError, match="dim must be"):
        ccnn.RandomFourierFeatures.draw(4, 0, 1.0)
    with pytest.raises(ValueError, match="gamma must be"):
        ccnn.RandomFourierFeatures.draw(4, 10, -1.0)
    with pytest.raises(ValueError, match="y must hold one label per image"):
        ccnn.fit_projected_gradient(Z, y[:-1], 1.0)
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        ccnn.fit_projected_gradient(Z, y.astype(float), 1.0)
    with pytest.raises(ValueError, match="y must hold labels 0 … 1"):
        ccnn.fit_projected_gradient(Z, y, 1.0, classes=2)
    with pytest.raises(ValueError, match="A0 must have shape"):
        ccnn.fit_projected_gradient(Z, y, 1.0, A0=np.zeros((1, 1, 1)))
    with pytest.raises(ValueError, match="window must be at most"):
        ccnn.average_pool(np.zeros((1, 4, 2)), (2, 2), 3)


def _digits(n=120):
    from landscape.datasets import load_digits

    data = load_digits()
    return (data.train[:n] + 1) / 2, data.train_labels[:n], (data.test[:60] + 1) / 2, data.test_labels[:60]


def test_a_two_layer_ccnn_trains_layer_by_layer_and_classifies_new_images_consistently():
    X, y, X_test, y_test = _digits()
    specs = (ccnn.LayerSpec(patch=3, pool=2, features=40, radius=5.0, rank=4),
             ccnn.LayerSpec(patch=2, pool=1, features=30, radius=5.0, rank=3))
    model = ccnn.CCNN.fit(X, y, layers=specs, rng=0)
    first, second = model.layers
    assert first.filters.shape == (40, 4) and np.allclose(first.filters.T @ first.filters, np.eye(4), atol=1e-10)
    # layer 2 sees 4 channels on the pooled 3 × 3 grid of layer 1's 6 × 6 patch grid; its 2 × 2 patches: a 2 × 2 grid
    assert second.fit.A.shape == (30, 4, 10)
    Z = model.representation(X)
    assert ccnn.loss_and_gradient(second.fit.A, Z, y)[0] == pytest.approx(second.fit.loss, rel=1e-12)
    assert model.error(X, y) < 0.5 and model.error(X_test, y_test) < 0.75  # far below chance (0.9)
    again = ccnn.CCNN.fit(X, y, layers=specs, rng=0)
    np.testing.assert_array_equal(again.predict(X_test), model.predict(X_test))


def test_a_ccnn_from_random_starts_reaches_the_same_certified_optimum():
    X, y, X_test, _ = _digits()
    spec = ccnn.LayerSpec(patch=3, pool=2, features=40, radius=5.0, rank=4)
    zero = ccnn.CCNN.fit(X, y, layers=(spec,), rng=0, tol=1e-9)
    fits = [zero.layers[0].fit] + [ccnn.CCNN.fit(X, y, layers=(spec,), rng=0, tol=1e-9, start=s).layers[0].fit
                                   for s in (1, 2)]
    assert all(fit.converged for fit in fits)
    # L(Â) − L* ≤ gap for each, so any two losses differ by at most the larger gap
    losses = np.array([fit.loss for fit in fits])
    assert losses.max() - losses.min() <= max(fit.gap for fit in fits)
    # the starts were far apart: on the ball's boundary, not at 0
    started = np.random.default_rng(1).normal(size=fits[1].A.shape)
    assert np.linalg.norm(ccnn.project_nuclear_ball(started, 5.0) - fits[1].A) > 0.1
    with pytest.raises(ValueError, match="start"):
        ccnn.CCNN.fit(X, y, layers=(spec,), start="abc")


def test_the_cnn_baseline_learns_and_is_reproducible():
    X, y, X_test, _ = _digits()
    spec = ccnn.LayerSpec(patch=3, pool=2, rank=4)
    trained = ccnn.train_cnn(X, y, layers=(spec,), epochs=20, batch_size=20, lr=0.01, rng=1)
    assert trained.train_loss < np.log(10) / 2 and trained.error(X, y) < 0.5
    again = ccnn.train_cnn(X, y, layers=(spec,), epochs=20, batch_size=20, lr=0.01, rng=1)
    assert again.train_loss == trained.train_loss
    two = ccnn.train_cnn(X, y, layers=(spec, ccnn.LayerSpec(patch=2, pool=1, rank=3)), epochs=2, rng=1)
    assert two.predict(X_test).shape == (60,)


def test_the_variants_are_fixed_functions_of_the_images_and_the_seed():
    X = _digits(20)[0]
    for name in ccnn.VARIANTS:
        made = ccnn.variant(X, name, rng=3)
        assert made.shape == X.shape and made.min() >= 0 and made.max() <= 1
        np.testing.assert_array_equal(made, ccnn.variant(X, name, rng=3))
    assert np.all(ccnn.variant(X, "rand", rng=0) >= X) and np.all(ccnn.variant(X, "img", rng=0) >= X)
    rotated = ccnn.variant(X, "rot", rng=0)
    assert not np.allclose(rotated, X) and abs(rotated.sum() - X.sum()) < 0.2 * X.sum()  # ink moved, mostly kept
    with pytest.raises(ValueError, match="name must be one of"):
        ccnn.variant(X, "noise")
    with pytest.raises(ValueError, match=r"pixels in \[0, 1\]"):
        ccnn.variant(2 * X - 1, "rand")
    with pytest.raises(ValueError, match="labels must hold one label per image"):
        ccnn.CCNN.fit(X, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="layers must be a non-empty sequence"):
        ccnn.CCNN.fit(X, np.zeros(20, dtype=int), layers=ccnn.LayerSpec())
    with pytest.raises(ValueError, match="radius must be"):
        ccnn.LayerSpec(radius=0.0)
