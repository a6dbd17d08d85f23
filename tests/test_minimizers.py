import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscape.qp as qp
import naive
import landscape as L
from landscape import (
    Objective,
    QPSolveError,
    ReLUNet,
    enumerate_regions,
    gaussian_measurements,
    global_minimizer,
    local_minima,
    minimize_on_region,
    region_of,
)
from strategies import networks, seeds


def objective_for(net, seed, measured=False):
    rng = np.random.default_rng(seed)
    A = gaussian_measurements(int(rng.integers(1, net.output_dim + 3)), net.output_dim, rng) if measured else None
    return Objective(net, rng.normal(size=net.output_dim), A)


@given(net=networks(max_k=5, max_depth=2, max_width=10), seed=seeds, measured=st.booleans())
def test_region_qp_matches_a_fresh_cvxpy_problem(net, seed, measured):
    f = objective_for(net, seed, measured)
    region = region_of(net, np.random.default_rng(seed).normal(size=net.input_dim), bounds=(-4.0, 4.0))
    ours = minimize_on_region(f, region)
    _, reference = naive.region_qp_fresh(net, f.y, f.A, region.pattern.unpack(), (-4.0, 4.0))
    np.testing.assert_allclose(ours.value, reference, rtol=1e-6, atol=1e-8)
    assert region.contains(ours.x, atol=1e-8)
    np.testing.assert_allclose(f.value(ours.x), ours.value, rtol=1e-9, atol=1e-12)


def test_certificate_rejects_a_wrong_answer_and_the_fallback_takes_over(monkeypatch):
    net = ReLUNet.random([3, 8, 8], out_dim=10, rng=0)
    f = objective_for(net, 1)
    region = region_of(net, [0.2, -0.1, 0.4], bounds=(-2.0, 2.0))
    right = minimize_on_region(f, region)
    assert right.solver == "DAQP"
    import daqp

    real = daqp.solve

    def wrong(*args, **kwargs):
        x, value, flag, info = real(*args, **kwargs)
        return x + 0.1, value, flag, info

    monkeypatch.setattr(daqp, "solve", wrong)
    fallback = minimize_on_region(f, region)
    assert fallback.solver == "cvxpy/CLARABEL"
    np.testing.assert_allclose(fallback.value, right.value, rtol=1e-7, atol=1e-9)


def test_an_infeasible_polytope_raises_naming_it():
    family = qp.polytope_qp(1, 2)
    with pytest.raises(QPSolveError, match="polytope 'slab'"):
        family.solve(np.ones((1, 1)), np.ones(1), np.array([[1.0], [-1.0]]), np.array([-1.0, -1.0]), what="polytope 'slab'")


def test_a_constant_objective_is_certified_with_zero_multipliers():
    rows, h = np.vstack([np.eye(2), -np.eye(2)]), np.array([1.0, 2.0, 0.5, 1.0])
    solution = qp.polytope_qp(2, 4).solve(np.zeros((3, 2)), np.array([1.0, 2.0, 2.0]), rows, h)
    assert solution.value == 4.5
    assert np.all(rows @ solution.x <= h + 1e-9)
    np.testing.assert_array_equal(solution.multipliers, 0.0)


