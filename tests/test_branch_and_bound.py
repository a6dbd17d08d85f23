"""Branch and bound for the certified global minimum: the bounds it prunes with, and its answers against
enumeration and polishing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as L
from landscape.branch_and_bound import branch_and_bound, interval_bounds, linear_bounds
from landscape.branch_and_bound import search, triangle
from landscape.branch_and_bound._crown import box_least_squares
from landscape.branch_and_bound.bounds import compiled, lower_linear_bound, relaxation_bounds
from landscape.branch_and_bound.relaxed import gauss_newton_point, tangent_bound
from landscape.branch_and_bound.search import estimated_boxes, projected_descent
from landscape.branch_and_bound.triangle import triangle_bound
from naive import box_least_squares as naive_box_least_squares
from naive import crown_preactivation_bounds, crown_row_lower, interval_propagation, triangle_qp_value
from strategies import networks, seeds


def _box(k, seed):
    rng = np.random.default_rng(seed)
    centre, half = rng.uniform(-1, 1, k), rng.uniform(0.05, 1.0, k)
    return centre - half, centre + half, rng


@settings(max_examples=30, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=10), seeds)
def test_interval_bounds_are_the_neuron_by_neuron_intervals(net, seed):
    lo, hi, _ = _box(net.input_dim, seed)
    found = interval_bounds(net, lo, hi)
    lows, highs, out_low, out_high = interval_propagation(net, lo, hi)
    for mine, theirs in zip(found.lower + found.upper, lows + highs):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(found.output_lower, out_low, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(found.output_upper, out_high, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(networks(max_k=4, max_depth=3, max_width=12), seeds)
def test_both_bounds_hold_at_every_point_of_the_box_and_the_linear_ones_are_tighter(net, seed):
    lo, hi, rng = _box(net.input_dim, seed)
    X = np.vstack([rng.uniform(lo, hi, (300, net.input_dim)), lo, hi])
    G = net.forward(X)
    interval, linear = interval_bounds(net, lo, hi), linear_bounds(net, lo, hi)
    slack = 1e-9 * (1 + np.abs(G).max())
    for bounds in (interval, linear):
        assert (G >= bounds.output_lower - slack).all() and (G <= bounds.output_upper + slack).all()
    Lm, a, U, b = linear.output_linear
    assert (G >= X @ Lm.T + a - slack).all() and (G <= X @ U.T + b + slack).all()
    for i, z in enumerate(L.preactivations(net, X)):
        assert (linear.lower[i] >= interval.lower[i]).all() and (linear.upper[i] <= interval.upper[i]).all()
        assert (z >= linear.lower[i] - slack).all() and (z <= linear.upper[i] + slack).all()
    assert (linear.output_lower >= interval.output_lower).all() and (linear.output_upper <= interval.output_upper).all()


def test_the_pre_activation_bounds_hold_at_every_point():
    rng = np.random.default_rng(0)
    net = L.ReLUNet.random([3, 15, 15, 10], out_dim=7, rng=1)
    lo, hi = np.array([-0.4, 0.0, 0.2]), np.array([0.1, 0.3, 0.5])
    X = rng.uniform(lo, hi, (2000, 3))
    found = linear_bounds(net, lo, hi)
    H = X
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        Z = H @ W.T + b
        assert (Z >= found.lower[i] - 1e-12).all() and (Z <= found.upper[i] + 1e-12).all()
        H = np.maximum(Z, 0.0)
    assert found.unstable < interval_bounds(net, lo, hi).unstable


@settings(max_examples=40, deadline=None)
@given(networks(max_k=3, max_depth=4, max_width=8), seeds)
def test_the_pre_activation_bounds_are_the_neuron_by_neuron_ones_in_both_implementations(net, seed):
    lo, hi, _ = _box(net.input_dim, seed)
    expected_lower, expected_upper = crown_preactivation_bounds(net, lo, hi)
    assert compiled(net)
    for found in (linear_bounds(net, lo, hi), relaxation_bounds(net, lo, hi)):  # the operator code, the kernels
        for i in range(net.depth):
            np.testing.assert_allclose(found.lower[i], expected_lower[i], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(found.upper[i], expected_upper[i], rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(networks(max_k=3, max_depth=4, max_width=10), seeds, st.booleans())
def test_the_compiled_kernels_give_the_operator_codes_bounds(net, seed, measured):
    lo, hi, rng, y, A = _triangle_instance(net, seed, measured)
    for known in (None, linear_bounds(net, lo - 0.3, hi + 0.2)):  # alone, and inside an enclosing box's bounds
        kernels, operators = relaxation_bounds(net, lo, hi, known), linear_bounds(net, lo, hi, known, output=False)
        for mine, theirs in zip((*kernels.lower, *kernels.upper, kernels.output_lower, kernels.output_upper),
                                (*operators.lower, *operators.upper, operators.output_lower, operators.output_upper)):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    rows, shift = rng.normal(size=(3, net.output_dim)), rng.normal(size=3)
    np.testing.assert_allclose(lower_linear_bound(net, kernels, rows, shift, lo, hi),
                               lower_linear_bound(net, operators, rows, shift, lo, hi), rtol=1e-12, atol=1e-12)
    points = rng.uniform(lo, hi, (3, net.input_dim))
    mine, theirs = (tangent_bound(net, b, A, y, points, lo, hi) for b in (kernels, operators))
    assert mine[0] == pytest.approx(theirs[0], rel=1e-12, abs=1e-12) and mine[2] == pytest.approx(theirs[2], rel=1e-12)
    # the tangent bound at the centre and at the Gauss–Newton point in one call, as the numpy code computes it; the
    # compiled Gauss–Newton point as good for f linearised at the centre as DAQP's (the same where AJ has full rank)
    bound, point, f_point = kernels.relaxations.centre_tangent(A, y, lo, hi)
    centre = (lo + hi) / 2
    J, c = L.local_affine(net, centre)
    M, v = (J, y - c) if A is None else (A @ J, A @ (y - c))
    newton = box_least_squares(M, v, lo, hi, centre)
    by_daqp = gauss_newton_point(net, A, y, centre, lo, hi)
    if by_daqp is not None:
        assert 0.5 * np.sum((M @ newton - v) ** 2) <= 0.5 * np.sum((M @ by_daqp - v) ** 2) + 1e-9
    expected = tangent_bound(net, operators, A, y, np.array([centre, newton]), lo, hi)
    assert bound == pytest.approx(expected[0], rel=1e-9, abs=1e-12)
    assert f_point == pytest.approx(expected[2], rel=1e-9, abs=1e-12)
    assert L.Objective(net, y, A).value(point) == pytest.approx(f_point, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 8), seeds)
def test_the_compiled_box_least_squares_finds_the_minimum_every_active_set_gives(k, m, seed):
    rng = np.random.default_rng(seed)
    M, v = rng.normal(size=(m, k)) * 10.0 ** rng.uniform(-3, 3), rng.normal(size=m) * 10.0 ** rng.uniform(-3, 3)
    lo = rng.uniform(-2, 0, k)
    hi = lo + rng.uniform(0.01, 2, k)
    x = box_least_squares(M, v, lo, hi, rng.uniform(lo, hi))
    _, reference = naive_box_least_squares(M, v, lo, hi)
    assert np.all(x >= lo) and np.all(x <= hi)
    assert 0.5 * np.sum((M @ x - v) ** 2) <= reference + 1e-9 * (1 + reference)


def test_on_a_box_inside_one_region_the_linear_bounds_are_g_itself():
    net = L.ReLUNet.random([2, 8, 12], out_dim=6, rng=3)
    x = np.array([0.3, -0.2])
    region = L.region_of(net, x)
    centre, radius = region.interior_point, min(region.inradius, 1.0)
    lo, hi = centre - radius / 4, centre + radius / 4  # a box inside the region's inscribed ball
    found = linear_bounds(net, lo, hi)
    assert found.stable
    J, c = L.local_affine(net, centre)
    Lm, a, U, b = found.output_linear
    for M, v in ((Lm, a), (U, b)):
        np.testing.assert_allclose(M, J, atol=1e-12)
        np.testing.assert_allclose(v, c, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=10), seeds)
def test_the_lower_linear_bound_is_crowns_row_by_row_and_holds_on_the_box(net, seed):
    lo, hi, rng = _box(net.input_dim, seed)
    rows = rng.normal(size=(3, net.output_dim))
    shift = rng.normal(size=3)
    bounds = linear_bounds(net, lo, hi)
    found = lower_linear_bound(net, bounds, rows, shift, lo, hi)
    expected = [crown_row_lower(net, bounds.lower, bounds.upper, c, lo, hi) + s for c, s in zip(rows, shift)]
    np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-9)
    X = np.vstack([rng.uniform(lo, hi, (300, net.input_dim)), lo, hi])
    values = net.forward(X) @ rows.T + shift
    assert (values >= found - 1e-9 * (1 + np.abs(values))).all()
    # never looser than combining the output's linear bounds pixel by pixel (a concave function of x: its minimum
    # over the box is at a vertex)
    Lm, a, U, b = bounds.output_linear
    corners = lo + np.array(np.meshgrid(*[[0.0, 1.0]] * net.input_dim)).reshape(net.input_dim, -1).T * (hi - lo)
    for c, s, mine in zip(rows, shift, found):
        combined = np.min(np.sum(np.minimum(c * (corners @ Lm.T + a), c * (corners @ U.T + b)), axis=1)) + s
        assert mine >= combined - 1e-9 * (1 + abs(combined))
    assert relaxation_bounds(net, lo, hi).output_linear is None  # the search's bounds skip the output's


def test_the_lower_linear_bound_refuses_interval_bounds():
    net = L.ReLUNet.random([2, 5], out_dim=3, rng=0)
    lo, hi = np.zeros(2), np.ones(2)
    with pytest.raises(ValueError, match="linear bounds"):
        lower_linear_bound(net, interval_bounds(net, lo, hi), np.ones((1, 3)), np.zeros(1), lo, hi)


@settings(max_examples=40, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=10), seeds, st.booleans())
def test_the_tangent_bound_never_exceeds_f_on_the_box(net, seed, measured):
    lo, hi, rng, y, A = _triangle_instance(net, seed, measured)
    f = L.Objective(net, y, A)
    points = rng.uniform(lo, hi, (3, net.input_dim))
    bound, x, f_x = tangent_bound(net, relaxation_bounds(net, lo, hi), A, y, points, lo, hi)
    X = np.vstack([rng.uniform(lo, hi, (300, net.input_dim)), lo, hi])
    assert 0.0 <= bound <= np.min(f.value(X)) + 1e-9 * (1 + bound)
    assert f_x == pytest.approx(f.value(x)) and f_x == pytest.approx(np.min(f.value(points)))  # the lowest of three


@pytest.mark.parametrize("measured", [False, True])
def test_inside_one_region_the_tangent_bound_at_the_minimisers_residual_is_fs_minimum(measured):
    net = L.ReLUNet.random([2, 8, 12], out_dim=6, rng=3)
    region = L.region_of(net, np.array([0.3, -0.2]))
    centre, radius = region.interior_point, min(region.inradius, 1.0)
    lo, hi = centre - radius / 4, centre + radius / 4
    y = net.forward(centre + np.array([3.0, -2.0]) * radius) + 0.1  # the minimiser on the box lies on its boundary
    A = L.gaussian_measurements(4, 6, rng=1) if measured else None
    f = L.Objective(net, y, A)
    minimiser = gauss_newton_point(net, A, y, centre, lo, hi)  # G is affine on the box: f's minimiser there
    exact = L.global_minimizer(f, bounds=(lo, hi), runner_up=False)
    np.testing.assert_allclose(minimiser, exact.x, atol=1e-8)
    assert np.any(np.isclose(minimiser, lo, rtol=0, atol=1e-12) | np.isclose(minimiser, hi, rtol=0, atol=1e-12))
    bound, _, _ = tangent_bound(net, relaxation_bounds(net, lo, hi), A, y, minimiser[None], lo, hi)
    assert bound == pytest.approx(exact.value, rel=1e-9)
    assert bound <= exact.value + 1e-12 * (1 + exact.value)


def _triangle_instance(net, seed, measured):
    """A box, the generator for the rest of the test, a target in G's range or off it, and A or None."""
    lo, hi, rng = _box(net.input_dim, seed)
    y = net.forward(rng.uniform(-1, 1, net.input_dim)) + rng.choice([0.0, 0.5]) * rng.normal(size=net.output_dim)
    A = L.gaussian_measurements(max(1, net.output_dim // 2), net.output_dim, rng=seed) if measured else None
    return lo, hi, rng, y, A


@settings(max_examples=30, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=10), seeds, st.booleans())
def test_the_triangle_bound_is_the_triangle_qps_value_and_never_above_f_on_the_box(net, seed, measured):
    lo, hi, rng, y, A = _triangle_instance(net, seed, measured)
    bounds = linear_bounds(net, lo, hi)
    found = triangle_bound(net, bounds, y, A, lo, hi)
    assert found is not None
    bound, x_hat, _ = found
    value = triangle_qp_value(net, bounds.lower, bounds.upper, y, lo, hi, A)
    assert bound <= value + 1e-7 * (1 + value)  # weak duality, whatever DAQP's accuracy
    assert bound == pytest.approx(value, rel=1e-5, abs=1e-7)
    assert np.all(x_hat >= lo) and np.all(x_hat <= hi)
    f = L.Objective(net, y, A)
    points = rng.uniform(lo, hi, (200, net.input_dim))
    assert bound <= np.min(f.value(points)) + 1e-9 * (1 + bound)  # a lower bound of f on the box
    tangent = search.LowerBound(f).of(bounds, lo, hi)[0]
    assert bound >= tangent - 1e-6 * (1 + tangent)  # at least as tight as the tangent bound of the same relaxations


@settings(max_examples=30, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=10), seeds, st.booleans())
def test_the_triangle_bound_from_a_warm_start_is_the_same_bound(net, seed, measured):
    lo, hi, rng, y, A = _triangle_instance(net, seed, measured)
    parent = triangle_bound(net, linear_bounds(net, lo, hi), y, A, lo, hi)
    assert parent is not None
    axis = int(rng.integers(net.input_dim))
    child_hi = hi.copy()
    child_hi[axis] = (lo[axis] + hi[axis]) / 2
    bounds = linear_bounds(net, lo, child_hi)
    value = triangle_qp_value(net, bounds.lower, bounds.upper, y, lo, child_hi, A)
    unrelated = triangle.WorkingSet(rng.choice([0, 1, 3], net.input_dim).astype(np.int8),
                                    tuple(rng.choice([0, 1, 3], (w, 3)).astype(np.int8) for w in net.hidden_widths))
    for name, start in (("cold", None), ("parent", parent.working_set), ("unrelated", unrelated)):  # same bound
        found = triangle_bound(net, bounds, y, A, lo, child_hi, start)
        assert found is not None
        assert found.value <= value + 1e-7 * (1 + value)
        assert found.value == pytest.approx(value, rel=1e-5, abs=1e-6), name  # DAQP's primal tolerance: 1e-6
        assert np.all(found.x >= lo) and np.all(found.x <= child_hi)


