"""No silent wrong answer at any scale: the exact minimiser does not move when the objective or the output
is rescaled by a positive factor (issue: the QP certificate used absolute floors)."""

import os

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import landscape.qp as qp
from landscape import Objective, QPSolveError, ReLUNet, enumerate_regions, gaussian_measurements, global_minimizer
from strategies import networks, seeds

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
EXPONENTS = range(-12, 11) if FUZZ else range(-8, 7)
"""Scale factors 10^e: 1e-8 … 1e6 in the default run, 1e-12 … 1e10 under the fuzz profile."""
EXAMPLES = 500 if FUZZ else 25



def test_small_curvature_no_longer_passes_a_non_optimal_answer():
    net = ReLUNet.random([2, 5, 5, 4], out_dim=10, rng=11)
    y = np.random.default_rng(11).normal(size=10)
    A = gaussian_measurements(6, 10, rng=11)
    reference = global_minimizer(Objective(net, y, A), bounds=(-2, 2))
    np.testing.assert_allclose(reference.x, [2.0, -2.0], atol=1e-9)
    scaled = global_minimizer(Objective(net, y, 1e-3 * A), bounds=(-2, 2))
    np.testing.assert_allclose(scaled.x, reference.x, atol=1e-8)
    np.testing.assert_allclose(scaled.value, 1e-6 * reference.value, rtol=1e-8)
    np.testing.assert_allclose(Objective(net, y, A).value(scaled.x), 5.633, atol=1e-3)


def test_the_certificate_refuses_nan():
    family = qp.polytope_qp(2, 2)
    with pytest.raises(QPSolveError, match="NaN or inf"):
        family.solve(np.array([[np.nan, 0.0], [0.0, 1.0]]), np.ones(2), np.eye(2), np.ones(2))


@settings(max_examples=EXAMPLES)
@given(net=networks(max_k=2, max_depth=2, max_width=6, readout=True), seed=seeds, measured=st.booleans(),
       exponent=st.sampled_from(EXPONENTS))
def test_the_minimiser_does_not_move_when_the_objective_is_rescaled(net, seed, measured, exponent):
    assume(net.input_dim == 2)
    rng = np.random.default_rng(seed)
    y = rng.normal(size=net.output_dim)
    A = gaussian_measurements(int(rng.integers(1, net.output_dim + 2)), net.output_dim, rng) if measured else np.eye(net.output_dim)
    regions = enumerate_regions(net, bounds=(-2, 2))
    reference = global_minimizer(Objective(net, y, A), regions=regions)
    assume(reference.gap > 1e-6 * (1 + reference.value))
    s = 10.0**exponent
    # f scales by s^2 when A does, and also when the output layer (V, c) and y all scale by s.
    scaled_objective = global_minimizer(Objective(net, y, s * A), regions=regions)
    out_scaled = ReLUNet(net.weights, net.biases, s * net.readout,
                         None if net.readout_bias is None else s * net.readout_bias)
    scaled_output = global_minimizer(Objective(out_scaled, s * y, A), regions=enumerate_regions(out_scaled, bounds=(-2, 2)))
    for found in (scaled_objective, scaled_output):
        np.testing.assert_allclose(found.x, reference.x, atol=1e-7 * (1 + np.linalg.norm(reference.x)))
        np.testing.assert_allclose(found.value, s**2 * reference.value, rtol=1e-7, atol=1e-12 * s**2)


def test_regions_of_another_network_are_refused():
    from landscape import NetworkFlow, minimize_on_region

    flow = NetworkFlow.smooth_random([2, 4, 6], T=3, rng=1)
    y = np.random.default_rng(0).normal(size=6)
    regions = enumerate_regions(flow[0], bounds=(-2, 2))
    with pytest.raises(ValueError, match="regions were enumerated for another network"):
        global_minimizer(Objective(flow[3], y), regions=regions)
    with pytest.raises(ValueError, match="region belongs to another network"):
        minimize_on_region(Objective(flow[3], y), regions[0])
    same = ReLUNet(flow[0].weights, flow[0].biases)  # an equal copy is accepted
    global_minimizer(Objective(same, y), regions=regions)


def layer_scaled(net, s):
    """W_i -> s W_i and b_i -> s^i b_i: every x_i scales by s^i, so the regions do not move and
    G_s = s^d V x_d (+ c)."""
    biases = None if net.biases is None else [s**i * b for i, b in enumerate(net.biases, start=1)]
    return ReLUNet([s * w for w in net.weights], biases, net.readout, net.readout_bias)


@pytest.mark.parametrize("s", [1e-8, 1e-4, 1e3, 1e6])
def test_regions_and_minimiser_survive_small_and_large_deep_weights(s):
    net = ReLUNet.random([2, 5, 5, 4], out_dim=3, rng=600)
    regions = enumerate_regions(net, bounds=(-2, 2))
    assert len(regions) == 34
    scaled = layer_scaled(net, s)
    found = enumerate_regions(scaled, bounds=(-2, 2))
    assert {r.pattern.bits for r in found} == {r.pattern.bits for r in regions}
    y = np.random.default_rng(1).normal(size=3)
    reference = global_minimizer(Objective(net, y), regions=regions)
    moved = global_minimizer(Objective(scaled, s**3 * y), regions=found)
    np.testing.assert_allclose(moved.x, reference.x, atol=1e-7)


@settings(max_examples=EXAMPLES)
@given(net=networks(max_k=2, max_depth=3, max_width=5, readout=True, readout_bias=False), seed=seeds,
       exponent=st.sampled_from(EXPONENTS))
def test_layer_scaling_leaves_regions_and_the_minimiser_unchanged(net, seed, exponent):
    assume(net.input_dim == 2)
    s = 10.0**exponent
    y = np.random.default_rng(seed).normal(size=net.output_dim)
    regions = enumerate_regions(net, bounds=(-2, 2))
    scaled = layer_scaled(net, s)
    found = enumerate_regions(scaled, bounds=(-2, 2))
    assert {r.pattern.bits for r in found} == {r.pattern.bits for r in regions}
    reference = global_minimizer(Objective(net, y), regions=regions)
    assume(reference.gap > 1e-6 * (1 + reference.value))
    moved = global_minimizer(Objective(scaled, s**net.depth * y), regions=found)
    np.testing.assert_allclose(moved.x, reference.x, atol=1e-7 * (1 + np.linalg.norm(reference.x)))