@pytest.mark.parametrize("scale", [1e-150, 1.0, 1e150])
def test_the_qp_minimiser_does_not_depend_on_the_curvature_scale(scale):
    rows, h = np.vstack([np.eye(2), -np.eye(2)]), np.ones(4)
    M, v = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]]), np.array([4.0, -3.0, 1.0])
    solution = qp.polytope_qp(2, 4).solve(scale * M, scale * v, rows, h)
    # by hand: x_2 = 1 is active, then x_1 = a·b/a·a = 3/5.25 with a = M[:, 0], b = v − M[:, 1]; λ = −∂f/∂x_2
    np.testing.assert_allclose(solution.x, [4 / 7, 1.0], rtol=1e-9)
    np.testing.assert_allclose(solution.multipliers / scale**2, [0.0, 36 / 7, 0.0, 0.0], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("widths, bias, out_dim, bounds, measured, readout_bias", [
    ([2, 4, 3], True, 5, None, False, False),
    ([2, 3, 3], True, None, (-2.0, 2.0), True, False),
    ([1, 4, 3], True, 3, None, False, False),
    ([3, 4, 4], False, 6, (-1.0, 1.5), False, False),
    ([2, 4, 3], True, 5, (-2.0, 2.0), True, True),
    ([2, 3, 4], False, None, None, False, True),
])
def test_global_minimizer_equals_the_exhaustive_minimum(widths, bias, out_dim, bounds, measured, readout_bias):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=sum(widths), readout_bias=readout_bias)
    f = objective_for(net, 7, measured)
    best = global_minimizer(f, bounds=bounds)
    _, reference = naive.exhaustive_minimum(net, f.y, f.A, bounds)
    np.testing.assert_allclose(best.value, reference, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(f.value(best.x), best.value, rtol=1e-9, atol=1e-12)


@given(net=networks(max_k=2, max_depth=2, max_width=10), seed=seeds, measured=st.booleans())
def test_global_minimizer_is_never_worse_than_gradient_descent(net, seed, measured):
    f = objective_for(net, seed, measured)
    best = global_minimizer(f, bounds=(-3.0, 3.0))
    X = np.random.default_rng(seed).uniform(-3, 3, size=(64, net.input_dim))
    step = 0.5 / (1.0 + np.linalg.norm(f.grad(X), axis=1).max())
    for _ in range(300):
        X = np.clip(X - step * f.grad(X), -3, 3)
    assert best.value <= f.value(X).min() + 1e-9 * (1 + best.value)


def test_inverting_a_generated_point_recovers_it():
    net = ReLUNet.random([2, 20, 40], out_dim=50, rng=3)
    x_star = np.array([0.4, -0.7])
    best = global_minimizer(Objective(net, net.forward(x_star)))
    np.testing.assert_allclose(best.x, x_star, atol=1e-7)
    assert best.value < 1e-16 and best.unique


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_minima_in_one_dimension_match_a_fine_grid(seed):
    net = ReLUNet.random([1, 12, 12], out_dim=8, rng=seed)
    f = objective_for(net, seed)
    minima = local_minima(f, bounds=(-3.0, 3.0))
    grid = np.linspace(-3, 3, 60001)
    values = f.value(grid[:, None])
    interior = (values[1:-1] < values[:-2]) & (values[1:-1] <= values[2:])
    ends = [0] if values[0] < values[1] else []
    ends += [len(grid) - 1] if values[-1] < values[-2] else []
    on_grid = np.sort(np.r_[grid[1:-1][interior], grid[ends]])
    found = np.sort([m.x[0] for m in minima])
    assert len(found) == len(on_grid)
    np.testing.assert_allclose(found, on_grid, atol=2 * (grid[1] - grid[0]))


def test_two_equal_minima_have_zero_gap():
    # G(x) = relu(x) + relu(-x) = |x| and y = 1: f = (|x| - 1)^2 / 2 has global minima at -1 and 1.
    net = ReLUNet([np.array([[1.0], [-1.0]])], biases=[np.zeros(2)], readout=np.array([[1.0, 1.0]]))
    best = global_minimizer(Objective(net, [1.0]))
    assert abs(abs(best.x[0]) - 1) < 1e-9 and best.value < 1e-20
    assert abs(best.gap) < 1e-12 and not best.unique
    assert sorted(round(float(m.x[0]), 9) for m in best.local_minima) == [-1.0, 1.0]


def test_a_valley_of_non_strict_minima_touching_a_lower_region_is_found():
    # G(x) = (relu(x1), relu(x2), relu(-x1)), y = G(1, 1). For x2 < 0 the second output is off, so f = 1/2 +
    # (x1 - 1)^2 / 2 there: every (1, x2 < 0) is a (non-strict) local minimum, and the valley's end (1, 0) touches
    # the region x2 > 0 where f falls to 0 at (1, 1). The solver's point of the valley was that end.
    net = ReLUNet([np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])], biases=[np.zeros(3)], readout=np.eye(3))
    f = Objective(net, net.forward([1.0, 1.0]))
    for x2 in (-1.9, -1.0, -0.3, -0.01):  # by brute force: no lower value in a small disc around the valley
        centre = np.array([1.0, x2])
        angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        ring = centre + 1e-3 * np.c_[np.cos(angles), np.sin(angles)]
        assert np.all(f.value(ring) >= f.value(centre) - 1e-15)
    for bounds in ((-2.0, 2.0), None):
        minima = local_minima(f, bounds=bounds)
        assert [(round(m.value, 12), m.flat_dimension) for m in minima] == [(0.0, 0), (0.5, 1)]
        valley = minima[1].x
        assert abs(valley[0] - 1.0) < 1e-9 and valley[1] < -1e-3
        best = global_minimizer(f, bounds=bounds)
        assert best.runner_up is not None and best.gap == pytest.approx(0.5)