def _planar_objective(width: int, bias: bool, seed: int) -> L.Objective:
    """f of a random [2, width, 2·width] → 3·width network, its target in G's range or 0.3-noisy."""
    rng = np.random.default_rng(seed)
    net = L.ReLUNet.random([2, width, 2 * width], out_dim=3 * width, bias=bias, rng=seed)
    y = net.forward(rng.uniform(-1, 1, 2)) + rng.normal(size=3 * width) * rng.choice([0.0, 0.3])
    return L.Objective(net, y)


@settings(max_examples=40, deadline=None)
@given(networks(max_k=3, max_depth=3, max_width=10), seeds, st.booleans())
def test_a_leaf_solved_sign_choice_by_sign_choice_has_the_enumerated_minimum(net, seed, measured):
    lo, hi, rng, y, A = _triangle_instance(net, seed, measured)
    f = L.Objective(net, y, A)
    centre = rng.uniform(lo, hi)
    for half in (0.2, 0.05, 0.01, 0.002):  # shrink the box until at most three neurons can switch in it
        small_lo, small_hi = np.maximum(centre - half, lo), np.minimum(centre + half, hi)
        bounds = relaxation_bounds(net, small_lo, small_hi)
        if bounds.unstable <= search.LEAF_PATTERN_LIMIT:
            break
    else:
        return
    x, qps = search._minimum_on_leaf(f, bounds, small_lo, small_hi)
    exact = L.global_minimizer(f, bounds=(small_lo, small_hi), runner_up=False)
    assert x is not None and np.all(x >= small_lo - 1e-9) and np.all(x <= small_hi + 1e-9)
    assert f.value(x) == pytest.approx(exact.value, rel=1e-7, abs=1e-9) and 1 <= qps <= 2**bounds.unstable


