"""Exact slices: the restricted network equals the network on the plane, a segment's profile matches a fine grid,
the minimum through x* is found and certified in R^k, and degenerate slices are refused."""

import numpy as np
import pytest

import landscape as L
from landscape.slices import minima_on_slice, plane_at, plane_through, segment


def _net(seed: int, k: int = 5) -> L.ReLUNet:
    return L.ReLUNet.random([k, 12, 20], out_dim=15, rng=seed, readout_bias=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_slice_is_the_network_on_the_plane(seed):
    rng = np.random.default_rng(seed)
    net = _net(seed)
    a, b, c = rng.normal(size=(3, 5))
    plane = plane_through(net, a, b, c)
    assert plane.net.input_dim == 2 and np.allclose(plane.basis.T @ plane.basis, np.eye(2), atol=1e-12)
    for point in (a, b, c):  # the three points lie on the plane
        np.testing.assert_allclose(plane.points(plane.coordinates(point)), point, atol=1e-12)
    S = rng.uniform(-3, 3, (500, 2))
    X = plane.points(S)
    np.testing.assert_allclose(plane.net.forward(S), net.forward(X), rtol=1e-12, atol=1e-12)
    # the same sign pattern at every point: the slice's regions are G's, cut by the plane
    np.testing.assert_array_equal(L.activation_pattern(plane.net, S).unpack(), L.activation_pattern(net, X).unpack())
    no_readout = L.ReLUNet(list(net.weights), list(net.biases), readout_bias=rng.normal(size=20))
    np.testing.assert_allclose(plane_through(no_readout, a, b, c).net.forward(S), no_readout.forward(X), rtol=1e-12,
                               atol=1e-12)
    u, v = rng.normal(size=(2, 5))
    at = plane_at(net, a, u, v)
    np.testing.assert_allclose(at.basis[:, 0], u / np.linalg.norm(u), atol=1e-12)
    np.testing.assert_allclose(at.net.forward(S), net.forward(at.points(S)), rtol=1e-12, atol=1e-12)


def test_a_segment_profile_matches_a_fine_grid():
    rng = np.random.default_rng(3)
    net = _net(3)
    f = L.Objective(net, rng.normal(size=15))
    a, b = rng.normal(size=(2, 5)) * 2
    profile = segment(f, a, b)
    t = np.linspace(0, profile.length, 20_001)
    grid = f.value(a + np.outer(t / profile.length, b - a))
    scale = 1 + np.abs(grid).max()
    assert profile.breakpoints[0] == 0 and profile.breakpoints[-1] == pytest.approx(profile.length)
    assert grid.max() <= profile.highest + 1e-12 * scale and profile.highest - grid.max() < 1e-4 * scale
    assert min(m.value for m in profile.minima) == pytest.approx(grid.min(), rel=1e-6, abs=1e-9)
    assert profile.barrier == pytest.approx(profile.highest - max(grid[0], grid[-1]), rel=1e-9, abs=1e-9)


def test_the_minimum_through_x_star_is_found_on_the_slice_and_certified_in_full_space():
    rng = np.random.default_rng(4)
    net = L.ReLUNet.random([4, 16, 32], out_dim=24, rng=rng)
    x_star = rng.uniform(-1, 1, 4)
    f = L.Objective(net, net.forward(x_star))
    plane = plane_through(net, x_star, x_star + rng.normal(size=4), x_star + rng.normal(size=4))
    found = minima_on_slice(f, plane, bounds=(-2.0, 2.0))
    at_x_star = [(m, certified) for m, certified in found if np.linalg.norm(m.x) < 1e-6]
    assert len(at_x_star) == 1 and at_x_star[0][0].value < 1e-20 and at_x_star[0][1]
    assert all(m.value >= 0 for m, _ in found)


def test_degenerate_slices_are_refused():
    net = _net(5)
    a = np.zeros(5)
    e = np.eye(5)
    with pytest.raises(ValueError, match="collinear"):
        plane_through(net, a, e[0], 2 * e[0])
    with pytest.raises(ValueError, match="direction 2 is parallel"):
        plane_at(net, a, e[0], -3 * e[0])
    with pytest.raises(ValueError, match="direction 1 is zero"):
        plane_at(net, a, np.zeros(5), e[1])
    with pytest.raises(ValueError, match="a and b must differ"):
        segment(L.Objective(net, np.zeros(15)), a, a)
    with pytest.raises(ValueError, match="x"):
        plane_at(net, np.zeros(4), e[0], e[1])
    with pytest.raises(ValueError, match="k >= 2"):
        plane_at(L.ReLUNet.random([1, 4], rng=0), [0.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="Slice"):
        minima_on_slice(L.Objective(net, np.zeros(15)), "plane", bounds=(-1, 1))
    with pytest.raises(ValueError, match="another network"):
        minima_on_slice(L.Objective(_net(6), np.zeros(15)), plane_at(net, a, e[0], e[1]), bounds=(-1, 1))


def test_a_slice_keeps_convolutional_layers_as_operators():
    from landscape.layers import Conv2d, ConvTranspose2d

    rng = np.random.default_rng(6)
    first = ConvTranspose2d(rng.normal(size=(5, 3, 4, 4)) / 3, rng.normal(size=3) * 0.3, (5, 1, 1))  # 5 → 3×4×4
    second = Conv2d(rng.normal(size=(2, 3, 2, 2)) / 3, rng.normal(size=2) * 0.3, (3, 4, 4))  # → 2×3×3
    net = L.ReLUNet.from_layers([first, second])
    a, u, v = rng.normal(size=(3, 5))
    plane = plane_at(net, a, u, v)
    assert plane.net.structured and plane.net.layers[1] is second  # only the first layer is replaced
    S = rng.uniform(-2, 2, (200, 2))
    np.testing.assert_allclose(plane.net.forward(S), net.forward(plane.points(S)), rtol=1e-12, atol=1e-12)
