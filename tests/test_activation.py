import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import naive
from constructions import drawn_boundary_point
from landscape import (
    ActivationPattern,
    ReLUNet,
    activation_pattern,
    affine_map,
    local_affine,
    near_zero_mask,
    near_zero_set,
    on_switching_hyperplanes,
    preactivations,
    rounding_slack,
)
from landscape.activation import affine_map_of_preactivations, preactivation_maps_of_gates
from strategies import networks, seeds
from tolerances import EXACT

SHAPES = [
    ([2, 5], None, True),
    ([3, 7, 9], 11, True),
    ([2, 6, 8, 10], None, False),
    ([1, 13, 4], 3, True),
]


def points(seed, n, k, scale=1.0):
    return np.random.default_rng(seed).normal(scale=scale, size=(n, k))


@pytest.mark.parametrize("widths, out_dim, bias", SHAPES)
def test_patterns_and_preactivations_match_naive(widths, out_dim, bias):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=5)
    X = points(6, 40, widths[0])
    patterns, preacts = activation_pattern(net, X, return_preactivations=True)
    for p, x in enumerate(X):
        assert patterns[p].bits == naive.pattern_bits(net, x)
        for z, z_ref in zip(preacts, naive.forward_trace(net, x)[0]):
            np.testing.assert_allclose(z[p], z_ref, **EXACT)
    single = activation_pattern(net, X[3])
    assert isinstance(single, ActivationPattern) and single == patterns[3]
    for z, z_ref in zip(preactivations(net, X[3]), naive.forward_trace(net, X[3])[0]):
        np.testing.assert_allclose(z, z_ref, **EXACT)


@given(net=networks(), seed=seeds)
def test_the_affine_map_from_the_preactivation_maps_is_the_naive_one(net, seed):
    gates = np.random.default_rng(seed).random(net.n_hidden) < 0.5
    J, c = affine_map_of_preactivations(net, *preactivation_maps_of_gates(net, gates), gates)
    offsets = np.cumsum([0, *net.hidden_widths])
    J_ref, c_ref = naive.affine_from_gates(net, [gates[a:b] for a, b in zip(offsets[:-1], offsets[1:])])
    np.testing.assert_allclose(J, J_ref, **EXACT)
    np.testing.assert_allclose(c, c_ref, **EXACT)


@given(net=networks(), seed=seeds)
def test_patterns_match_naive_property(net, seed):
    X = points(seed, 8, net.input_dim, scale=2.0)
    patterns = activation_pattern(net, X)
    assert [p.bits for p in patterns] == [naive.pattern_bits(net, x) for x in X]


@given(net=networks(max_width=4, max_depth=2), seed=seeds)
def test_packed_equal_exactly_when_unpacked_equal(net, seed):
    # Few neurons and repeated points, so that equal and unequal pairs both occur.
    X = points(seed, 12, net.input_dim)
    X = np.vstack([X, X[:4]])
    patterns = activation_pattern(net, X)
    unpacked = patterns.unpack()
    for a in range(len(X)):
        for b in range(len(X)):
            same = bool(np.array_equal(unpacked[a], unpacked[b]))
            assert (patterns[a] == patterns[b]) == same
            if same:
                assert hash(patterns[a]) == hash(patterns[b])
    assert len({patterns[a] for a in range(len(X))}) == len(np.unique(unpacked, axis=0))


def test_pattern_layers_and_unique():
    net = ReLUNet.random([2, 5, 11], rng=2)
    X = points(3, 200, 2)
    patterns = activation_pattern(net, X)
    unpacked = patterns.unpack()
    assert unpacked.shape == (200, 16)
    np.testing.assert_array_equal(patterns.layer(1), unpacked[:, :5])
    np.testing.assert_array_equal(patterns.layer(2), unpacked[:, 5:])
    p = patterns[17]
    np.testing.assert_array_equal(np.concatenate(p.layers()), unpacked[17])
    np.testing.assert_array_equal(p.layer(2), unpacked[17, 5:])
    assert ActivationPattern.from_masks(p.layers()) == p
    rows, inverse, counts = patterns.unique()
    assert counts.sum() == 200 and len(rows) == len(counts)
    for q in range(200):
        assert rows[inverse[q]] == patterns[q]
    other = patterns[18]
    diff = p.differences(other)
    flat = np.flatnonzero(unpacked[17] != unpacked[18])
    assert diff == {net.neuron(g) for g in flat}


@given(net=networks(), seed=seeds, taus=st.lists(st.floats(0.0, 3.0), min_size=2, max_size=2))
def test_near_zero_set_matches_naive_and_grows_with_tau(net, seed, taus):
    x = points(seed, 1, net.input_dim)[0]
    small, large = sorted(taus)
    s_small, s_large = near_zero_set(net, x, small), near_zero_set(net, x, large)
    assert s_small == naive.near_zero_set(net, x, small)
    assert s_large == naive.near_zero_set(net, x, large)
    assert s_small <= s_large