@settings(max_examples=25, deadline=None)
@given(networks(max_k=4, max_depth=3, max_width=10), seeds)
def test_projected_descent_stays_in_the_box_and_never_raises_f(net, seed):
    lo, hi, rng = _box(net.input_dim, seed)
    f = L.Objective(net, net.forward(rng.uniform(-1, 1, net.input_dim)) + 0.1 * rng.normal(size=net.output_dim))
    start = rng.uniform(lo, hi)
    x, value = projected_descent(f, start, lo, hi, steps=50)
    assert np.all(x >= lo) and np.all(x <= hi)
    assert value == f.value(x) and value <= f.value(start)
    again, value_again = projected_descent(f, x, lo, hi, steps=50)  # from its own end point it goes no higher
    assert value_again <= value


@settings(max_examples=12, deadline=None)
@given(st.integers(4, 16), st.booleans(), seeds)
def test_branch_and_bound_finds_the_enumerated_global_minimum_at_k_2(width, bias, seed):
    f = _planar_objective(width, bias, seed)
    exact = L.global_minimizer(f, bounds=(-2, 2), runner_up=False)
    found = branch_and_bound(f, (-2, 2))
    assert found.certified and found.stopped_by == "gap"
    assert found.lower_bound <= found.value <= exact.value + found.tolerance
    assert found.value - exact.value >= -1e-9 * (1 + exact.value)  # never below the true minimum


