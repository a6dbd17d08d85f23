import numpy as np
import pytest

import landscape as L
from landscape.inversion import (BUDGETED, FLOW_METHODS, METHODS, STOPS, LearnedLandscape, admm, csgm,
                                 invert_with_landscape, landscape_learning, layerwise_lp, learn_landscape, negation_check,
                                 projected_surf, regular_descent)
from landscape.inversion.admm import relu_graph_projection
from naive import relu_graph_distance_by_grid


def test_relu_graph_projection_is_the_nearest_point_of_the_graph():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200) * 2, rng.normal(size=200) * 2
    p, q = relu_graph_projection(a, b)
    np.testing.assert_array_equal(q, np.maximum(p, 0.0))  # on the graph
    for i in range(0, 200, 10):
        assert (p[i] - a[i]) ** 2 + (q[i] - b[i]) ** 2 == pytest.approx(relu_graph_distance_by_grid(a[i], b[i]), abs=1e-7)


def _expansive(rng=0, bias=True):
    net = L.ReLUNet.random([2, 20, 60], out_dim=80, bias=bias, rng=rng)
    x_star = np.random.default_rng(1).uniform(-1, 1, (6, 2))
    return net, x_star, net.forward(x_star)


def test_admm_and_the_layerwise_lp_recover_targets_in_the_range_of_an_expansive_network():
    net, x_star, Y = _expansive()
    found = admm(net, Y, budget=3000, rng=2)
    np.testing.assert_allclose(found.x, x_star, atol=1e-6)
    assert found.converged.all() and found.trace["primal_residual"][-1] < 1e-6
    exact = layerwise_lp(net, Y)
    np.testing.assert_allclose(exact.x, x_star, atol=1e-8)
    assert max(exact.per_target["fit"]) < 1e-9 and (exact.cost == 2).all() and exact.unit == "LPs"
    assert exact.converged.all() and found.unit == "ADMM iterations"
    with pytest.raises(ValueError, match="full column rank"):
        layerwise_lp(net, Y, A=L.gaussian_measurements(10, 80, rng=3))


def test_negation_check_leaves_the_mirror_basin():
    net, x_star, Y = _expansive(rng=4, bias=False)  # Hand–Voroninski form: a spurious basin near −ρ x*
    mirrored = negation_check(net, Y, x0=-x_star, budget=3000)
    assert (mirrored.per_target["negations"] >= 1).all()
    np.testing.assert_allclose(mirrored.x, x_star, atol=1e-3)