@pytest.mark.parametrize("widths, out_dim, bias", SHAPES)
def test_near_zero_mask_batch_matches_naive(widths, out_dim, bias):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=8)
    X = points(9, 30, widths[0])
    tau = 0.4
    mask = near_zero_mask(net, X, tau)
    assert mask.shape == (30, net.n_hidden) and mask.dtype == bool
    for p, x in enumerate(X):
        expected = naive.near_zero_set(net, x, tau)
        assert {net.neuron(g) for g in np.flatnonzero(mask[p])} == expected
    np.testing.assert_array_equal(near_zero_mask(net, X[4], tau), mask[4])


def test_near_zero_set_at_zero_tau_holds_exact_zeros():
    # A bias-free network at x = 0: every pre-activation is exactly 0, so S(0, θ, 0) is every neuron.
    net = ReLUNet.random([2, 4, 3], bias=False, rng=0)
    assert near_zero_set(net, [0.0, 0.0], 0.0) == {(i, j) for i, n in ((1, 4), (2, 3)) for j in range(n)}


@pytest.mark.parametrize("widths, out_dim, bias", SHAPES)
def test_local_affine_matches_naive(widths, out_dim, bias):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=12)
    X = points(13, 15, widths[0])
    J, c = local_affine(net, X)
    assert J.shape == (15, net.output_dim, net.input_dim) and c.shape == (15, net.output_dim)
    for p, x in enumerate(X):
        J_ref, c_ref = naive.local_affine(net, x)
        np.testing.assert_allclose(J[p], J_ref, **EXACT)
        np.testing.assert_allclose(c[p], c_ref, **EXACT)
        J1, c1 = local_affine(net, x)
        np.testing.assert_allclose(J1, J[p], **EXACT)
        pattern = activation_pattern(net, x)
        J2, c2 = affine_map(net, pattern)
        np.testing.assert_allclose(J2, J[p], **EXACT)
        np.testing.assert_allclose(c2, c[p], **EXACT)


@given(net=networks(), seed=seeds)
def test_local_affine_reproduces_g_on_its_piece(net, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=net.input_dim)
    J, c = local_affine(net, x)
    own = activation_pattern(net, x)
    candidates = x + rng.normal(size=(60, net.input_dim)) * np.repeat([1e-6, 1e-3, 1e-1], 20)[:, None]
    same = [xp for xp, p in zip(candidates, activation_pattern(net, candidates)) if p == own]
    assert len(same) > 0
    for xp in [x, *same]:
        np.testing.assert_allclose(net.forward(xp), J @ xp + c, **EXACT)


@given(net=networks(bias=False), seed=seeds, scale=st.floats(0.01, 100.0))
def test_hand_voroninski_pieces_are_cones(net, seed, scale):
    # Without biases G is positively homogeneous: x and scale * x share a piece and G(x) = J x.
    x = np.random.default_rng(seed).normal(size=net.input_dim)
    assert activation_pattern(net, scale * x) == activation_pattern(net, x)
    J, c = local_affine(net, x)
    np.testing.assert_allclose(c, 0.0, atol=EXACT["atol"])
    np.testing.assert_allclose(net.forward(scale * x), scale * (J @ x), **EXACT)


@given(net=networks(), seed=seeds, data=st.data())
def test_local_affine_holds_on_the_closure(net, seed, data):
    # On a boundary point of x0's piece, x0's affine map still gives G (G is continuous).
    x0 = np.random.default_rng(seed).normal(size=net.input_dim)
    xb, _, _ = drawn_boundary_point(data, net, x0)
    J, c = local_affine(net, x0)
    np.testing.assert_allclose(net.forward(xb), J @ xb + c, rtol=1e-9, atol=1e-9)


@given(net=networks(), seed=seeds, data=st.data())
def test_a_point_built_on_a_hyperplane_is_on_it_and_the_slack_is_the_entrywise_recursion(net, seed, data):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=net.input_dim)
    xb, layer, neuron = drawn_boundary_point(data, net, x0)
    flat = sum(net.hidden_widths[:layer - 1]) + neuron
    assert on_switching_hyperplanes(net, xb)[flat]
    X, inherited = rng.normal(size=(3, net.input_dim)), rng.uniform(0, 1e-6, (3, net.input_dim))
    first = net.layers[0]
    np.testing.assert_allclose(rounding_slack(first, net.effective_biases[0], X, inherited, 1e-7),
                               naive.rounding_slack(first.W, net.effective_biases[0], X, inherited, 1e-7), rtol=1e-12)
