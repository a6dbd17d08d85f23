"""Networks whose layers stay operators (ReLUNet.from_layers) against the dense form of the same network: every
function answers the same, to rounding."""

import numpy as np
import pytest

import landscape as L
from landscape.activation import affine_map_of_preactivations
from landscape.layers import Conv2d, ConvTranspose2d, Dense

CLOSE = dict(rtol=1e-11, atol=1e-11)


def small_generator(k=3, seed=0, readout=True):
    """Dense k → 2·3·3, ConvT 2 → 3 channels (3×3 → 6×6), Conv 3 → 2 channels (6×6 → 5×5), readout ConvT 2 → 1 (10×10):
    the InfoGAN shape in miniature, with a convolution as well."""
    rng = np.random.default_rng(seed)
    hidden = [Dense(rng.normal(size=(18, k)) / np.sqrt(k), rng.normal(size=18) * 0.3),
              ConvTranspose2d(rng.normal(size=(2, 3, 4, 4)) / 3, rng.normal(size=3) * 0.3, (2, 3, 3), stride=2, padding=1),
              Conv2d(rng.normal(size=(2, 3, 2, 2)) / 3, rng.normal(size=2) * 0.3, (3, 6, 6))]
    out = ConvTranspose2d(rng.normal(size=(2, 1, 4, 4)) / 3, rng.normal(size=1), (2, 5, 5), stride=2, padding=1)
    return L.ReLUNet.from_layers(hidden, out if readout else None)


def test_a_network_of_operators_answers_as_its_dense_form():
    net = small_generator()
    dense = net.densified()
    assert net.structured and not dense.structured and net.widths == dense.widths == (3, 18, 108, 50)
    assert net.output_dim == dense.output_dim == 100
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    np.testing.assert_allclose(net.forward(X), dense.forward(X), **CLOSE)
    assert net.forward(X[0]).shape == (100,)
    np.testing.assert_array_equal(L.activation_pattern(net, X).packed, L.activation_pattern(dense, X).packed)
    for a, b in zip(L.preactivations(net, X), L.preactivations(dense, X)):
        np.testing.assert_allclose(a, b, **CLOSE)
    np.testing.assert_array_equal(L.near_zero_mask(net, X, 0.2), L.near_zero_mask(dense, X, 0.2))
    np.testing.assert_array_equal(L.on_switching_hyperplanes(net, X), L.on_switching_hyperplanes(dense, X))
    for a, b in zip(L.local_affine(net, X), L.local_affine(dense, X)):
        np.testing.assert_allclose(a, b, **CLOSE)
    pattern = L.activation_pattern(net, X[0])
    for a, b in zip(L.preactivation_maps(net, pattern), L.preactivation_maps(dense, pattern)):
        np.testing.assert_allclose(a, b, **CLOSE)
    gates = pattern.unpack()
    for a, b in zip(affine_map_of_preactivations(net, *L.preactivation_maps(net, pattern), gates),
                    L.affine_map(dense, pattern)):
        np.testing.assert_allclose(a, b, **CLOSE)
    y = net.forward(rng.normal(size=3)) + 0.1 * rng.normal(size=100)
    for A in (None, L.gaussian_measurements(30, 100, rng=2)):
        f, g = L.Objective(net, y, A), L.Objective(dense, y, A)
        np.testing.assert_allclose(f.value(X), g.value(X), **CLOSE)
        np.testing.assert_allclose(f.grad(X), g.grad(X), **CLOSE)
        D = rng.normal(size=X.shape)
        np.testing.assert_allclose(f.directional_derivative(X, D), g.directional_derivative(X, D), **CLOSE)


def test_exact_geometry_and_descent_run_through_the_operators():
    net = small_generator(seed=3)
    dense = net.densified()
    rng = np.random.default_rng(4)
    x = rng.normal(size=3)
    region, twin = L.region_of(net, x), L.region_of(dense, x)
    np.testing.assert_allclose(region.G, twin.G, **CLOSE)
    np.testing.assert_allclose(region.h, twin.h, **CLOSE)
    assert [r.pattern for r in L.pieces(net, x, 0.01)] == [r.pattern for r in L.pieces(dense, x, 0.01)]
    y = net.forward(rng.normal(size=3))
    polished, expected = (L.polish_to_local_minimum(L.Objective(n, y), x) for n in (net, dense))
    np.testing.assert_allclose(polished.x, expected.x, atol=1e-9)
    starts, targets = rng.uniform(-1, 1, (5, 3)), net.forward(rng.uniform(-1, 1, (5, 3)))
    for engine in ("numpy",):
        a = L.regular_descent(net, targets, x0=starts, max_steps=300, engine=engine)
        b = L.regular_descent(dense, targets, x0=starts, max_steps=300, engine=engine)
        np.testing.assert_allclose(a.x, b.x, atol=1e-9)
        flow = L.NetworkFlow([small_generator(seed=s) for s in (5, 6, 3)])
        c = L.surf(flow, targets, x0=starts, budget=60, max_steps=300, engine=engine)
        d = L.surf(L.NetworkFlow([n.densified() for n in flow.snapshots]), targets, x0=starts, budget=60,
                   max_steps=300, engine=engine)
        np.testing.assert_allclose(c.x, d.x, atol=1e-9)


