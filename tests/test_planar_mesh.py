"""The planar mesh (k = 2 with a box) against the LP search and brute force, on random and degenerate networks."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from landscape import ReLUNet, enumerate_regions
from landscape import RegionSet, TooManyRegionsError
from naive import regions_by_brute_force
from strategies import networks

BOX = (-2.0, 2.0)


def _line_through(point, direction):
    """A neuron w·x + b whose line passes through ``point`` along ``direction``."""
    w = np.array([-direction[1], direction[0]], dtype=float)
    return w, -float(w @ np.asarray(point, dtype=float))


def _one_layer(rows, readout_dim=3):
    W = np.array([w for w, _ in rows])
    b = np.array([b for _, b in rows])
    return ReLUNet([W], [b], readout=np.random.default_rng(0).normal(size=(readout_dim, len(rows))))


DEGENERATE = {
    "duplicated neurons": _one_layer([_line_through([0.3, 0.1], [1, 2])] * 2 + [_line_through([0, 0], [1, 0])]),
    "three lines through one point": _one_layer([_line_through([0.5, -0.5], d) for d in ([1, 0], [0, 1], [1, 1])]),
    "a line through a box corner": _one_layer([_line_through([2.0, 2.0], [1, -1]), _line_through([0, 0], [1, 3])]),
    "a line along a box face": _one_layer([_line_through([2.0, 0.0], [0, 1]), _line_through([0.1, 0], [1, 1])]),
    "a line through another's crossing with the box": _one_layer(
        [_line_through([0.0, 2.0], [1, 1]), _line_through([0.0, 2.0], [1, -2]), _line_through([1.0, 0.0], [0, 1])]),
    "a layer of all-zero weights": ReLUNet([np.array([[1.0, -0.5], [0.3, 1.0], [-1.0, 0.2]]), np.zeros((3, 3))],
                                           [np.array([0.1, -0.2, 0.3]), np.array([0.5, 0.0, -0.5])]),
    "a neuron through a vertex of the first layer": ReLUNet(
        [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [1.0, -1.0]])],
        [np.array([0.0, 0.0]), np.array([0.0, -0.5])]),
}


def _check_against_lp(net, box=BOX):
    mesh = enumerate_regions(net, bounds=box, method="planar")
    lp = enumerate_regions(net, bounds=box, method="lp")
    assert {r.pattern for r in mesh} == {r.pattern for r in lp}
    assert sum(r.volume() for r in mesh) == pytest.approx((box[1] - box[0]) ** 2, rel=1e-9)
    rows = {(int(a), int(b), int(g)) for a, b, g in mesh.adjacency}
    assert all(a < b for a, b, _ in rows)
    assert all((a, g) in mesh.neighbours(b) and (b, g) in mesh.neighbours(a) for a, b, g in rows)  # symmetric
    pairs = {frozenset((mesh[a].pattern, mesh[b].pattern)) for a, b, _ in rows}
    assert pairs == {frozenset((lp[a].pattern, lp[b].pattern)) for a, b, _ in lp.adjacency}
    return mesh


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_networks_give_the_lp_regions_and_brute_force_agrees(name):
    net = DEGENERATE[name]
    mesh = _check_against_lp(net)
    assert {r.pattern.bits for r in mesh} == regions_by_brute_force(net, BOX)


@pytest.mark.parametrize("seed", range(4))
def test_random_networks_give_the_lp_regions_facets_and_adjacency(seed):
    net = ReLUNet.random([2, 9, 9, 6], out_dim=4, rng=seed)
    mesh = _check_against_lp(net)
    lp = {r.pattern: r for r in enumerate_regions(net, bounds=BOX, method="lp")}
    for region in mesh:
        other = lp[region.pattern]
        assert set(region.facets) == set(other.facets) and sorted(region.box_faces) == sorted(other.box_faces)
        np.testing.assert_array_equal(region.G, other.G)
        assert region.contains(region.interior_point) and 0 < region.inradius <= other.inradius * (1 + 1e-9)


@given(net=networks(max_k=2, max_depth=3, max_width=8, bias=False), lo=st.sampled_from([-2.0, 0.0]))
def test_bias_free_networks_all_lines_through_one_point(net, lo):
    # Without biases every first-layer line passes through the origin and every region is a cone: the most
    # degenerate arrangement; lo = 0 puts that point on a corner of the box.
    assume(net.input_dim == 2)
    _check_against_lp(net, (lo, 2.0))


def test_the_mesh_stops_at_max_regions():
    with pytest.raises(TooManyRegionsError, match="max_regions = 50") as stopped:
        enumerate_regions(ReLUNet.random([2, 30, 30], rng=0), bounds=BOX, max_regions=50)
    assert stopped.value.count > 50


@pytest.mark.parametrize("name", ["random", *sorted(DEGENERATE)])
def test_mesh_polygons_are_the_regions_vertices(name):
    net = ReLUNet.random([2, 8, 8], rng=3) if name == "random" else DEGENERATE[name]
    regions = enumerate_regions(net, bounds=BOX)
    for polygon, region in zip(regions.polygons(), regions):
        clipped = region.vertices()
        distances = np.linalg.norm(polygon[:, None] - clipped[None], axis=2)
        assert distances.min(axis=1).max() < 1e-9 and distances.min(axis=0).max() < 1e-9  # same vertex sets
        twice = np.sum(polygon[:, 0] * np.roll(polygon[:, 1], -1) - np.roll(polygon[:, 0], -1) * polygon[:, 1])
        assert twice / 2 == pytest.approx(region.volume(), rel=1e-9, abs=1e-12)  # counter-clockwise, same area
    plain = RegionSet(regions.net, list(regions), regions.adjacency, regions.bounds)
    assert [p.shape for p in plain.polygons()] == [r.vertices().shape for r in regions]