def test_a_dead_region_is_a_flat_set_of_local_minima_in_one_dimension():
    # G(x) = relu(x) - relu(x - 2) with y = 3: f = 9/2 for x < 0 (every such x a non-strict local minimum, as the
    # region is dead), falling to 1/2 on [2, 3]: there f is flat too (G = 2), the global minima.
    net = ReLUNet([np.array([[1.0], [1.0]])], biases=[np.array([0.0, -2.0])], readout=np.array([[1.0, -1.0]]))
    minima = local_minima(Objective(net, [3.0]), bounds=(-3.0, 3.0))
    assert [(round(m.value, 12), m.flat_dimension) for m in minima] == [(0.5, 1), (4.5, 1)]
    assert 2.0 < minima[0].x[0] < 3.0 and -3.0 < minima[1].x[0] < 0.0
    best = global_minimizer(Objective(net, [3.0]), bounds=(-3.0, 3.0))  # a set of global minimisers: not unique
    assert best.value == pytest.approx(0.5) and best.gap == 0.0 and not best.unique
    assert best.flat_dimension == 1 or best.runner_up.flat_dimension == 1


def _flat_minimum_on_a_face():
    # A random network where f is flat along a segment lying on the face between two regions (one neuron at zero
    # along it): the solver's point of that set touches a lower region, the set's interior consists of local
    # minima. Enumeration once missed it; branch and bound, which finds minima on its own sub-box faces, did not.
    net = ReLUNet.random([3, 6, 12], out_dim=20, rng=1)
    rng = np.random.default_rng(1)
    f = Objective(net, net.forward(rng.uniform(-1, 1, 3)) + 0.3 * rng.normal(size=20))
    return net, f, local_minima(f, bounds=(-2.0, 2.0))


def test_a_flat_set_of_minima_on_a_region_boundary_is_found():
    net, f, minima = _flat_minimum_on_a_face()
    flat = [m for m in minima if m.flat_dimension > 0]
    assert flat and all(L.is_local_minimum(f, m.x, bounds=(-2.0, 2.0)) for m in flat)
    assert len(L.near_zero_set(net, flat[0].x, tau=1e-7)) == 1  # on the face
    assert minima[1] is flat[0] and minima[0].value < flat[0].value


def test_branch_and_bound_finds_the_same_flat_runner_up():
    net, f, minima = _flat_minimum_on_a_face()
    certificate = L.branch_and_bound(f, (-2.0, 2.0), runner_up=True)
    assert certificate.value == pytest.approx(minima[0].value, rel=1e-9)
    assert certificate.runner_up.value == pytest.approx(minima[1].value, rel=1e-9)


def test_reuses_an_enumeration_and_refuses_bad_input():
    net = ReLUNet.random([2, 5, 5], rng=1)
    f = objective_for(net, 2)
    regions = enumerate_regions(net, bounds=(-1.0, 1.0))
    assert global_minimizer(f, regions=regions).regions is regions
    with pytest.raises(ValueError, match="objective"):
        global_minimizer(net)
    with pytest.raises(ValueError, match="regions"):
        local_minima(f, regions=list(regions))
    with pytest.raises(ValueError, match="lo < hi"):
        global_minimizer(f, bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="runner_up must be True or False"):
        global_minimizer(f, regions=regions, runner_up="no")


