import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import landscape as L
from landscape import NetworkFlow, Objective, ReLUNet, budget_schedule, projected_surf, regular_descent, surf
from strategies import flows, seeds


@pytest.mark.parametrize("optimizer, lr", [("gd", 0.05), ("adam", 0.02)])
def test_surfing_identical_snapshots_is_plain_descent(optimizer, lr):
    net = ReLUNet.random([2, 12, 30], out_dim=40, rng=0)
    rng = np.random.default_rng(1)
    y = net.forward(rng.uniform(-1, 1, 2))
    x0 = rng.uniform(-1, 1, size=(5, 2))
    surfed = surf(NetworkFlow([net] * 4), y, x0=x0, optimizer=optimizer, lr=lr, steps=[7, 4, 2], tol=1e-7)
    plain = regular_descent(net, y, x0=x0, optimizer=optimizer, lr=lr, tol=1e-7)
    np.testing.assert_allclose(surfed.x, plain.x, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(surfed.total_steps, plain.total_steps)
    np.testing.assert_array_equal(surfed.steps[:3], np.array([[7] * 5, [4] * 5, [2] * 5]))
    assert surfed.converged.all()


@given(seed=seeds, split=st.integers(1, 5))
def test_surfing_does_not_depend_on_how_the_batch_is_split(seed, split):
    flow = NetworkFlow.smooth_random([2, 8, 16], T=5, out_dim=20, rng=seed)
    rng = np.random.default_rng(seed)
    Y = rng.normal(size=(6, 20))
    X0 = rng.uniform(-1, 1, size=(6, 2))
    whole = surf(flow, Y, x0=X0, budget=30, max_steps=200)
    parts = [surf(flow, Y[i:i + split], x0=X0[i:i + split], budget=30, max_steps=200) for i in range(0, 6, split)]
    np.testing.assert_allclose(whole.x, np.vstack([p.x for p in parts]), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(whole.steps, np.hstack([p.steps for p in parts]))


def test_surfing_recovers_generated_points_and_reports_counts():
    flow = NetworkFlow.smooth_random([2, 20, 60], T=20, out_dim=80, rng=0)
    x_star = np.random.default_rng(1).uniform(-1, 1, size=(20, 2))
    Y = np.array([flow[20].forward(x) for x in x_star])
    result = surf(flow, Y, budget=400, lr=0.02)
    assert result.iterates.shape == (21, 20, 2) and result.steps.shape == (21, 20)
    np.testing.assert_array_equal(result.steps[:20].sum(axis=0), 400)
    assert np.mean(np.linalg.norm(result.x - x_star, axis=1) < 0.01) >= 0.9
    assert result.converged.mean() >= 0.9


def test_one_inversion_in_gives_one_out():
    flow = NetworkFlow.smooth_random([2, 6, 12], T=3, rng=2)
    y, x_star = flow[3].forward([0.2, -0.1]), np.array([0.2, -0.1])
    one = surf(flow, y, x0=[0.5, 0.5], budget=30, x_star=x_star)
    assert one.x.shape == (2,) and one.iterates.shape == (4, 2) and one.steps.shape == (4,)
    assert np.ndim(one.converged) == 0 and np.ndim(one.steps_to_target) == 0 and one.total_steps == one.steps.sum()
    batch = surf(flow, y[None], x0=[[0.5, 0.5]], budget=30, x_star=x_star[None])
    assert batch.x.shape == (1, 2)
    np.testing.assert_array_equal(one.x, batch.x[0])
    assert surf(flow, y, x0=[[0.5, 0.5], [0.1, 0.1]], budget=30).x.shape == (2, 2)  # two starts: a batch
    assert regular_descent(flow[3], y).x.shape == (2,)


def test_budget_schedule():
    counts = budget_schedule(100, 7)
    assert counts.sum() == 100 and np.all(np.diff(counts) <= 0)
    # harmonic: proportional to 1/(t + 1), up to the rounding of each count
    np.testing.assert_allclose(counts, 100 * (1 / np.arange(1, 8)) / np.sum(1 / np.arange(1, 8)), atol=1)
    assert budget_schedule(10, 4, "uniform").tolist() == [3, 3, 2, 2]
    geometric = budget_schedule(10_000, 5, "geometric")
    assert geometric.sum() == 10_000 and abs(geometric[0] / geometric[-1] - 5) < 0.01  # w_0 / w_{T-1} = T
    np.testing.assert_allclose(geometric[1:] / geometric[:-1], 5 ** (-1 / 4), rtol=2e-3)  # a constant ratio
    assert budget_schedule(7, 1, "geometric").tolist() == [7]
    assert budget_schedule(0, 3).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="budget"):
        budget_schedule(-1, 3)
    with pytest.raises(ValueError, match="T"):
        budget_schedule(10, 0)
    with pytest.raises(ValueError, match=r"shape \(the schedule\) must be one of harmonic, uniform, geometric"):
        budget_schedule(10, 3, "linear")


def test_a_budget_is_split_by_the_schedule_named():
    flow = NetworkFlow.smooth_random([2, 6, 12], T=5, rng=3)
    Y = flow[5].forward(np.random.default_rng(0).uniform(-1, 1, (3, 2)))
    for shape in ("harmonic", "uniform", "geometric"):
        by_name = surf(flow, Y, budget=50, schedule=shape, max_steps=100, engine="numpy")
        np.testing.assert_array_equal(by_name.steps[:5], np.repeat(budget_schedule(50, 5, shape)[:, None], 3, axis=1))
        np.testing.assert_array_equal(by_name.x, surf(flow, Y, steps=budget_schedule(50, 5, shape), max_steps=100,
                                                      engine="numpy").x)
    with pytest.raises(ValueError, match="shape \\(the schedule\\) must be one of"):
        surf(flow, Y, budget=50, schedule="cosine")


def test_objective_pairs_targets_with_points():
    net = ReLUNet.random([2, 6, 9], out_dim=7, rng=0)
    rng = np.random.default_rng(2)
    Y, X = rng.normal(size=(4, 7)), rng.normal(size=(4, 2))
    A = rng.normal(size=(5, 7))
    paired = Objective(net, Y, A)
    for i in range(4):
        single = Objective(net, Y[i], A)
        assert paired.value(X)[i] == pytest.approx(single.value(X[i]), rel=1e-12)
        np.testing.assert_allclose(paired.grad(X)[i], single.grad(X[i]), rtol=1e-12)
    with pytest.raises(ValueError, match=r"one point per target"):
        paired.value(X[:3])


def test_bad_surfing_input():
    net = ReLUNet.random([2, 4, 6], rng=0)
    flow = NetworkFlow([net, net])
    y = np.zeros(6)
    cases = [
        (lambda: surf([net, net], y), "flow"),
        (lambda: surf(flow, y, lr=0.0), "lr"),
        (lambda: surf(flow, y, lr=-1.0), "lr"),
        (lambda: surf(flow, np.zeros(5)), r"y.*\(6,\)"),
        (lambda: surf(flow, y, steps=[1, 2]), "steps"),
        (lambda: surf(flow, y, steps=[1], budget=3), "not both"),
        (lambda: surf(flow, y, optimizer="sgd"), "optimizer"),
        (lambda: surf(flow, np.zeros((3, 6)), x0=np.zeros((2, 2))), "3 targets but x0 holds 2"),
        (lambda: surf(flow, y, x0=[np.nan, 0.0]), "x0.*finite"),
        (lambda: regular_descent(flow, y), "net"),
        (lambda: regular_descent(net, y, max_steps=0), "max_steps"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


# Assumption 3.2 is rare on small random flows; every example enumerates each snapshot's regions, so half the
# profile's examples (20 in CI, 500 with HYPOTHESIS_PROFILE=fuzz).
@settings(suppress_health_check=[HealthCheck.filter_too_much], max_examples=max(1, settings.default.max_examples // 2))
@given(drawn=flows(injective_widths=True))
def test_theorem_33_algorithm_2_tracks_the_global_minimiser_below_the_step_bound(drawn):
    # Theorem 3.3: with delta < tau / (L max(M, 1)^(d+1)) (M, L measured on the flow) and Assumption 3.2
    # holding (a unique minimiser moving without jumps), every iterate of Algorithm 2 is argmin f(., theta_t).
    flow, y = drawn
    bounds = (-3.0, 3.0)
    path = L.minimizer_path(flow, y, bounds=bounds)
    assume(path.unique.all() and len(path.jumps) == 0 and path.L > 0)
    delta = float(np.diff(flow.times).max())
    depth = flow[0].depth
    tau = 1.01 * delta * path.L * max(flow.max_weight_norm(), 1.0) ** (depth + 1)
    assert delta < tau / (path.L * max(flow.max_weight_norm(), 1.0) ** (depth + 1))
    result = projected_surf(flow, y, tau, bounds=bounds)
    np.testing.assert_allclose(result.iterates, path.minimizers, atol=1e-6)
    np.testing.assert_allclose(result.values, path.values, rtol=1e-7, atol=1e-10)


@given(drawn=flows(max_k=2, max_width=8, T=3), tau=st.sampled_from([0.05, 0.2]))
def test_projected_gradient_reaches_the_qp_points(drawn, tau):
    flow, y = drawn
    exact = projected_surf(flow, y, tau, bounds=(-3.0, 3.0))
    literal = projected_surf(flow, y, tau, bounds=(-3.0, 3.0), method="projected_gradient")
    for t in range(flow.T + 1):
        assert literal.values[t] == pytest.approx(exact.values[t], rel=1e-8, abs=1e-9)  # QP certificate tolerance
        if np.linalg.norm(literal.iterates[t] - exact.iterates[t]) > 1e-6:
            # Same minimal value at another point: step t's minimiser is not unique (a flat direction, or a
            # tie between pieces), so the two runs may legitimately continue from different points.
            break
    assert exact.pieces.shape == (flow.T,) and np.all(exact.pieces >= 1)
    assert exact.search_seconds.shape == exact.solve_seconds.shape == (flow.T,)


def test_bad_algorithm_2_input():
    net = ReLUNet.random([2, 4, 6], rng=0)
    flow = NetworkFlow([net, net])
    for call, message in [
        (lambda: projected_surf(flow, np.zeros(6), 0.0), "tau"),
        (lambda: projected_surf(flow, np.zeros(6), -1.0), "tau"),
        (lambda: projected_surf(flow, np.zeros(6), 0.1, method="newton"), "method"),
        (lambda: projected_surf(flow, np.zeros(6), 0.1, lr=0.0), "lr"),
        (lambda: projected_surf([net, net], np.zeros(6), 0.1), "flow"),
        (lambda: projected_surf(flow, np.zeros(5), 0.1), "y"),
        (lambda: projected_surf(flow, np.zeros(6), 0.1, x0=[0.0]), r"x0.*\(2,\)"),
        (lambda: projected_surf(flow, np.zeros(6), 0.1, x0=[np.inf, 0.0]), "x0"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()


def test_a_qp_failure_inside_algorithm_2_names_the_step_and_the_piece(monkeypatch):
    from landscape import QPSolveError, qp

    real = qp.PolytopeQP.solve

    def failing_in_algorithm_2(self, M, v, G, h, what="polytope"):
        if what.startswith("Algorithm 2, step t=2"):
            raise QPSolveError(f"{what}: no certified optimum")
        return real(self, M, v, G, h, what)

    monkeypatch.setattr(qp.PolytopeQP, "solve", failing_in_algorithm_2)
    flow = NetworkFlow.smooth_random([2, 5, 8], T=3, amplitude=0.05, rng=0)
    with pytest.raises(QPSolveError, match=r"Algorithm 2, step t=2, piece 0 of \d+: region [0-9a-f]+: no certified"):
        projected_surf(flow, flow[3].forward([0.2, 0.1]), 0.1, bounds=(-2.0, 2.0))


def test_algorithm_2_from_a_given_start_equals_the_default_start_at_the_global_minimiser():
    flow = NetworkFlow.smooth_random([2, 6, 12], T=4, amplitude=0.05, start_distance=0.2, rng=5)
    y = flow[4].forward([0.4, -0.3])
    default = projected_surf(flow, y, 0.1, bounds=(-2.0, 2.0))
    given = projected_surf(flow, y, 0.1, bounds=(-2.0, 2.0), x0=default.iterates[0])
    np.testing.assert_array_equal(given.iterates, default.iterates)
    np.testing.assert_allclose(given.values, default.values, rtol=1e-12)


def kink_network():
    """G(x) = relu(x) + relu(-x) + 1 = |x| + 1: with y = 0, f = (|x| + 1)^2 / 2 has its minimum on the kink at
    0, where the one-sided slopes are -1 and +1: the gradient never becomes small."""
    return ReLUNet([np.array([[1.0], [-1.0]])], biases=[np.zeros(2)], readout=np.array([[1.0, 1.0]]),
                   readout_bias=np.array([1.0]))


def test_a_minimum_on_a_kink_stops_by_the_stall_rule_not_the_step_cap():
    net = kink_network()
    capped = regular_descent(net, [0.0], x0=[0.7], max_steps=3000)
    assert not capped.converged and not capped.stalled and capped.total_steps == 3000
    stopped = regular_descent(net, [0.0], x0=[0.7], max_steps=3000, stall_window=50, stall_tol=1e-6)
    assert stopped.stalled and not stopped.converged and stopped.total_steps < 3000
    assert stopped.x.shape == (1,) and abs(stopped.x[0]) < 0.01
    with pytest.raises(ValueError, match="stall_window must be an integer >= 1"):
        regular_descent(net, [0.0], stall_window=0)


def test_steps_to_target_is_the_first_step_within_the_radius():
    net = ReLUNet.random([2, 10, 20], out_dim=15, rng=4)
    rng = np.random.default_rng(5)
    x_star, x0 = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (3, 2))
    Y = net.forward(x_star)
    run = regular_descent(net, Y, x0=x0, x_star=x_star, radius=0.05, tol=0.0, max_steps=400)
    for b in range(3):
        first = run.steps_to_target[b]
        if first < 0:
            assert all(np.linalg.norm(regular_descent(net, Y[b], x0=x0[b], tol=0.0, max_steps=n).x - x_star[b])
                       >= 0.05 for n in (1, 100, 400))
            continue
        before = regular_descent(net, Y[b], x0=x0[b], tol=0.0, max_steps=first - 1).x if first > 1 else x0[b]
        at = regular_descent(net, Y[b], x0=x0[b], tol=0.0, max_steps=first).x
        assert np.linalg.norm(before - x_star[b]) >= 0.05 > np.linalg.norm(at - x_star[b])
    assert (run.steps_to_target >= 0).any()
    flow = NetworkFlow([net, net])
    assert (surf(flow, Y, x0=x_star, x_star=x_star, steps=[3]).steps_to_target == 0).all()
    surfed = surf(flow, Y, x0=x0, x_star=x_star, radius=0.05, steps=[0], tol=0.0, max_steps=400)
    np.testing.assert_array_equal(surfed.steps_to_target, run.steps_to_target)


def test_adam_moments_reset_per_snapshot_on_request():
    flow = NetworkFlow.smooth_random([2, 6, 12], T=1, rng=7)
    y, x0 = flow[1].forward([0.2, -0.3]), np.array([0.5, 0.5])
    reset = surf(flow, y, x0=x0, steps=[25], reset_moments=True, max_steps=300)
    first = regular_descent(flow[0], y, x0=x0, tol=0.0, max_steps=25)
    second = regular_descent(flow[1], y, x0=first.x, max_steps=300)
    np.testing.assert_array_equal(reset.x, second.x)
    carried = surf(flow, y, x0=x0, steps=[25], max_steps=300)
    assert not np.array_equal(carried.x, reset.x)


@pytest.mark.parametrize("options", [
    dict(max_steps=2500),  # the default stopping rules; the cap only keeps the unconverged rows short
    dict(stall_window=20, max_steps=600),
    dict(optimizer="gd", lr=0.05, tol=1e-2, max_steps=400),
    dict(A="gaussian", stall_window=15, reset_moments=True),
    dict(tol=1e-3, x_star="generating", radius=0.05),
    dict(steps="fixed", tol=0.0, max_steps=40),
])
def test_the_compiled_engine_runs_the_numpy_iteration(options, monkeypatch):
    """The JAX loop against the NumPy loop, row for row: same step counts, stall flags, arrival steps and
    convergence flags, same points to rounding; a tiny CHUNK forces many compactions of the batch."""
    import landscape._descent_jax as compiled

    monkeypatch.setattr(compiled, "CHUNK", 7)
    flow = NetworkFlow.smooth_random([3, 16, 40], T=6, out_dim=50, readout_bias=True, rng=3)
    rng = np.random.default_rng(4)
    x_gen = rng.uniform(-1, 1, (70, 3))
    Y = flow[6].forward(x_gen) + 0.01 * rng.normal(size=(70, 50))
    options = dict(options)
    if options.get("A") == "gaussian":
        options["A"] = rng.normal(size=(20, 50)) / np.sqrt(20)
    if options.get("x_star") == "generating":
        options["x_star"] = x_gen
    schedule = {"steps": [9, 0, 5, 3, 2, 1]} if options.pop("steps", None) == "fixed" else {"budget": 60}
    runs = {engine: (surf(flow, Y, x0=x_gen[::-1], engine=engine, **schedule, **options),
                     regular_descent(flow[6], Y, x0=x_gen[::-1], engine=engine,
                                     **{key: value for key, value in options.items() if key != "reset_moments"}))
            for engine in ("numpy", "jax")}
    for ours, reference in zip(runs["jax"], runs["numpy"]):
        np.testing.assert_array_equal(ours.steps, reference.steps)
        np.testing.assert_array_equal(ours.stalled, reference.stalled)
        np.testing.assert_array_equal(ours.converged, reference.converged)
        if reference.steps_to_target is not None:
            np.testing.assert_array_equal(ours.steps_to_target, reference.steps_to_target)
        np.testing.assert_allclose(ours.iterates, reference.iterates, rtol=1e-9, atol=1e-12)
    if "budget" in schedule:  # rows left the batch at different steps
        assert len(set(runs["numpy"][1].total_steps.tolist())) > 1


def test_engine_is_checked_and_auto_follows_the_batch_size():
    from landscape.descent import JAX_MIN_BATCH, resolve_engine

    net = ReLUNet.random([2, 6], rng=0)
    with pytest.raises(ValueError, match="engine must be 'auto', 'numpy' or 'jax'; got 'gpu'"):
        regular_descent(net, net.forward([0.1, 0.2]), engine="gpu")
    assert resolve_engine("auto", JAX_MIN_BATCH) == "jax" and resolve_engine("auto", JAX_MIN_BATCH - 1) == "numpy"


@pytest.mark.parametrize("engine", ["numpy", "jax"])
def test_the_adam_steps_are_optax_adam(engine):
    import jax
    import jax.numpy as jnp
    import optax

    net = ReLUNet.random([3, 10, 20], out_dim=15, rng=0)
    rng = np.random.default_rng(1)
    X0, Y = rng.uniform(-1, 1, (4, 3)), net.forward(rng.uniform(-1, 1, (4, 3)))
    run = regular_descent(net, Y, x0=X0, lr=0.05, betas=(0.8, 0.99), eps=1e-6, tol=0.0, max_steps=9, engine=engine)
    assert (run.total_steps == 9).all()
    f = Objective(net, Y)
    with jax.enable_x64(True):
        adam = optax.adam(0.05, b1=0.8, b2=0.99, eps=1e-6)
        params = jnp.asarray(X0)
        state = adam.init(params)
        for _ in range(9):
            updates, state = adam.update(jnp.asarray(f.grad(np.asarray(params))), state)
            params = optax.apply_updates(params, updates)
        np.testing.assert_allclose(run.x, np.asarray(params), rtol=1e-12, atol=1e-14)