def test_branch_and_bound_matches_enumeration_with_every_bound_and_with_measurements():
    rng = np.random.default_rng(5)
    cases = [(L.ReLUNet.random([3, 6, 12], out_dim=20, rng=6), None, ("linear", "triangle")),
             (L.ReLUNet.random([2, 6, 12], out_dim=20, rng=6), None, ("linear", "interval", "triangle")),
             (L.ReLUNet.random([2, 6, 12], out_dim=20, rng=6), L.gaussian_measurements(12, 20, rng=7),
              ("linear", "interval", "triangle"))]
    for net, A, kinds in cases:
        y = net.forward(rng.uniform(-1, 1, net.input_dim)) + 0.2 * rng.normal(size=20)
        f = L.Objective(net, y, A)
        exact = L.global_minimizer(f, bounds=(-1.5, 1.5), runner_up=False)
        for bound in kinds:
            found = branch_and_bound(f, (-1.5, 1.5), bound=bound)
            assert found.certified and found.bound == bound
            assert abs(found.value - exact.value) <= found.tolerance
            if exact.unique:
                np.testing.assert_allclose(found.x, exact.x, atol=1e-5)


@settings(max_examples=6, deadline=None)
@given(st.integers(4, 8), st.booleans(), seeds)
def test_the_runner_up_is_never_above_the_enumerated_one_and_is_a_local_minimum(width, bias, seed):
    f = _planar_objective(width, bias, seed)
    exact = L.global_minimizer(f, bounds=(-2, 2))
    found = branch_and_bound(f, (-2, 2), runner_up=True, runner_up_within=0.01)
    assert found.certified and abs(found.value - exact.value) <= 1e-9 * (1 + exact.value)
    level = 0.01 * (1 + exact.value)
    # every local minimum the enumeration lists is one on the box, so the search finds it or a lower one ...
    assert found.separation <= min(exact.gap, level) + 1e-7 * (1 + exact.value)
    if found.runner_up is not None:  # ... and what it reports is a local minimum at another point
        assert L.is_local_minimum(f, found.runner_up.x, bounds=(-2, 2))
        assert found.runner_up.value == pytest.approx(float(f.value(found.runner_up.x)), rel=1e-12, abs=1e-15)
        assert np.linalg.norm(found.runner_up.x - found.x) > 1e-6
        if found.flat_dimension == 0:  # a flat set of global minimisers has separation 0
            assert found.separation == pytest.approx(found.runner_up.value - found.value, abs=1e-15)
    else:
        assert found.separation >= level - 1e-12 or found.flat_dimension > 0
    if exact.runner_up is not None and exact.gap < level and found.separation >= exact.gap - 1e-9:
        assert found.unique == exact.unique