def test_polishing_reaches_the_kink_minimum():
    from landscape import polish_to_local_minimum

    net = ReLUNet([np.array([[1.0], [-1.0]])], biases=[np.zeros(2)], readout=np.array([[1.0, 1.0]]),
                  readout_bias=np.array([1.0]))
    polished = polish_to_local_minimum(Objective(net, [0.0]), [0.7])
    np.testing.assert_allclose(polished.x, [0.0], atol=1e-9)
    assert polished.value == pytest.approx(0.5) and polished.moves >= 1 and len(polished.patterns) == 2
    again = polish_to_local_minimum(Objective(net, [0.0]), polished.x)
    assert again.moves == 0 and again.distance == 0.0


@given(net=networks(max_k=2, max_depth=2, max_width=7), seed=seeds, measured=st.booleans())
def test_polishing_any_point_lands_on_an_exact_local_minimum(net, seed, measured):
    from landscape import polish_to_local_minimum

    f = objective_for(net, seed, measured)
    minima = local_minima(f, bounds=(-3.0, 3.0))
    start = np.random.default_rng(seed).uniform(-3.0, 3.0, net.input_dim)
    polished = polish_to_local_minimum(f, start, bounds=(-3.0, 3.0))
    assert polished.value <= f.value(start) + 1e-12
    np.testing.assert_allclose(f.value(polished.x), polished.value, rtol=1e-9, atol=1e-12)
    matches = [m for m in minima if abs(m.value - polished.value) <= 1e-7 * (1 + abs(m.value))]
    if not matches:  # a non-strict minimum inside a piece where G is constant, which local_minima represents
        # by one point per piece (here on its boundary, where it is no minimum): f is flat around x
        from landscape import local_affine

        assert not np.any(local_affine(net, polished.x)[0]), (polished.value, [m.value for m in minima])


def test_a_minimiser_on_the_box_face_is_flagged_and_minimizer_path_warns():
    from landscape import NetworkFlow, Objective, ReLUNet, global_minimizer, local_minima

    net = ReLUNet([np.array([[1.0], [-1.0]])], biases=[np.zeros(2)], readout=np.array([[1.0, 0.5]]))
    f = Objective(net, net.forward([3.0]))  # f's only zero in x >= 0 is x = 3
    boxed = global_minimizer(f, bounds=(-1.0, 1.0))
    assert boxed.on_box_face and abs(boxed.x[0] - 1.0) < 1e-9
    free = global_minimizer(f, bounds=(-5.0, 5.0))
    assert not free.on_box_face and abs(free.x[0] - 3.0) < 1e-9
    assert any(m.on_box_face for m in local_minima(f, bounds=(-1.0, 1.0)))
    with pytest.warns(UserWarning, match=r"on the face of bounds=\(-1.0, 1.0\) at 2 of 2 snapshots"):
        path = L.minimizer_path(NetworkFlow([net, net]), net.forward([3.0]), bounds=(-1.0, 1.0))
    assert path.on_box_face.all()


def test_polishing_gives_up_where_too_many_pieces_meet():
    from landscape import Objective, ReLUNet, TooManyRegionsError, polish_to_local_minimum

    # Three neurons switching at the origin of R^3, independently: 2^3 = 8 regions meet there, and f(0) = 1/2
    # is no minimum of x's own region's neighbours (f = ½(Σ relu(x_i) − 1)²).
    net = ReLUNet([np.eye(3)], biases=[np.zeros(3)], readout=np.ones((1, 3)))
    f = Objective(net, np.array([1.0]))
    found = polish_to_local_minimum(f, np.zeros(3), max_pieces=8)
    assert found.value < 1e-20 and np.sum(np.maximum(found.x, 0)) == pytest.approx(1.0)
    with pytest.raises(TooManyRegionsError, match="more than 7 regions") as stopped:
        polish_to_local_minimum(f, np.zeros(3), max_pieces=7)
    assert stopped.value.neurons == 3  # the neurons switching at the point: up to 2^3 regions
    with pytest.raises(ValueError, match="max_pieces must be an integer >= 1"):
        polish_to_local_minimum(f, np.zeros(3), max_pieces=0)


