"""The inverters of the current literature (PLUGIn, PGD-GAN, annealed Langevin) on cases with known answers."""

import numpy as np
import pytest

import landscape as L
from landscape.inversion import langevin, pgd_gan, plugin, range_projection
from landscape.inversion.langevin import annealing_schedule, reflect_into_box
from landscape.inversion.plugin import unmasked_measurement_map
from naive import plugin_direction, reflect_once_at_a_time


def _gaussian_expansive(widths=(5, 200, 1000), seed=0):
    """PLUGIn's setting: bias-free, no readout, weights N(0, 1/n_i), each layer wider than the last."""
    rng = np.random.default_rng(seed)
    return L.ReLUNet([rng.normal(0.0, 1.0 / np.sqrt(n_out), (n_out, n_in)) for n_in, n_out in zip(widths, widths[1:])])


def test_the_plugin_direction_is_the_transposed_weights_applied_without_masks():
    rng = np.random.default_rng(1)
    for net in (L.ReLUNet.random([3, 7, 9], out_dim=11, rng=2), _gaussian_expansive((3, 8, 12), seed=3)):
        n = net.output_dim
        A = L.gaussian_measurements(6, n, rng=4)
        x, y = rng.normal(size=3), rng.normal(size=n)
        for measurements in (None, A):
            K = unmasked_measurement_map(net, measurements)
            one_step = plugin(net, y, measurements, budget=1, x0=x, step=0.3, tol=1e-300)
            np.testing.assert_allclose(one_step.x, x - 0.3 * plugin_direction(net, y, measurements, x), atol=1e-12)
            assert K.shape == ((n if measurements is None else 6), 3)


def test_plugin_recovers_the_latent_of_a_wide_gaussian_network_with_the_papers_step_and_from_measurements():
    net = _gaussian_expansive()
    x_star = np.random.default_rng(5).uniform(-1, 1, (10, 5))
    Y = net.forward(x_star)
    for options in ({}, {"step": 2.0**net.depth}):  # the default, and the paper's η = 2^d
        found = plugin(net, Y, budget=500, rng=6, **options)
        assert (found.stop == "converged").all() and found.unit == "forward passes"
        np.testing.assert_allclose(found.x, x_star, atol=1e-4)
    A = L.gaussian_measurements(100, net.output_dim, rng=7)
    found = plugin(net, Y @ A.T @ np.linalg.pinv(A).T, A, budget=1000, rng=6)  # any y with A y = A G(x*)
    np.testing.assert_allclose(found.x, x_star, atol=1e-4)


def test_plugin_marks_a_diverging_iteration_and_keeps_the_last_iterate_inside():
    net = _gaussian_expansive((2, 20, 80), seed=8)
    Y = net.forward(np.array([[0.5, -0.5]]))
    found = plugin(net, Y, budget=500, x0=np.array([[0.1, 0.2]]), step=1e3)
    assert found.stop.tolist() == ["diverged"] and np.isfinite(found.x).all() and np.isfinite(found.value).all()
    assert 0 < found.cost[0] < 500


def test_the_range_projection_is_the_exact_projection_at_k_2():
    rng = np.random.default_rng(9)
    net = L.ReLUNet.random([2, 20, 60], out_dim=80, rng=10)
    Z_star = rng.uniform(-1, 1, (4, 2))
    W = net.forward(Z_star) + 0.01 * rng.normal(size=(4, 80))  # images near the range, off it
    exact = np.array([L.global_minimizer(L.Objective(net, w), bounds=(-3, 3), runner_up=False).x for w in W])
    projected, taken = range_projection(net, W, Z_star, steps=1500, tol=1e-10)
    settled = taken < 1500  # the others zigzag across a kink of f at fixed step: in the right basin, not at its floor
    assert settled.sum() >= 3
    np.testing.assert_allclose(projected[settled], exact[settled], atol=1e-7)
    for z, w, best in zip(projected[~settled], W[~settled], exact[~settled]):
        np.testing.assert_allclose(L.polish_to_local_minimum(L.Objective(net, w), z).x, best, atol=1e-9)


def test_pgd_gan_recovers_the_latent_with_and_without_measurements():
    net = _gaussian_expansive()
    x_star = np.random.default_rng(11).uniform(-1, 1, (10, 5))
    Y = net.forward(x_star)
    found = pgd_gan(net, Y, budget=2000, rng=12)
    np.testing.assert_allclose(found.x, x_star, atol=1e-4)
    assert (found.per_target["outer_iterations"] == 1).all()  # η = 1 and no A: w = y, one projection
    A = L.gaussian_measurements(100, net.output_dim, rng=13)
    found = pgd_gan(net, Y, A, budget=2000, rng=12)
    assert (found.stop == "converged").all() and (found.cost <= 2000).all()
    np.testing.assert_allclose(found.x, x_star, atol=1e-4)
    capped = pgd_gan(net, Y, A, budget=30, rng=12, inner_steps=7)
    assert (capped.cost <= 30).all() and (capped.stop == "budget").any()