def test_a_tie_within_1e_9_is_reported_as_a_tie_and_a_wider_one_as_unique():
    # G(x) = (|x_1|, δ relu(−x_1), x_2), y = (1, 0, 0.3): minima at x_1 = 1 (f = 0) and x_1 = −1/(1 + δ²)
    # (f = δ²/(2(1 + δ²))), both at x_2 = 0.3
    def tie(separation):
        delta = np.sqrt(2 * separation / (1 - 2 * separation))
        W1 = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        W2 = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, delta, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])
        net = L.ReLUNet([W1, W2], [np.zeros(4), np.zeros(3)])
        return L.Objective(net, np.array([1.0, 0.0, 0.3]))

    for separation, unique in ((5e-10, False), (1e-6, True)):
        f = tie(separation)
        exact = L.global_minimizer(f, bounds=(-2, 2))
        for found in (branch_and_bound(f, (-2, 2), runner_up=True),
                      branch_and_bound(f, (-2, 2), runner_up=True, runner_up_within=1e-8)):
            assert found.certified and found.value <= 1e-20
            np.testing.assert_allclose(found.x, [1.0, 0.3], atol=1e-9)
            assert found.unique is unique and exact.unique is unique
            if found.runner_up is not None:
                np.testing.assert_allclose(found.runner_up.x, exact.runner_up.x, atol=1e-9)
                assert found.separation == pytest.approx(separation, rel=1e-6)
        assert found.runner_up is None or not unique  # within 1e-8, the 1e-6 runner-up is not looked for
    stopped = branch_and_bound(tie(5e-10), (-2, 2), runner_up=True, max_nodes=1, x0=[0.9, 0.3])
    assert stopped.unique is None and stopped.runner_up is None and stopped.separation <= 5e-10 + 1e-15
    assert stopped.certified and stopped.stopped_by == "nodes"  # f* = 0 is certain, the runner-up is not