def test_a_network_of_operators_saves_refuses_dense_access_and_checks_its_chain(tmp_path):
    net = small_generator()
    net.save(tmp_path / "g.npz")
    back = L.ReLUNet.load(tmp_path / "g.npz")
    assert back == net and back != small_generator(seed=1) and back != net.densified()
    with pytest.raises(ValueError, match="keeps its layers as operators and has no dense weights.*MiB of float64"):
        net.weights
    with pytest.raises(ValueError, match="keeps its readout as an operator"):
        net.readout
    with pytest.raises(MemoryError, match="needs 0 MiB of float64, above max_bytes = 0 MiB"):
        net.densified(max_bytes=1000)
    with pytest.raises(ValueError, match=r"layer 1 outputs \(18,\) \(18 values\) but layer 2 takes \(3, 3, 3\) \(27\)"):
        L.ReLUNet.from_layers([Dense(np.ones((18, 3))), Conv2d(np.ones((1, 3, 2, 2)), None, (3, 3, 3))])
    with pytest.raises(ValueError, match="layer 2 must be a Dense, ConvTranspose2d or Conv2d"):
        L.ReLUNet.from_layers([Dense(np.ones((4, 3))), np.ones((2, 4))])
    with pytest.raises(ValueError, match="has no matrix B; use Objective.residual_operator"):
        L.Objective(net, np.zeros(100)).residual_map
    assert L.ReLUNet.from_layers([Dense(np.eye(3), np.ones(3))]) == L.ReLUNet([np.eye(3)], [np.ones(3)])


def test_the_descent_inverters_run_through_the_operators_and_the_compiled_engine_refuses_them():
    from landscape.inversion import csgm, langevin, negation_check, pgd_gan, plugin, projected_surf, regular_descent, surf

    net = small_generator(seed=7)
    dense = net.densified()
    rng = np.random.default_rng(8)
    X0, Y = rng.uniform(-1, 1, (4, 3)), net.forward(rng.uniform(-1, 1, (4, 3)))
    flow = L.NetworkFlow([small_generator(seed=9), net])
    twin = L.NetworkFlow([n.densified() for n in flow.snapshots])
    for method, subject, other, options in (
            (regular_descent, net, dense, {"x0": X0, "budget": 200}), (surf, flow, twin, {"x0": X0, "budget": 200}),
            (csgm, net, dense, {"budget": 200, "rng": 1}), (negation_check, net, dense, {"x0": X0, "budget": 200}),
            (projected_surf, flow, twin, {"x0": X0, "tau": 0.01}), (plugin, net, dense, {"x0": X0, "budget": 200}),
            (pgd_gan, net, dense, {"x0": X0, "budget": 200}), (langevin, net, dense, {"x0": X0, "budget": 200, "rng": 2})):
        np.testing.assert_allclose(method(subject, Y, **options).x, method(other, Y, **options).x, atol=1e-9)
    with pytest.raises(ValueError, match="compiled loop runs dense networks only"):
        negation_check(net, Y, x0=X0, engine="jax")


@pytest.mark.parametrize("taps_from", [4096, 0])  # XLA's dilated convolution, and one product per kernel tap
def test_the_compiled_engine_runs_the_operators_as_numpy_does(taps_from, monkeypatch):
    import jax

    monkeypatch.setattr("landscape._conv_jax.TAPS_MIN_OUTPUTS", taps_from)
    jax.clear_caches()  # the compiled loops were traced with the other form
    net = small_generator(seed=10)
    rng = np.random.default_rng(11)
    X0, Y = rng.uniform(-1, 1, (6, 3)), net.forward(rng.uniform(-1, 1, (6, 3)))
    A = L.gaussian_measurements(40, 100, rng=12)
    for measurements in ((None, A) if taps_from else (A,)):  # each compiled loop costs seconds with every tap
        runs = [L.regular_descent(net, Y, measurements, x0=X0, max_steps=150, stall_window=20, engine=engine)
                for engine in ("numpy", "jax")]
        np.testing.assert_allclose(runs[1].x, runs[0].x, rtol=1e-9, atol=1e-10)
        np.testing.assert_array_equal(runs[1].steps, runs[0].steps)
    flow = L.NetworkFlow([small_generator(seed=s) for s in (13, 14, 10)])
    runs = [L.surf(flow, Y, x0=X0, budget=40, max_steps=100, reset_moments=True, engine=engine)
            for engine in ("numpy", "jax")]
    np.testing.assert_allclose(runs[1].iterates, runs[0].iterates, rtol=1e-9, atol=1e-10)