def test_polishing_a_point_level_with_the_minimum_returns_the_exact_minimiser():
    from landscape import Objective, ReLUNet, polish_to_local_minimum

    net = ReLUNet.random([2, 12, 30], out_dim=40, rng=0)
    x_generating = np.array([0.3, -0.4])
    f = Objective(net, net.forward(x_generating))
    near = x_generating + np.array([2e-6, -1e-6])  # f(near) ~ 1e-11: level with the minimum 0 to the tolerance
    found = polish_to_local_minimum(f, near)
    np.testing.assert_allclose(found.x, x_generating, atol=1e-9)
    assert found.value < 1e-20 and found.moves == 1
    assert polish_to_local_minimum(f, found.x).moves == 0  # the exact minimiser is certified where it is
    # f = 0 certifies a global minimum by itself: only the point's own region is solved, not the regions around it
    # (the origin of a bias-free network, where every neuron switches at once, costs one QP).
    homogeneous = ReLUNet.random([2, 12, 30], out_dim=40, bias=False, rng=0)
    at_origin = polish_to_local_minimum(Objective(homogeneous, np.zeros(40)), np.zeros(2), max_pieces=1)
    assert at_origin.value == 0.0 and at_origin.moves == 0 and len(at_origin.patterns) == 1
    start = np.array([1e-3, 0.0])
    found = polish_to_local_minimum(Objective(homogeneous, homogeneous.forward(np.zeros(2))), start, max_pieces=1)
    assert found.value < 1e-20 and found.moves == 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])  # seed 1: a flat set of global minimisers
def test_the_ordered_search_in_three_dimensions_gives_the_answers_of_one_qp_per_region(seed):
    rng = np.random.default_rng(seed)
    net = ReLUNet.random([3, 6, 8], out_dim=10, rng=rng)
    f = L.Objective(net, rng.normal(size=10))
    regions = enumerate_regions(net, bounds=(-2.0, 2.0))
    every = local_minima(f, regions=regions)  # k = 3: the LP path, one certified QP per region
    flat = every[0].flat_dimension > 0  # a set of minimisers: any of its points may stand for it
    others = [m for m in every if not L.touching.same_point(m.x, every[0].x)]
    gap = 0.0 if flat else others[0].value - every[0].value if others else np.inf
    ordered, first = global_minimizer(f, regions=regions), global_minimizer(f, regions=regions, runner_up=False)
    for found in (ordered, first):
        assert L.touching.same_point(found.x, every[0].x) or flat
        assert found.value == pytest.approx(every[0].value, rel=1e-9, abs=1e-12)
        assert found.unique == (gap > 1e-9 * (1 + abs(every[0].value)))
    assert ordered.gap == pytest.approx(gap, rel=1e-9) and first.gap <= ordered.gap * (1 + 1e-9)
    assert first.qps <= ordered.qps <= len(regions)


def test_is_local_minimum_at_a_kink_and_beside_it():
    net = ReLUNet([np.array([[1.0], [-1.0]])], biases=[np.zeros(2)], readout=np.array([[1.0, 1.0]]),
                  readout_bias=np.array([1.0]))
    f = Objective(net, [0.0])  # f = ½(|x| + 1)²: its only minimum is the kink at 0
    assert L.is_local_minimum(f, [0.0]) and not L.is_local_minimum(f, [0.7]) and not L.is_local_minimum(f, [-1e-3])
    assert L.is_local_minimum(f, [0.7], bounds=(0.7, 2.0))  # on the box, 0.7 is its face's minimum
    with pytest.raises(ValueError, match="max_pieces must be an integer >= 1"):
        L.is_local_minimum(f, [0.0], max_pieces=0)
    with pytest.raises(ValueError, match="x"):
        L.is_local_minimum(f, [np.nan])


@given(net=networks(max_k=3, max_depth=2, max_width=7), seed=seeds, measured=st.booleans())
def test_is_local_minimum_agrees_with_descent_and_with_the_neighbourhood(net, seed, measured):
    f = objective_for(net, seed, measured)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-2.0, 2.0, net.input_dim)
    polished = L.polish_to_local_minimum(f, start)
    assert L.is_local_minimum(f, polished.x)
    # A point the exact test refutes has a lower point next to it, which descent finds; a point it accepts has none
    # on a fine sphere around it.
    if L.is_local_minimum(f, start):
        around = start + 1e-7 * rng.normal(size=(2000, net.input_dim))
        value = f.value(start)
        assert f.value(around).min() >= value - 1e-9 * (1 + abs(value))
    else:
        assert polished.value < f.value(start)
