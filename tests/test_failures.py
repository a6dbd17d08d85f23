"""The exact classification of failed inversions (proofs_check._failures) on networks whose minima are known in
closed form, one constructed case per class; the budget rule and the restarts baseline of the protocol."""

import numpy as np
import pytest

import landscape as L
from proofs_check import _failures, _protocol
from proofs_check._stats import holm, interval_text


def zigzag() -> L.ReLUNet:
    r"""k = 1, n = 2: G(x) = (relu(x), relu(−x) − 2 relu(−x − 1)). With y = G(1) = (1, 0):
    f = ½(x − 1)² on x ≥ 0 (minimum 0 at x* = 1) and ½(1 + g₂²) on x < 0, where g₂ = −x on [−1, 0] and x + 2 below
    −1: a strict spurious local minimum at x = −2 (inside a piece) with f = ½. With y = G(0) = (0, 0), f = 0 at x = 0
    and at x = −2."""
    return L.ReLUNet([np.array([[1.0], [-1.0], [-1.0]])], [np.array([0.0, 0.0, -1.0])],
                     readout=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -2.0]]))


def vee() -> L.ReLUNet:
    """k = n = 1: G(x) = |x|. For y = −1 (outside the range), f = ½(|x| + 1)² has its only minimum on the kink at 0,
    where two pieces meet and the gradient never vanishes."""
    return L.ReLUNet([np.array([[1.0], [-1.0]])], [np.zeros(2)], readout=np.array([[1.0, 1.0]]))


def objective(x_star: float) -> L.Objective:
    net = zigzag()
    return L.Objective(net, net.forward([x_star]))


def test_the_constructed_network_has_the_minima_its_docstring_states():
    f = objective(1.0)
    grid = np.linspace(-3, 2, 5001)[:, None]
    values = f.value(grid)
    np.testing.assert_allclose(f.value(np.array([[1.0], [-2.0]])), [0.0, 0.5], atol=1e-15)
    around = (grid[:, 0] > -2.5) & (grid[:, 0] < -1.5)
    assert grid[around][np.argmin(values[around]), 0] == pytest.approx(-2.0)


def test_a_run_ended_in_x_stars_basin_is_stopped_short():
    found = _failures.classify(objective(1.0), [0.98], [1.0], 0.01)
    assert found["class"] == "stopped_short"
    assert found["end_distance"] == pytest.approx(0.02) and found["distance"] < 1e-9 and found["f"] < 1e-20


def test_a_certified_spurious_minimum_is_named_with_its_value_and_distance():
    found = _failures.classify(objective(1.0), [-1.9], [1.0], 0.01)
    assert found["class"] == "spurious_minimum"
    assert found["f"] == pytest.approx(0.5) and found["distance"] == pytest.approx(3.0)
    assert found["f_end"] == pytest.approx(0.5 * (1 + 0.1**2)) and found["moved"] == pytest.approx(0.1)


def test_another_zero_of_f_is_not_a_spurious_minimum():
    found = _failures.classify(objective(-2.0), [0.05], [-2.0], 0.01)
    assert found["class"] == "other_global_minimum" and found["distance"] == pytest.approx(2.0)


def test_surfing_that_left_the_basin_before_the_last_snapshot_wandered():
    iterates = np.array([[0.3], [-1.8], [-1.95]])  # x_{T-1} = -1.8 already descends to -2 on the final network
    found = _failures.classify(objective(1.0), iterates[-1], [1.0], 0.01, iterates)
    assert found["class"] == "wandered" and found["before_last_polishes_to"] == "spurious"
    assert found["distance_before_last"] == pytest.approx(2.8) and found["largest_norm"] == pytest.approx(1.95)
    inside = np.array([[0.3], [0.7], [-1.95]])  # x_{T-1} = 0.7 descends to x*: the last run left the basin
    found = _failures.classify(objective(1.0), inside[-1], [1.0], 0.01, inside)
    assert found["class"] == "spurious_minimum" and found["before_last_polishes_to"] == "x_star"


def test_polishing_that_gives_up_is_uncertified_with_its_reason(monkeypatch):
    monkeypatch.setitem(_failures.POLISH_LIMITS, "max_pieces", 1)  # the minimum at 0 lies on a kink: two pieces meet
    found = _failures.classify(L.Objective(vee(), [-1.0]), [0.5], [1.0], 0.01)
    assert found["class"] == "uncertified" and "more than 1 regions meet" in found["reason"]
    assert "f" not in found and found["f_end"] == pytest.approx(0.5 * 1.5**2)


def test_tally_lists_every_class():
    counts = _failures.tally([{"class": "wandered"}, {"class": "wandered"}, {"class": "stopped_short"}])
    assert counts == {"stopped_short": 1, "other_global_minimum": 0, "spurious_minimum": 0, "wandered": 2,
                      "uncertified": 0}