def test_branch_and_bound_bounds_through_the_operators_equal_the_dense_ones():
    from landscape.branch_and_bound import interval_bounds, linear_bounds

    net = small_generator(seed=5)
    dense = net.densified()
    for lo, hi in ((-np.ones(3), np.ones(3)), (np.array([0.1, -0.3, 0.2]), np.array([0.2, -0.25, 0.3]))):
        for bound in (interval_bounds, linear_bounds):
            mine, theirs = bound(net, lo, hi), bound(dense, lo, hi)
            for a, b in zip((*mine.lower, *mine.upper, mine.output_lower, mine.output_upper),
                            (*theirs.lower, *theirs.upper, theirs.output_lower, theirs.output_upper)):
                np.testing.assert_allclose(a, b, **CLOSE)
            if bound is linear_bounds:
                for a, b in zip(mine.output_linear, theirs.output_linear):
                    np.testing.assert_allclose(a, b, **CLOSE)
    from landscape.branch_and_bound.triangle import triangle_bound

    y = net.forward(np.array([0.15, -0.28, 0.25])) + 0.1
    lo, hi = -np.ones(3), np.ones(3)  # 134 unstable neurons: the relaxation's bound is 0.14
    mine, theirs = (triangle_bound(n, linear_bounds(dense, lo, hi), y, None, lo, hi).value for n in (net, dense))
    assert mine > 0.1 and mine == pytest.approx(theirs, rel=1e-9)  # the triangle relaxation through the operators
    from landscape.branch_and_bound import relaxation_bounds, tangent_bound

    lo, hi = np.array([0.1, -0.3, 0.2]), np.array([0.2, -0.25, 0.3])
    points = np.array([(lo + hi) / 2, lo])
    A = L.gaussian_measurements(10, net.output_dim, rng=0)
    for measurements in (None, A):  # the tangent bound's row back-substituted through the operators
        mine, theirs = (tangent_bound(n, relaxation_bounds(n, lo, hi), measurements, y, points, lo, hi)
                        for n in (net, dense))
        assert mine[0] > 0 and mine[0] == pytest.approx(theirs[0], rel=1e-9)
        np.testing.assert_array_equal(mine[1], theirs[1])


def test_enumerated_minima_of_a_network_of_operators_are_the_dense_networks(monkeypatch):
    net = small_generator(k=2, seed=4)
    y = net.forward(np.array([0.3, -0.4])) + 0.05
    mine, theirs = (L.global_minimizer(L.Objective(n, y), bounds=(-1, 1)) for n in (net, net.densified()))
    assert mine.value == theirs.value and mine.gap == theirs.gap and len(mine.regions) == len(theirs.regions)
    np.testing.assert_array_equal(mine.x, theirs.x)
    assert [m.value for m in L.local_minima(L.Objective(net, y), bounds=(-1, 1))] == \
        [m.value for m in L.local_minima(L.Objective(net.densified(), y), bounds=(-1, 1))]
    path = L.minimizer_path(L.NetworkFlow([net, small_generator(k=2, seed=4)]), y, bounds=(-1, 1))
    np.testing.assert_array_equal(path.minimizers[0], mine.x)

    def too_large(self, max_bytes=0):
        raise MemoryError("the dense form needs 9 GiB")

    monkeypatch.setattr(L.ReLUNet, "densified", too_large)
    for call, what in [(L.global_minimizer, "global_minimizer"), (L.local_minima, "local_minima")]:
        with pytest.raises(ValueError, match=f"objective: {what} enumerates the regions.*9 GiB"):
            call(L.Objective(net, y), bounds=(-1, 1))


def test_branch_and_bound_on_a_network_of_operators_is_the_dense_networks(monkeypatch):
    net = small_generator(seed=5)
    y = net.forward(np.array([0.15, -0.28, 0.25])) + 0.1
    box = (np.array([0.0, -0.4, 0.1]), np.array([0.3, -0.1, 0.4]))
    mine, theirs = (L.branch_and_bound(L.Objective(n, y), box) for n in (net, net.densified()))
    assert mine.certified and mine.value == theirs.value and mine.nodes == theirs.nodes
    np.testing.assert_array_equal(mine.x, theirs.x)

    def too_large(self, max_bytes=0):
        raise MemoryError("the dense form needs 9 GiB")

    monkeypatch.setattr(L.ReLUNet, "densified", too_large)
    with pytest.raises(ValueError, match="objective: branch and bound solves its leaves exactly.*9 GiB"):
        L.branch_and_bound(L.Objective(net, y), box)
