import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import naive
from constructions import drawn_boundary_point, margin
from landscape import Objective, ReLUNet, activation_pattern, gaussian_measurements
from strategies import networks, seeds
from tolerances import EXACT, FINITE_DIFFERENCE, PIECE_MARGIN

SHAPES = [
    ([2, 5], None, True),
    ([3, 7, 9], 11, True),
    ([2, 6, 8, 10], None, False),
    ([4, 5, 6, 7], 9, False),
]


def make_objective(net, seed, measured):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=net.output_dim)
    A = gaussian_measurements(rng.integers(1, 2 * net.output_dim + 1), net.output_dim, rng) if measured else None
    return Objective(net, y, A)


@pytest.mark.parametrize("measured", [False, True])
@pytest.mark.parametrize("widths, out_dim, bias", SHAPES)
def test_value_and_grad_match_naive(widths, out_dim, bias, measured):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=21)
    f = make_objective(net, 22, measured)
    X = np.random.default_rng(23).normal(size=(20, widths[0]))
    values, grads = f.value_and_grad(X)
    np.testing.assert_allclose(values, f.value(X), **EXACT)
    np.testing.assert_allclose(grads, f.grad(X), **EXACT)
    for p, x in enumerate(X):
        np.testing.assert_allclose(values[p], naive.value(net, f.y, f.A, x), **EXACT)
        np.testing.assert_allclose(grads[p], naive.grad(net, f.y, f.A, x), **EXACT)
        assert isinstance(f.value(x), float)
        np.testing.assert_allclose(f.grad(x), grads[p], **EXACT)


@given(net=networks(), seed=seeds, measured=st.booleans())
def test_grad_matches_central_differences_off_boundaries(net, seed, measured):
    f = make_objective(net, seed, measured)
    x = np.random.default_rng(seed + 1).normal(size=net.input_dim)
    assume(margin(net, x) > PIECE_MARGIN)
    h = 1e-6 * (1 + np.linalg.norm(x))
    stencil = np.concatenate([x + h * np.eye(net.input_dim), x - h * np.eye(net.input_dim)])
    own = activation_pattern(net, x)
    assume(all(p == own for p in activation_pattern(net, stencil)))
    fd = (f.value(stencil[: net.input_dim]) - f.value(stencil[net.input_dim:])) / (2 * h)
    np.testing.assert_allclose(f.grad(x), fd, **FINITE_DIFFERENCE)


def check_directional(f, x, d):
    """D_d f(x) against the naive piece-entering reference and a one-sided difference on one piece."""
    net = f.net
    t = 1e-6
    entered = activation_pattern(net, [x + 1e-7 * d, x + t * d, x + 2 * t * d])
    assume(entered[0] == entered[1] == entered[2])
    got = f.directional_derivative(x, d)
    np.testing.assert_allclose(got, naive.directional_derivative(net, f.y, f.A, x, d), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got, naive.one_sided_difference(f.value, x, d, t), **FINITE_DIFFERENCE)


@given(net=networks(), seed=seeds, measured=st.booleans())
def test_directional_derivative_at_generic_points(net, seed, measured):
    f = make_objective(net, seed, measured)
    rng = np.random.default_rng(seed + 2)
    x, d = rng.normal(size=net.input_dim), rng.normal(size=net.input_dim)
    check_directional(f, x, d)
    np.testing.assert_allclose(f.directional_derivative(x, d), f.grad(x) @ d, rtol=1e-9, atol=1e-12)


@given(net=networks(), seed=seeds, measured=st.booleans(), data=st.data())
def test_directional_derivative_on_boundaries_built_on_purpose(net, seed, measured, data):
    f = make_objective(net, seed, measured)
    rng = np.random.default_rng(seed + 3)
    x0 = rng.normal(size=net.input_dim)
    xb, layer, neuron = drawn_boundary_point(data, net, x0)
    normal = naive.preactivation_maps(net, [z > 0 for z in naive.forward_trace(net, x0)[0]])[layer - 1][0][neuron]
    for d in (rng.normal(size=net.input_dim), normal, -normal):
        check_directional(f, xb, d)


def test_directional_derivative_of_a_kink_by_hand():
    # k = 1, G(x) = relu(x), y = 1: f(x) = (relu(x) - 1)^2 / 2 has a kink at 0.
    f = Objective(ReLUNet([[[1.0]]], biases=[[0.0]]), y=[1.0])
    assert f.directional_derivative([0.0], [1.0]) == -1.0
    assert f.directional_derivative([0.0], [-1.0]) == 0.0
    assert f.directional_derivative([2.0], [1.0]) == 1.0
    assert f.directional_derivative([2.0], [-1.0]) == -1.0
    assert f.directional_derivative([-3.0], [1.0]) == 0.0
    assert f.grad([0.0])[0] == 0.0  # the pattern z > 0 is inactive at the kink
    np.testing.assert_array_equal(f.directional_derivative([[0.0], [2.0]], [[1.0], [-1.0]]), [-1.0, -1.0])


def test_boundary_slack_rtol():
    # z = 1e-13 sits within rtol * ||w|| ||x|| of the hyperplane at the default rtol, not at rtol = 0.
    f = Objective(ReLUNet([[[1.0]]], biases=[[-1.0]]), y=[1.0])
    x = [1.0 + 1e-13]
    assert f.directional_derivative(x, [-1.0], rtol=0.0) == pytest.approx(1.0 - 1e-13)
    assert f.directional_derivative(x, [-1.0]) == 0.0


@given(net=networks(bias=False), seed=seeds, measured=st.booleans())
def test_directional_derivative_at_the_origin_of_a_homogeneous_network(net, seed, measured):
    # Every neuron is on its hyperplane at x = 0 and G(t d) = t G(d), so D_d f(0) = -(A y)^T A G(d).
    f = make_objective(net, seed, measured)
    d = np.random.default_rng(seed + 4).normal(size=net.input_dim)
    A = np.eye(net.output_dim) if f.A is None else f.A
    expected = -(A @ f.y) @ (A @ net.forward(d))
    np.testing.assert_allclose(f.directional_derivative(np.zeros(net.input_dim), d), expected, **EXACT)


def test_batched_directional_derivative_matches_single():
    net = ReLUNet.random([3, 10, 12], out_dim=7, rng=30)
    f = make_objective(net, 31, True)
    rng = np.random.default_rng(32)
    X, D = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    batch = f.directional_derivative(X, D)
    assert batch.shape == (10,)
    for p in range(10):
        assert batch[p] == pytest.approx(f.directional_derivative(X[p], D[p]), rel=1e-12, abs=1e-14)


def test_objective_at_a_generating_point_is_zero():
    net = ReLUNet.random([2, 20, 40], out_dim=50, rng=0)
    x_star = np.array([0.7, -0.4])
    for A in (None, gaussian_measurements(10, 50, rng=1)):
        f = Objective(net, net.forward(x_star), A)
        assert f.value(x_star) == pytest.approx(0.0, abs=1e-24)
        np.testing.assert_allclose(f.grad(x_star), 0.0, atol=1e-12)


def test_gaussian_measurements():
    a = gaussian_measurements(300, 400, rng=5)
    assert a.shape == (300, 400)
    assert abs(a.var() - 1 / 300) < 6 * (1 / 300) * np.sqrt(2 / a.size)
    np.testing.assert_array_equal(a, gaussian_measurements(300, 400, rng=np.random.default_rng(5)))
    assert Objective(ReLUNet.random([2, 5], rng=0), np.zeros(5), gaussian_measurements(3, 5, 0)).m == 3