def test_negation_check_compiled_loop_takes_the_numpy_loops_steps(monkeypatch):
    monkeypatch.setattr("landscape.inversion.negation.CHUNK", 8)  # many chunks: finished rows are gathered out
    rng, seen = np.random.default_rng(3), []
    for net in (L.ReLUNet.random([2, 20, 60], out_dim=80, rng=1), L.ReLUNet.random([3, 10, 30], bias=False, rng=2)):
        X0 = rng.uniform(-1, 1, (9, net.input_dim))
        Y = net.forward(-0.8 * X0 + 0.1)
        for A in (None, L.gaussian_measurements(15, net.output_dim, rng=4)):
            numpy_run = negation_check(net, Y, A, budget=150, x0=X0, engine="numpy")
            compiled = negation_check(net, Y, A, budget=150, x0=X0, engine="jax")
            np.testing.assert_allclose(compiled.x, numpy_run.x, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(compiled.cost, numpy_run.cost)
            np.testing.assert_array_equal(compiled.per_target["negations"], numpy_run.per_target["negations"])
            np.testing.assert_array_equal(compiled.converged, numpy_run.converged)
            seen.append(numpy_run)
    converged = np.concatenate([run.converged for run in seen])
    assert converged.any() and not converged.all()  # rows that stop and rows that run out the budget
    assert all(run.per_target["negations"].any() for run in seen)
    with pytest.raises(ValueError, match="engine must be"):
        negation_check(net, Y, engine="gpu")


def test_csgm_keeps_the_best_of_its_restarts():
    net, _, Y = _expansive(rng=5)
    restarts, budget = 3, 600
    best = csgm(net, Y, budget=budget, restarts=restarts, rng=np.random.default_rng(7))
    X0 = np.random.default_rng(7).uniform(-1, 1, (restarts * len(Y), 2))
    each = [regular_descent(net, Y, budget=budget // restarts, x0=X0[r * len(Y):(r + 1) * len(Y)]).value
            for r in range(restarts)]
    np.testing.assert_allclose(best.value, np.min(each, axis=0), rtol=1e-9, atol=1e-15)


def test_landscape_learning_takes_fewer_steps_on_held_out_targets():
    # Seed 004's claim, on a random expansive network: the learned map shortens descent on targets it never saw.
    # The comparison is the same compiled Adam loop through the identity map, i.e. Adam on f itself.
    net = L.ReLUNet.random([2, 20, 60], out_dim=80, rng=0)
    rng = np.random.default_rng(0)
    learned = learn_landscape(net, net.forward(rng.uniform(-1, 1, (500, 2))), rounds=10, trajectory_steps=500, rng=1)
    assert learned.training["gradient_evaluations"] > 0 and len(learned.training["loss_per_round"]) == 10
    x_star = rng.uniform(-1, 1, (100, 2))
    held_out = net.forward(x_star)
    identity = LearnedLandscape(np.eye(2), ((np.zeros((2, 2)), np.zeros(2)),))
    plain = invert_with_landscape(identity, net, held_out, z0=rng.uniform(-1, 1, (100, 2)))
    np.testing.assert_allclose(identity(x_star), x_star)
    found = invert_with_landscape(learned, net, held_out, rng=2)
    assert found.cost.mean() < 0.95 * plain.cost.mean() and found.unit == "gradient evaluations"
    assert np.mean(np.linalg.norm(found.x - x_star, axis=1) < 0.01) >= 0.9  # and still lands on x*
    assert found.setup["training"] is learned.training


def test_projected_surf_returns_the_exact_minimiser_path_end():
    flow = L.NetworkFlow.smooth_random([2, 12, 40], T=6, out_dim=50, start_distance=0.05, amplitude=0.05, rng=0)
    Y = flow[6].forward(np.array([[0.3, -0.4], [-0.5, 0.2]]))
    found = projected_surf(flow, Y, tau=0.05, bounds=(-3, 3))
    for x, y in zip(found.x, Y):
        exact = L.minimizer_path(flow, y, bounds=(-3, 3)).minimizers[-1]
        np.testing.assert_allclose(x, exact, atol=1e-7)
    assert (found.cost >= flow.T).all() and found.unit == "QPs"  # at least one QP per snapshot


def test_one_target_in_gives_one_point_out_with_a_named_stop():
    net = L.ReLUNet.random([2, 6, 12], out_dim=16, rng=0)
    Y = net.forward(np.random.default_rng(1).uniform(-1, 1, (2, 2)))
    flow = L.NetworkFlow([net, net])
    for name, method in METHODS.items():
        subject = flow if name in FLOW_METHODS else net
        options = {"budget": 200, "rng": 0} if name in BUDGETED else {}
        if name == "landscape_learning":
            options |= {"rounds": 1, "trajectory_steps": 20, "keep_every": 10, "update_steps": 1}
        one, batch = method(subject, Y[0], **options), method(subject, Y[:1], **options)
        assert one.method == name and one.x.shape == (2,) and batch.x.shape == (1, 2), name
        assert isinstance(one.value, float) and isinstance(one.cost, int) and one.stop in STOPS, name
        np.testing.assert_array_equal(one.x, batch.x[0])
        assert set(batch.stop) <= set(STOPS) and batch.converged.tolist() == [one.converged]


def test_every_method_refuses_bad_input():
    net, _, Y = _expansive()
    flow = L.NetworkFlow([net, net])
    for name, method in METHODS.items():
        subject, other = (flow, net) if name in FLOW_METHODS else (net, flow)
        with pytest.raises(ValueError, match=r"y must have shape \(80,\) for one point or \(N, 80\)"):
            method(subject, Y[:, :10])
        with pytest.raises(ValueError, match="y must hold at least one target"):
            method(subject, Y[:0])
        with pytest.raises(ValueError, match="y must be an array of real numbers; got booleans"):
            method(subject, Y > 0)
        with pytest.raises(ValueError, match="y must be real-valued; got a complex array"):
            method(subject, Y + 1j)
        with pytest.raises(ValueError, match="y must be an array of real numbers"):
            method(subject, [["a"] * 80])
        with pytest.raises(ValueError, match="NetworkFlow" if name in FLOW_METHODS else "pass flow\\[flow.T\\]"):
            method(other, Y)
        if name in BUDGETED:
            with pytest.raises(ValueError, match="budget must be an integer >= 1"):
                method(subject, Y, budget=0)
            with pytest.raises(ValueError, match="budget must be an integer >= 1"):
                method(subject, Y, budget="100")
        else:  # a direct method: no budget, no rng to accept silently
            with pytest.raises(TypeError, match="budget"):
                method(subject, Y, budget=10)
    with pytest.raises(ValueError, match="rho"):
        admm(net, Y, rho=0.0)
    for bad in (float("nan"), -1.0, 0.0):
        with pytest.raises(ValueError, match="tol"):
            admm(net, Y, tol=bad)
        with pytest.raises(ValueError, match="tol"):
            negation_check(net, Y, tol=bad)
        with pytest.raises(ValueError, match="lr"):
            negation_check(net, Y, lr=bad)
    with pytest.raises(ValueError, match="projected_surf at k = 4 needs x0"):
        projected_surf(L.NetworkFlow([L.ReLUNet.random([4, 8, 16], rng=1)] * 2), np.zeros(16))
    with pytest.raises(ValueError, match="needs an expansive network"):
        layerwise_lp(L.ReLUNet.random([3, 8, 4], out_dim=10, rng=2), np.zeros(10))
    for option, message in (({"rounds": 0}, "rounds must be an integer >= 1"),
                            ({"latent_dim": 0}, "latent_dim must be an integer >= 1"),
                            ({"hidden": (16, 0)}, "hidden must be an integer >= 1"),
                            ({"hidden": 5}, "hidden must be a tuple"),
                            ({"map_lr": 0.0}, "map_lr must be a finite real number > 0; got 0.0"),
                            ({"keep_every": 50, "trajectory_steps": 10}, "keep_every \\(50\\) must not exceed")):
        with pytest.raises(ValueError, match=message):
            learn_landscape(net, Y, **option)
    other = learn_landscape(L.ReLUNet.random([3, 8, 16], rng=1), np.zeros((4, 16)), rounds=1, trajectory_steps=20,
                            keep_every=10, update_steps=1)
    with pytest.raises(ValueError, match="maps to R\\^3 but the network's input is R\\^2"):
        landscape_learning(net, Y, landscape=other)
    with pytest.raises(ValueError, match="x0 starts z only when k' = k"):
        landscape_learning(net, Y, x0=np.zeros(2), rounds=1, trajectory_steps=20, keep_every=10, update_steps=1)


def test_the_harness_scores_every_method_against_the_exact_global_minimiser():
    from proofs_check import inversion

    result = inversion.run(networks=("random",), target_kinds=("range", "compressed"), repeats=1, targets=3,
                           random_widths=(2, 8, 16), random_out=24, budget=300, landscape_rounds=2, workers=1)
    rows = result.statistics["per_method"]
    assert {r["method"] for r in rows} == set(METHODS)
    for row in rows:
        if "not_applicable" in row:  # the layer-wise LP with m = 20 < n_d = 60
            assert row["method"] == "layerwise_lp" and row["targets"] == "compressed"
            continue
        (record,) = [r for r in result.records if r["targets"] == row["targets"]]
        run = record["methods"][row["method"]]
        assert all(b for s, b in zip(run["success"], run["basin"]) if s)  # the minimiser itself is in its basin
        assert row["basin_rate"] == np.mean(run["basin"]) and row["success_rate"] == np.mean(run["success"])
        if row["method"] != "regular_descent":
            baseline = np.asarray(record["methods"]["regular_descent"]["basin"])
            test = row["against_regular_descent"]
            assert test["only_method"] == np.sum(np.asarray(run["basin"]) & ~baseline)
            assert test["only_regular_descent"] == np.sum(baseline & ~np.asarray(run["basin"]))
            assert test["mcnemar_p"] <= test["holm_p"] <= 1
    verdicts = result.statistics["against_regular_descent"]
    assert set(verdicts) == set(METHODS) - {"regular_descent"}
    assert result.holds == all(v["better"] and not v["worse"] for v in verdicts.values())
    with pytest.raises(ValueError, match="networks must be a non-empty list"):
        inversion.run(networks=("resnet",))
    with pytest.raises(ValueError, match="projected_tau must be a finite real number > 0"):
        inversion.run(networks=("random",), projected_tau=0.0)
    for bad in (["plugin", "simulated_annealing"], [], "plugin"):
        with pytest.raises(ValueError, match="methods must be a non-empty list from regular_descent"):
            inversion.run(networks=("random",), methods=bad)


def test_the_harness_runs_a_subset_of_methods_on_the_same_targets_and_starts():
    from proofs_check import inversion

    options = {"networks": ("random",), "target_kinds": ("range",), "repeats": 1, "targets": 3,
               "random_widths": (2, 8, 16), "random_out": 24, "budget": 300, "landscape_rounds": 2, "workers": 1}
    every = inversion.run(**options).records[0]["methods"]
    some = inversion.run(**options, methods=["plugin", "langevin"]).records[0]["methods"]
    assert list(some) == ["regular_descent", "plugin", "langevin"]  # the baseline always runs
    for name in ("regular_descent", "plugin"):  # deterministic from the shared starts
        assert some[name]["gap"] == every[name]["gap"] and some[name]["basin"] == every[name]["basin"]