def _affine_everywhere(seed=14):
    """A one-layer network whose neurons are active on all of [-50, 50]^2: G(x) = V(Wx + b), f quadratic."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(6, 2))
    return L.ReLUNet([W], [np.full(6, 1000.0)], rng.normal(size=(8, 6))), W


def test_langevin_samples_the_posterior_of_a_quadratic_objective():
    """On f(x) = ½‖J(x − x*)‖², the unadjusted Langevin chain at one level σ with step η = lr·σ² has a Gaussian
    stationary law: mean H⁻¹(H x*) with H = JᵀJ (+ σ² I under the Gaussian prior), covariance
    σ² Σ_i u_i u_iᵀ / (h_i (1 − lr·h_i / 2)) over H's eigenpairs (the Euler discretisation's exact inflation)."""
    net, W = _affine_everywhere()
    J = net.readout @ W
    x_star = np.array([0.4, -0.3])
    chains, sigma = 4000, 0.2
    Y = np.repeat(net.forward(x_star)[None], chains, axis=0)
    for prior, shift in (("flat", 0.0), ("gaussian", sigma**2)):
        H = J.T @ J + shift * np.eye(2)
        lr = 0.5 / np.linalg.eigvalsh(H).max()
        run = langevin(net, Y, budget=400, rng=15, sigmas=[sigma], lr=lr, prior=prior)
        h, U = np.linalg.eigh(H)
        expected_cov = sigma**2 * (U / (h * (1 - lr * h / 2))) @ U.T
        expected_mean = np.linalg.solve(H, J.T @ J @ x_star)
        np.testing.assert_allclose(run.x.mean(axis=0), expected_mean, atol=4 * np.sqrt(expected_cov.max() / chains))
        np.testing.assert_allclose(np.cov(run.x.T), expected_cov, rtol=0.1, atol=0.1 * expected_cov.max())


def test_langevin_anneals_to_the_minimiser_and_repeats_with_its_seed():
    net, _ = _affine_everywhere()
    x_star = np.array([[0.4, -0.3], [-0.2, 0.1]])
    Y = net.forward(x_star)
    run = langevin(net, Y, budget=1000, rng=16, prior="flat")
    assert (run.stop == "budget").all() and (run.cost == 1000).all()
    np.testing.assert_allclose(run.x, x_star, atol=1e-2)  # σ_L = 1e-3: the last level's spread
    assert np.diff(run.trace["mean_value"][2:]).max() < 0  # f falls as σ is annealed down
    again = langevin(net, Y, budget=1000, rng=16, prior="flat")
    np.testing.assert_array_equal(run.x, again.x)
    mean = langevin(net, Y, budget=1000, rng=16, prior="flat", average=True)
    assert np.abs(mean.x - x_star).max() < np.abs(run.x - x_star).max()
    boxed = langevin(net, Y, budget=200, rng=17, prior="uniform", sigmas=[3.0, 1.0])
    assert np.abs(boxed.x).max() <= 1.0


def test_reflection_folds_into_the_box_as_repeated_reflections_do():
    values = np.random.default_rng(18).uniform(-9, 9, 500)
    np.testing.assert_allclose(reflect_into_box(values), [reflect_once_at_a_time(v) for v in values], atol=1e-12)


def test_the_recent_inverters_refuse_bad_settings():
    net = _gaussian_expansive((2, 8, 16))
    Y = net.forward(np.zeros((2, 2)))
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="step"):
            plugin(net, Y, step=bad)
        with pytest.raises(ValueError, match="step"):
            pgd_gan(net, Y, step=bad)
        with pytest.raises(ValueError, match="lr"):
            langevin(net, Y, lr=bad)
        with pytest.raises(ValueError, match="sigmas"):
            langevin(net, Y, sigmas=[1.0, bad])
    for bad in ([], [0.1, 1.0], [[1.0]], "1.0"):
        with pytest.raises(ValueError, match="sigmas"):
            annealing_schedule(bad)
    with pytest.raises(ValueError, match="one step per level of sigmas"):
        langevin(net, Y, budget=3, sigmas=[1.0, 0.5, 0.2, 0.1])
    with pytest.raises(ValueError, match="prior must be one of gaussian, uniform, flat"):
        langevin(net, Y, prior="laplace")
    with pytest.raises(ValueError, match="average must be True or False"):
        langevin(net, Y, average=1)
    with pytest.raises(ValueError, match="inner_steps must be an integer >= 1"):
        pgd_gan(net, Y, inner_steps=0)
    with pytest.raises(ValueError, match="tol"):
        plugin(net, Y, tol=-1.0)
    with pytest.raises(ValueError, match="x0 must hold one start per image"):
        range_projection(net, Y, np.zeros((3, 2)))
