from math import comb

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import naive
from constructions import drawn_boundary_point
import landscape as L
from landscape import (
    BoundaryPointError,
    EmptyRegionError,
    ReLUNet,
    Region,
    TooManyRegionsError,
    activation_pattern,
    enumerate_regions,
    local_affine,
    near_zero_set,
    pieces,
    region_of,
)
from strategies import networks, seeds
from tolerances import EXACT


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 4, 9])
def test_one_hidden_layer_count_over_the_whole_space(k, n):
    # n hyperplanes in general position cut R^k into sum_{i<=k} C(n, i) regions.
    net = ReLUNet.random([k, n], rng=100 * k + n)
    assert len(enumerate_regions(net)) == sum(comb(n, i) for i in range(k + 1))


@pytest.mark.parametrize("widths, bias, bounds", [
    ([2, 3, 3], True, None),
    ([2, 4, 3], True, (-1.5, 1.0)),
    ([1, 3, 4], True, None),
    ([3, 4, 3], True, None),
    ([2, 3, 2, 2], True, (-2.0, 2.0)),
    ([2, 5, 3], False, None),
])
def test_enumeration_equals_brute_force_over_all_patterns(widths, bias, bounds):
    net = ReLUNet.random(widths, bias=bias, rng=sum(widths))
    found = {r.pattern.bits for r in enumerate_regions(net, bounds=bounds)}
    assert found == naive.regions_by_brute_force(net, bounds)


@given(net=networks(max_k=3, max_depth=2, max_width=7, readout=False), seed=seeds)
def test_enumeration_contains_every_sampled_region(net, seed):
    box = (-2.0, 2.0)
    regions = enumerate_regions(net, bounds=box)
    X = np.random.default_rng(seed).uniform(-2, 2, size=(300, net.input_dim))
    where = regions.locate(X)
    assert np.all(where >= 0)
    for x, i in zip(X, where):
        assert regions[i].contains(x)
    # Sampled patterns are regions; regions carry pairwise different patterns.
    assert len({r.pattern for r in regions}) == len(regions)


@given(net=networks(max_k=3, max_depth=2, max_width=6, readout=False), data=st.data())
def test_regions_in_a_box_tile_it(net, data):
    assume(net.input_dim >= 2)
    lo = data.draw(st.floats(-3, -0.5))
    hi = data.draw(st.floats(0.5, 3))
    regions = enumerate_regions(net, bounds=(lo, hi))
    total = sum(r.volume() for r in regions)
    np.testing.assert_allclose(total, (hi - lo) ** net.input_dim, rtol=1e-7)
    # Interiors are disjoint: two patterns first differ at a neuron whose row is shared with opposite signs.
    for a in range(len(regions)):
        for b in range(a + 1, len(regions)):
            ga, gb = regions[a].pattern.unpack(), regions[b].pattern.unpack()
            g = int(np.flatnonzero(ga != gb)[0])
            np.testing.assert_allclose(regions[a].G[g], -regions[b].G[g], **EXACT)
            np.testing.assert_allclose(regions[a].h[g], -regions[b].h[g], **EXACT)


@given(net=networks(max_k=3, max_depth=3, max_width=6, bias=True, readout=False))
def test_adjacency_is_symmetric_and_flips_one_neuron(net):
    # Random biases put the hyperplanes in general position (almost surely).
    regions = enumerate_regions(net, bounds=(-2.0, 2.0))
    for a, b, g in regions.adjacency:
        assert regions[a].pattern.differences(regions[b].pattern) == {net.neuron(int(g))}
        assert g in regions[a].facets and g in regions[b].facets
        assert (b, g) in regions.neighbours(a) and (a, g) in regions.neighbours(b)
    # Every neuron facet of every region leads to a recorded neighbour.
    for a, region in enumerate(regions):
        assert sorted(g for _, g in regions.neighbours(a)) == sorted(int(g) for g in region.facets)


@given(net=networks(max_k=3, max_depth=2, max_width=6, bias=True), seed=seeds)
def test_region_geometry_matches_naive(net, seed):
    # General position (random biases): each facet has one owning row, as the row-by-row LP test assumes.
    x = np.random.default_rng(seed).normal(size=net.input_dim)
    try:
        region = region_of(net, x)
    except BoundaryPointError:
        assume(False)
    assert region.pattern == activation_pattern(net, x)
    assert region.contains(x)
    assert activation_pattern(net, region.interior_point) == region.pattern
    G_ref, h_ref = naive.pattern_halfspaces(net, region.pattern.unpack())
    norms = np.linalg.norm(G_ref, axis=1)  # the region keeps unit-norm rows: the same half-spaces, on x's scale
    norms[norms == 0] = 1.0  # a neuron whose pre-activation is constant on the piece keeps its row 0 <= h
    np.testing.assert_allclose(region.G, G_ref / norms[:, None], **EXACT)
    np.testing.assert_allclose(region.h, h_ref / norms, **EXACT)
    assert list(region.facets) == naive.facets_by_lp(G_ref, h_ref)
    J, c = region.affine
    J_ref, c_ref = local_affine(net, x)
    np.testing.assert_allclose(J, J_ref, **EXACT)
    np.testing.assert_allclose(c, c_ref, **EXACT)
    # The reference caps the radius at 1.
    np.testing.assert_allclose(min(region.inradius, 1.0), naive.inscribed_radius(G_ref, h_ref), rtol=1e-6, atol=1e-9)


