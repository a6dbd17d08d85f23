import numpy as np
import pytest

import landscape as L
from landscape.inversion import METHODS, admm, csgm, layerwise_lp, negation_check, regular_adam
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
    assert max(exact.trace["fit"]) < 1e-9 and (exact.evaluations == 2).all()
    with pytest.raises(ValueError, match="full column rank"):
        layerwise_lp(net, Y, A=L.gaussian_measurements(10, 80, rng=3))


def test_negation_check_leaves_the_mirror_basin():
    net, x_star, Y = _expansive(rng=4, bias=False)  # Hand–Voroninski form: a spurious basin near −ρ x*
    mirrored = negation_check(net, Y, x0=-x_star, budget=3000)
    assert (mirrored.trace["negations"] >= 1).all()
    np.testing.assert_allclose(mirrored.x, x_star, atol=1e-3)


def test_csgm_keeps_the_best_of_its_restarts():
    net, _, Y = _expansive(rng=5)
    restarts, budget = 3, 600
    best = csgm(net, Y, budget=budget, restarts=restarts, rng=np.random.default_rng(7))
    X0 = np.random.default_rng(7).uniform(-1, 1, (restarts * len(Y), 2))
    each = [regular_adam(net, Y, budget=budget // restarts, x0=X0[r * len(Y):(r + 1) * len(Y)]).value
            for r in range(restarts)]
    np.testing.assert_allclose(best.value, np.min(each, axis=0), rtol=1e-9, atol=1e-15)


def test_every_method_refuses_bad_input():
    net, _, Y = _expansive()
    flow = L.NetworkFlow([net, net])
    for name, method in METHODS.items():
        subject = flow if name == "surfing" else net
        with pytest.raises(ValueError, match=r"y must have shape \(80,\) or \(B, 80\)"):
            method(subject, Y[:, :10])
        if name != "layerwise_lp":
            with pytest.raises(ValueError, match="budget must be an integer >= 1"):
                method(subject, Y, budget=0)
    with pytest.raises(ValueError, match="rho"):
        admm(net, Y, rho=0.0)
    with pytest.raises(ValueError, match="surfing needs a NetworkFlow"):
        METHODS["surfing"](net, Y)


def test_the_harness_scores_every_method_against_the_exact_global_minimiser():
    from proofs_check import inversion

    result = inversion.run(networks=("random",), target_kinds=("range", "compressed"), repeats=1, targets=3,
                           budget=300, workers=1)
    rows = result.statistics["per_method"]
    assert {r["method"] for r in rows} == set(METHODS)
    for row in rows:
        if "not_applicable" in row:  # the layer-wise LP with m = 20 < n_d = 60
            assert row["method"] == "layerwise_lp" and row["targets"] == "compressed"
            continue
        assert 0 <= row["success_rate"] <= row["basin_rate"] <= 1  # the minimiser itself is in its basin
    with pytest.raises(ValueError, match="networks must be a non-empty list"):
        inversion.run(networks=("resnet",))