def test_stop_reasons_name_the_rule_that_ended_each_run():
    net = zigzag()
    y = net.forward([1.0])
    run = L.regular_descent(net, np.repeat(y[None], 3, axis=0), x0=[[1.5], [-1.5], [-1.5]], lr=0.01, tol=1e-6,
                            max_steps=50, stall_window=None, engine="numpy")
    assert _failures.stop_reasons(run, 50) == ["cap", "cap", "cap"]
    stalled = L.regular_descent(vee(), [-1.0], x0=[[0.3]], lr=0.01, stall_window=20, max_steps=20_000, engine="numpy")
    assert _failures.stop_reasons(stalled, 20_000) == ["stall"]  # Adam oscillates across the kink at 0
    done = L.regular_descent(net, y, x0=[[1.5]], lr=0.01, tol=1e-3, max_steps=20_000, engine="numpy")
    assert _failures.stop_reasons(done, 20_000) == ["gradient"]


def test_smallest_singular_value_of_the_measured_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    net = L.ReLUNet.random([3, 12, 20], out_dim=15, rng=1)
    X, A = rng.normal(size=(4, 3)), rng.normal(size=(6, 15))
    got = _failures.smallest_singular_values(net, X, A)
    h = 1e-7
    for x, value in zip(X, got):
        J = np.stack([(net.forward(x + h * e) - net.forward(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
        assert value == pytest.approx(np.linalg.svd(A @ J, compute_uv=False)[-1], rel=1e-6)


def test_the_budget_statistics():
    total, to_target = np.arange(1, 101), np.arange(101, 201)
    assert _protocol.surfing_budget(total, to_target, "p75_total") == int(np.percentile(total, 75)) == 75
    assert _protocol.surfing_budget(total, to_target, "p50_total") == 50
    assert _protocol.surfing_budget(total, to_target, "p75_to_target") == 175
    with pytest.raises(ValueError, match="needs x"):
        _protocol.surfing_budget(total, None, "p75_to_target")


@pytest.mark.parametrize("settings, message", [
    ({"lr": -1}, "lr must be a number > 0"), ({"lr": float("nan")}, "lr must be a number > 0"),
    ({"schedule": "linear"}, "schedule must be one of harmonic, uniform, geometric"),
    ({"budget_statistic": "p90"}, "budget_statistic must be one of"), ({"momentum": 0.9}, r"unknown protocol setting"),
    ({"first_snapshot": 10}, "first_snapshot must be below T = 10"), ({"snapshot_every": 0}, "snapshot_every must be"),
    ({"stall_window": 2.5}, "stall_window must be an integer"), ({"reset_moments": "yes"}, "reset_moments must be"),
])
def test_bad_protocol_settings_are_refused_by_name(settings, message):
    with pytest.raises(ValueError, match=message):
        _protocol.validated(10, **settings)


def test_surfed_snapshots_keep_the_last_network():
    flow = L.NetworkFlow.linear(L.ReLUNet.random([2, 4], rng=0), L.ReLUNet.random([2, 4], rng=1), T=10)
    kept = _protocol.surfed_flow(flow, _protocol.validated(10, snapshot_every=4, first_snapshot=1))
    np.testing.assert_allclose(kept.times, flow.times[[1, 5, 9, 10]])
    assert kept[kept.T] is flow[10]


def test_restarts_keep_the_best_end_point_and_never_exceed_the_budget():
    net = zigzag()
    Y = np.repeat(net.forward([1.0])[None], 40, axis=0)
    protocol = _protocol.validated(10, stall_window=20)
    x_init = np.full((40, 1), -1.5)  # every first run ends in the spurious minimum at -2
    first = L.regular_descent(net, Y, x0=x_init, engine="numpy", **_protocol.adam_options(protocol))
    budgets = np.r_[first.total_steps[:20], 4 * first.total_steps[20:] + 2_000]
    X, spent, runs = _protocol.restarted(net, Y, None, first, budgets, np.random.default_rng(0), protocol)
    assert np.all(spent <= budgets) and np.all(runs[:20] == 1) and np.all(runs[20:] >= 2)
    np.testing.assert_array_equal(X[:20], first.x[:20])  # no room for a second run
    f = L.Objective(net, Y)
    assert np.all(f.value(X) <= f.value(first.x))
    assert np.mean(np.abs(X[20:, 0] - 1) < 0.01) > 0.5  # uniform restarts in [-1, 1] mostly start in x*'s basin


def test_holm_and_the_interval_text():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0] and holm([]) == []
    assert interval_text((0.99576, 1.0)) == "[99.6, 100.0]"


def test_fewer_measurements_than_latents_leave_sigma_min_zero():
    net = L.ReLUNet.random([3, 12, 20], out_dim=15, rng=1)
    X = np.random.default_rng(2).normal(size=(4, 3))
    np.testing.assert_array_equal(_failures.smallest_singular_values(net, X, np.ones((2, 15))), 0.0)