def test_coincident_hyperplanes_flip_together():
    # Bias-free with k = 1: every neuron switches at x = 0, so the one facet flips all of them at once.
    net = ReLUNet([np.array([[1.0], [2.0], [0.5]])])
    regions = enumerate_regions(net)
    assert len(regions) == 2
    ((a, b, g),) = regions.adjacency
    assert regions[a].pattern.differences(regions[b].pattern) == {(1, 0), (1, 1), (1, 2)}
    # A neuron fed only by inactive neurons is identically 0 there: it cannot be active.
    chain = ReLUNet([np.array([[1.0, -1.0]]), np.array([[0.6]])])
    assert {r.pattern.unpack().tobytes() for r in enumerate_regions(chain)} == {
        np.array([True, True]).tobytes(), np.array([False, False]).tobytes()}


def test_boundedness():
    # One hidden layer, k = 2: bounded cells are those not touching infinity; a cone is unbounded.
    net = ReLUNet.random([2, 8], rng=4)
    regions = enumerate_regions(net)
    unbounded = [r for r in regions if not r.bounded]
    assert len(unbounded) == 2 * 8  # n lines in general position: 2n unbounded cells
    for r in regions:
        if r.bounded:
            assert np.isfinite(r.volume()) and np.isfinite(r.inradius)
    cone = ReLUNet([np.eye(2)])
    assert not region_of(cone, [1.0, 1.0]).bounded
    assert region_of(cone, [1.0, 1.0]).inradius == np.inf


@given(net=networks(max_k=3, max_depth=3, max_width=6), seed=seeds, data=st.data())
def test_region_of_a_boundary_point_lists_the_touching_regions(net, seed, data):
    x0 = np.random.default_rng(seed).normal(size=net.input_dim)
    xb, _, _ = drawn_boundary_point(data, net, x0)
    try:
        region = region_of(net, xb)
    except BoundaryPointError as error:
        assert len(error.regions) >= 2
        assert len({r.pattern for r in error.regions}) == len(error.regions)
        for r in error.regions:
            assert r.contains(xb, atol=1e-7)
    else:
        # The neuron's hyperplane does not cut the space around x (e.g. its map is flat there).
        assert region.contains(xb, atol=1e-7)


@given(net=networks(max_k=3, max_depth=2, max_width=7), seed=seeds,
       taus=st.lists(st.floats(0.0, 0.6), min_size=2, max_size=2))
def test_pieces_match_brute_force_and_grow_with_tau(net, seed, taus):
    x = np.random.default_rng(seed).normal(size=net.input_dim)
    small, large = sorted(taus)
    assume(len(near_zero_set(net, x, large)) <= 8)
    p_small, p_large = pieces(net, x, small), pieces(net, x, large)
    assert {r.pattern.bits for r in p_small} == naive.pieces_by_brute_force(net, x, small)
    assert {r.pattern.bits for r in p_large} == naive.pieces_by_brute_force(net, x, large)
    assert {r.pattern for r in p_small} <= {r.pattern for r in p_large}
    S = near_zero_set(net, x, large)
    own = activation_pattern(net, x)
    for r in p_large:
        assert r.pattern.differences(own) <= S


@given(net=networks(max_k=3, max_depth=3, max_width=8), seed=seeds)
def test_pieces_at_zero_slack_is_the_own_region(net, seed):
    x = np.random.default_rng(seed).normal(size=net.input_dim)
    assume(not near_zero_set(net, x, 1e-9))
    (only,) = pieces(net, x, 0.0)
    assert only.pattern == activation_pattern(net, x)


def test_pieces_reach_beyond_the_component_of_x():
    # z_2 = 2 relu(x) + 2 relu(-x) - 0.5 = 2|x| - 0.5. At x = 1 with tau = 1.2, S = the two layer-1 neurons;
    # the pieces keeping z_2 > 0 are x > 0.25 and x < -0.25: two components, both in P(x, θ, τ).
    net = ReLUNet([np.array([[1.0], [-1.0]]), np.array([[2.0, 2.0]])], biases=[np.zeros(2), np.array([-0.5])])
    x = np.array([1.0])
    assert near_zero_set(net, x, 1.2) == {(1, 0), (1, 1)}
    found = pieces(net, x, tau=1.2)
    assert sorted(float(r.interior_point[0]) > 0 for r in found) == [False, True]
    for r in found:
        assert r.pattern.layer(2).all()