def test_the_minimiser_path_by_branch_and_bound_is_the_enumerated_one():
    # the two-tents flow: the global minimum jumps from x = 1 to x = -3 between snapshots 4 and 5
    from test_flows import two_tents

    flow = L.NetworkFlow([two_tents(h) for h in np.linspace(0.55, 1.55, 11)])
    paths = [L.minimizer_path(flow, [2.0], bounds=(-6.0, 6.0), method=method)
             for method in ("enumeration", "branch_and_bound")]
    exact, searched = paths
    assert searched.method == "branch_and_bound" and searched.certified.all() and searched.unique is None
    np.testing.assert_allclose(searched.minimizers, exact.minimizers, atol=1e-6)
    assert np.all(np.abs(searched.values - exact.values) <= 1e-6 * (1 + exact.values))
    assert np.all(searched.lower_bounds <= searched.values) and np.isnan(searched.gaps).all()
    assert list(searched.jumps) == list(exact.jumps) == [4]
    # with the runner-up: the enumerated gaps (both tents' minima are local minima at every snapshot) and uniqueness
    ranked = L.minimizer_path(flow, [2.0], bounds=(-6.0, 6.0), method="branch_and_bound", runner_up=True)
    np.testing.assert_allclose(ranked.gaps, exact.gaps, rtol=1e-6, atol=1e-9)
    assert np.array_equal(ranked.unique, exact.unique) and list(ranked.jumps) == [4]
    # k = 3: a smooth random flow, every snapshot certified and equal to its enumerated minimum
    rng = np.random.default_rng(2)
    smooth = L.NetworkFlow.smooth_random([3, 6, 12], T=3, out_dim=16, rng=3)
    y = smooth[3].forward(rng.uniform(-1, 1, 3))
    with pytest.warns(UserWarning, match="face of bounds"):  # this f keeps decreasing beyond the box at one snapshot
        exact = L.minimizer_path(smooth, y, bounds=(-1.5, 1.5))
    with pytest.warns(UserWarning, match="face of bounds"):
        searched = L.minimizer_path(smooth, y, bounds=(-1.5, 1.5), method="branch_and_bound")
    assert searched.certified.all() and np.array_equal(searched.on_box_face, exact.on_box_face)
    assert np.all(np.abs(searched.values - exact.values) <= 1e-6 * (1 + exact.values))
    for call, message in [(lambda: L.minimizer_path(flow, [2.0], method="branch_and_bound"), "needs bounds"),
                          (lambda: L.minimizer_path(flow, [2.0], bounds=(-6, 6), method="bnb"), "method must be one of"),
                          (lambda: L.minimizer_path(flow, [2.0], bounds=(-6, 6), rtol=0.0), "rtol"),
                          (lambda: L.minimizer_path(flow, [2.0], bounds=(-6, 6), time_limit=-1), "time_limit"),
                          (lambda: L.minimizer_path(flow, [2.0], bounds=(-6, 6), runner_up=True),
                           "options of method='branch_and_bound'"),
                          (lambda: L.minimizer_path(flow, [2.0], bounds=(-6, 6), method="branch_and_bound",
                                                    runner_up=1), "runner_up must be True or False")]:
        with pytest.raises(ValueError, match=message):
            call()