def test_empty_pattern_is_not_a_region():
    net = ReLUNet([np.array([[1.0], [1.0]])], biases=[np.array([0.0, -1.0])])
    # Neuron 2 active (x > 1) with neuron 1 inactive (x < 0) is impossible.
    pattern = activation_pattern(net, [2.0]).flipped([0])
    with pytest.raises(EmptyRegionError, match="empty interior"):
        Region.from_pattern(net, pattern)


def test_progress_is_reported_while_enumerating():
    calls = []
    regions = enumerate_regions(ReLUNet.random([2, 12], rng=0), progress=lambda found, waiting: calls.append(found),
                                progress_every=20)
    assert calls[-1] == len(regions) and calls[:-1] == [20, 40, 60][: len(calls) - 1]
    assert len(calls) == 1 + (len(regions) - 1) // 20


def test_progress_bars_draw_on_stderr_and_leave_every_answer_unchanged(capsys):
    from landscape import NetworkFlow, Objective, global_minimizer, local_minima, pieces, projected_surf

    net = ReLUNet.random([2, 10, 20], rng=1)
    y = net.forward([0.3, -0.2])
    f = Objective(net, y)
    quiet = enumerate_regions(net, bounds=(-2, 2))
    loud = enumerate_regions(net, bounds=(-2, 2), progress=True, progress_every=5)
    assert [r.pattern for r in quiet] == [r.pattern for r in loud]
    np.testing.assert_array_equal(global_minimizer(f, bounds=(-2, 2), progress=True).x,
                                  global_minimizer(f, bounds=(-2, 2)).x)
    np.testing.assert_array_equal(global_minimizer(f, progress=True).x, global_minimizer(f).x)  # the LP path
    assert [m.value for m in local_minima(f, progress=True)] == [m.value for m in local_minima(f)]
    assert [r.pattern for r in pieces(net, [0.3, -0.2], 0.2, progress=True)] == \
        [r.pattern for r in pieces(net, [0.3, -0.2], 0.2)]
    flow = NetworkFlow.smooth_random([2, 6, 12], T=3, rng=2)
    target = flow[3].forward([0.2, 0.1])
    np.testing.assert_array_equal(L.minimizer_path(flow, target, bounds=(-2, 2), progress=True).minimizers,
                                  L.minimizer_path(flow, target, bounds=(-2, 2)).minimizers)
    np.testing.assert_array_equal(projected_surf(flow, target, 0.05, bounds=(-2, 2), progress=True).iterates,
                                  projected_surf(flow, target, 0.05, bounds=(-2, 2)).iterates)
    captured = capsys.readouterr()
    assert captured.out == ""
    for label in ("regions", "QPs in order of their bound", "one QP per region", "pieces P(x, θ, τ)",
                  "exact minimiser path", "Algorithm 2"):
        assert label in captured.err


def test_max_regions_stops_with_the_count():
    net = ReLUNet.random([2, 30], rng=0)
    with pytest.raises(TooManyRegionsError, match="max_regions = 50") as info:
        enumerate_regions(net, max_regions=50)
    assert info.value.count == 50


@pytest.mark.parametrize("call, message", [
    (lambda net: enumerate_regions(net, bounds=(1.0, 1.0)), "lo < hi"),
    (lambda net: enumerate_regions(net, bounds=([0, 0, 0], [1, 1, 1])), r"bounds\[0\].*\(2,\)"),
    (lambda net: enumerate_regions(net, bounds=(0.0,)), "pair"),
    (lambda net: enumerate_regions(net, max_regions=0), "max_regions"),
    (lambda net: pieces(net, [0.1, 0.2], -1.0), "tau"),
    (lambda net: pieces(net, [[0.1, 0.2]], 0.1), "x.*one point"),
    (lambda net: region_of(net, [0.1, 0.2, 0.3]), "x"),
    (lambda net: region_of(net, [5.0, 0.0], bounds=(-1, 1)), "outside bounds"),
    (lambda net: Region.from_pattern(net, "pattern"), "pattern"),
])
def test_bad_geometry_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(ReLUNet.random([2, 5, 4], rng=1))