def test_the_certified_value_is_never_above_the_best_polished_local_minimum():
    rng = np.random.default_rng(8)
    net = L.ReLUNet.random([3, 6, 10], out_dim=12, rng=9)
    f = L.Objective(net, rng.normal(size=12))
    found = branch_and_bound(f, (-1, 1))
    polished = [L.polish_to_local_minimum(f, x, bounds=(-1, 1)) for x in rng.uniform(-1, 1, (10, 3))]
    assert found.certified
    assert found.value <= min(p.value for p in polished) + found.tolerance
    assert found.lower_bound <= found.value
    best = min(polished, key=lambda p: p.value)
    warm = branch_and_bound(f, (-1, 1), x0=best.x)  # started from the best polished point: the same certificate
    assert warm.certified and abs(warm.value - found.value) <= found.tolerance and warm.nodes <= found.nodes


def test_a_node_limit_returns_valid_bounds_marked_uncertified():
    rng = np.random.default_rng(10)
    net = L.ReLUNet.random([3, 6, 10], out_dim=12, rng=11)
    f = L.Objective(net, rng.normal(size=12))
    stopped = branch_and_bound(f, (-2, 2), max_nodes=3)
    full = branch_and_bound(f, (-2, 2))
    assert not stopped.certified and stopped.stopped_by == "nodes" and stopped.nodes <= 4
    assert stopped.lower_bound <= full.value + full.tolerance and stopped.value >= full.value - full.tolerance
    timed = branch_and_bound(f, (-2, 2), time_limit=1e-9)
    assert not timed.certified and timed.stopped_by == "time"