@given(net=networks(max_k=2, max_depth=3, max_width=8, bias=True), data=st.data())
def test_planar_fast_path_agrees_with_the_lp_method(net, data):
    assume(net.input_dim == 2)
    lo, hi = data.draw(st.floats(-3, -0.5)), data.draw(st.floats(0.5, 3))
    planar = enumerate_regions(net, bounds=(lo, hi), method="planar")
    lp = enumerate_regions(net, bounds=(lo, hi), method="lp")
    assert {r.pattern for r in planar} == {r.pattern for r in lp}
    by_pattern = {r.pattern: r for r in lp}
    for r in planar:
        assert set(r.facets) == set(by_pattern[r.pattern].facets)
        assert sorted(r.box_faces) == sorted(by_pattern[r.pattern].box_faces)
        assert activation_pattern(net, r.interior_point) == r.pattern
        assert 0 < r.inradius <= by_pattern[r.pattern].inradius * (1 + 1e-9)
        np.testing.assert_allclose(r.volume(), by_pattern[r.pattern].volume(), rtol=1e-8, atol=1e-12)
    edges = {(frozenset((regions[a].pattern, regions[b].pattern)), g)
             for regions in (planar,) for a, b, g in regions.adjacency}
    assert edges == {(frozenset((lp[a].pattern, lp[b].pattern)), g) for a, b, g in lp.adjacency}


def test_planar_needs_a_box_in_two_dimensions():
    with pytest.raises(ValueError, match="planar"):
        enumerate_regions(ReLUNet.random([3, 4], rng=0), bounds=(-1, 1), method="planar")
    with pytest.raises(ValueError, match="method"):
        enumerate_regions(ReLUNet.random([2, 4], rng=0), method="exact")


def test_the_lp_solver_prints_nothing_on_standard_output():
    import subprocess
    import sys

    code = "import landscape._polytope as p; p._solver(); print('done')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "done\n"


def test_pieces_warns_when_the_near_zero_set_is_large():
    import warnings

    from landscape import near_zero_set, pieces

    net = ReLUNet.random([2, 50, 200], out_dim=300, rng=0)
    x = np.array([0.5, -1.0])
    assert len(near_zero_set(net, x, 0.05)) == 90
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning comes before the search, so this stops it there
        with pytest.raises(UserWarning, match=r"\|S\(x, θ, τ\)\| = 90 neurons at τ = 0.05: P\(x, θ, τ\) may hold "
                                              r"up to about 4,096 pieces"):
            pieces(net, x, 0.05)
        assert len(pieces(net, x, 0.002)) >= 1  # a small S: no warning


def test_a_region_thinner_than_the_lp_tolerance_gets_a_centre_inside_it_or_none():
    # Rows of one region of a trained 8×8 DCGAN generator (k = 3) in a box of side 2e-6 where branch and bound's
    # runner-up search enumerates: HiGHS's Chebyshev LP says radius 4.8e-8 for a centre 4.9e-9 outside one row
    # (its feasibility tolerance is 1e-7), which used to end the enumeration with "center is not an interior point".
    from pathlib import Path

    from landscape import _polytope
    from landscape.region import interior_ball

    data = np.load(Path(__file__).parent / "data" / "thin_region.npz")
    G, h = data["G"], data["h"]
    ball = interior_ball(G, h, 1e-9, "the thin region")
    if ball is not None:
        centre, radius = ball
        rows = _polytope.nonzero_rows(G)
        distances = (h[rows] - G[rows] @ centre) / np.linalg.norm(G[rows], axis=1)
        assert radius <= distances.min() and distances.min() > 0
        _polytope.facets_and_boundedness(G, h, centre, "the thin region")  # needs a strictly interior centre


@settings(max_examples=25, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=8), seeds, st.data())
def test_regions_of_a_box_of_half_width_1e_7_are_those_of_the_magnified_network(net, seed, data):
    # G'(u) = G(x_b + eps·u) on [-1, 1]^k has the regions of G on the box of half-width eps around x_b, so both
    # enumerations must find the same patterns, though the LPs of the small box see distances of 1e-7 (relative) only.
    x_b, _, _ = drawn_boundary_point(data, net, np.random.default_rng(seed).normal(size=net.input_dim))
    eps = 1e-7 * (1.0 + np.max(np.abs(x_b)))
    weights, biases = list(net.weights), list(net.effective_biases)
    biases[0] = biases[0] + weights[0] @ x_b
    weights[0] = eps * weights[0]
    magnified = ReLUNet(weights, biases, net.readout, net.readout_bias)
    small = enumerate_regions(net, bounds=(x_b - eps, x_b + eps), method="lp")
    unit = enumerate_regions(magnified, bounds=(-1.0, 1.0), method="lp")
    assert len(small) >= 2  # the box straddles the hyperplane through x_b
    assert {r.pattern for r in small} == {r.pattern for r in unit}
    for region in small:
        assert np.all(np.abs(region.interior_point - x_b) <= eps)