def test_a_search_estimated_beyond_the_default_limit_is_refused_and_an_explicit_limit_runs(monkeypatch):
    rng = np.random.default_rng(10)
    net = L.ReLUNet.random([3, 6, 10], out_dim=12, rng=11)
    f = L.Objective(net, rng.normal(size=12))
    full = branch_and_bound(f, (-2, 2))
    level = full.value - full.tolerance
    estimate, exact = estimated_boxes(f, (-2, 2), level)
    assert exact and 1 <= estimate <= 10 * full.nodes
    assert estimated_boxes(f, (-2, 2), -1.0) == (1.0, True)  # f ≥ 0 > level: the box itself is pruned
    assert estimated_boxes(f, (-2, 2), np.inf) == (0.0, True)  # no probe lies above the level
    with pytest.raises(ValueError, match="level must be a number"):
        estimated_boxes(f, (-2, 2), np.nan)
    with pytest.raises(ValueError, match="bound must be one of"):
        estimated_boxes(f, (-2, 2), level, bound="crown")
    monkeypatch.setattr(search, "DEFAULT_MAX_NODES", max(int(estimate) - 1, 1))
    refusal = r"k = 3 would need about .* pass max_nodes= or time_limit="
    with pytest.raises(L.SearchTooLargeError, match=refusal) as error:
        branch_and_bound(f, (-2, 2))
    assert error.value.estimate == estimate and error.value.max_nodes == max(int(estimate) - 1, 1)
    ran = branch_and_bound(f, (-2, 2), max_nodes=10**6)  # an explicit limit: run, not refused
    assert ran.certified and abs(ran.value - full.value) <= full.tolerance


def test_branch_and_bound_refuses_bad_input():
    net = L.ReLUNet.random([2, 6, 8], rng=12)
    f = L.Objective(net, np.zeros(8))
    for bad, message in ((None, "bounds must be a bounded box"), ((1.0, -1.0), "lo < hi"),
                         ((-np.inf, 1.0), "finite"), ((np.nan, 1.0), "finite"), ((0.0, 0.0), "lo < hi")):
        with pytest.raises(ValueError, match=message):
            branch_and_bound(f, bad)
    for option, message in (({"rtol": 0.0}, "rtol"), ({"bound": "crown"}, "bound must be one of interval, linear"),
                            ({"exact_unstable": -1}, "exact_unstable must be an integer >= 0"),
                            ({"max_nodes": 0}, "max_nodes must be an integer >= 1"),
                            ({"time_limit": -1.0}, "time_limit")):
        with pytest.raises(ValueError, match=message):
            branch_and_bound(f, (-1, 1), **option)
    with pytest.raises(ValueError, match="x0 must lie in the box"):
        branch_and_bound(f, (-1, 1), x0=[2.0, 0.0])
    with pytest.raises(ValueError, match="x0 must"):
        branch_and_bound(f, (-1, 1), x0=[0.0])
    with pytest.raises(ValueError, match="objective must be an Objective"):
        branch_and_bound(net, (-1, 1))
    for option, message in (({"runner_up": "yes"}, "runner_up must be True or False"),
                            ({"runner_up_within": 0.1}, "runner_up_within needs runner_up=True"),
                            ({"runner_up": True, "runner_up_within": 0.0}, "runner_up_within"),
                            ({"runner_up": True, "runner_up_within": np.nan}, "runner_up_within")):
        with pytest.raises(ValueError, match=message):
            branch_and_bound(f, (-1, 1), **option)
