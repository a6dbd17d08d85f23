import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscape as L
from landscape import NetworkFlow, ReLUNet
from strategies import seeds
from tolerances import EXACT


def parameters(net):
    arrays = list(net.weights) + list(net.biases or []) + ([net.readout] if net.readout is not None else [])
    return np.concatenate([a.ravel() for a in arrays])


def test_linear_flow_interpolates_every_parameter():
    a, b = ReLUNet.random([2, 5, 7], out_dim=4, rng=0), ReLUNet.random([2, 5, 7], out_dim=4, rng=1)
    flow = NetworkFlow.linear(a, b, T=8)
    assert flow.T == 8 and len(flow) == 9
    np.testing.assert_allclose(flow.times, np.arange(9) / 8)
    assert flow[0] == a and flow[8] == b
    for t, s in enumerate(flow.times):
        np.testing.assert_allclose(parameters(flow[t]), (1 - s) * parameters(a) + s * parameters(b), **EXACT)


@given(seed=seeds, modes=st.integers(1, 4), start_distance=st.sampled_from([1.0, 0.25, 0.0]))
def test_smooth_random_flow_starts_and_ends_at_random_networks(seed, modes, start_distance):
    flow = NetworkFlow.smooth_random([2, 6, 10], T=40, out_dim=5, modes=modes, start_distance=start_distance, rng=seed)
    rng = np.random.default_rng(seed)
    start, end = ReLUNet.random([2, 6, 10], 5, True, rng), ReLUNet.random([2, 6, 10], 5, True, rng)
    np.testing.assert_allclose(parameters(flow[0]),
                               parameters(end) + start_distance * (parameters(start) - parameters(end)), **EXACT)
    np.testing.assert_allclose(parameters(flow[40]), parameters(end), **EXACT)
    # Smooth: doubling T halves the first differences and quarters the second ones.
    finer = NetworkFlow.smooth_random([2, 6, 10], T=80, out_dim=5, modes=modes, start_distance=start_distance, rng=seed)
    p, q = (np.array([parameters(net) for net in f.snapshots]) for f in (flow, finer))
    assert np.abs(np.diff(q, axis=0)).max() == pytest.approx(np.abs(np.diff(p, axis=0)).max() / 2, rel=0.1)
    assert np.abs(np.diff(q, 2, axis=0)).max() == pytest.approx(np.abs(np.diff(p, 2, axis=0)).max() / 4, rel=0.1)
    again = NetworkFlow.smooth_random([2, 6, 10], 40, 5, modes=modes, start_distance=start_distance, rng=seed)
    assert flow.max_weight_norm() == again.max_weight_norm()


def test_max_weight_norm_is_the_largest_spectral_norm():
    flow = NetworkFlow.smooth_random([3, 7, 9], T=5, rng=2)
    expected = max(np.linalg.svd(w, compute_uv=False)[0] for net in flow.snapshots for w in net.weights)
    assert flow.max_weight_norm() == pytest.approx(expected, rel=1e-12)


def test_slicing_and_subsampling_keep_times_and_the_final_network():
    flow = NetworkFlow.smooth_random([2, 4, 6], T=10, rng=3)
    part = flow[2:7]
    assert part.T == 4 and part[0] == flow[2]
    np.testing.assert_array_equal(part.times, flow.times[2:7])
    sub = flow.every(3)
    assert [sub.times[i] for i in range(len(sub))] == [flow.times[t] for t in (0, 3, 6, 9, 10)]
    assert sub[len(sub) - 1] == flow[10]


@pytest.mark.parametrize("bias, out_dim", [(True, 3), (False, None)])
def test_save_load_round_trip_and_directories(tmp_path, bias, out_dim):
    flow = NetworkFlow.smooth_random([2, 4, 6], T=4, out_dim=out_dim, bias=bias, rng=4)
    flow.save(tmp_path / "flow.npz")
    loaded = NetworkFlow.load(tmp_path / "flow.npz")
    assert all(a == b for a, b in zip(loaded.snapshots, flow.snapshots))
    np.testing.assert_array_equal(loaded.times, flow.times)
    folder = tmp_path / "snapshots"
    folder.mkdir()
    for t, net in enumerate(flow.snapshots):
        net.save(folder / f"theta_{t:03d}.npz")
    from_folder = NetworkFlow.load(folder)
    assert all(a == b for a, b in zip(from_folder.snapshots, flow.snapshots))
    np.testing.assert_array_equal(from_folder.times, np.arange(5))


def test_directories_load_in_numeric_order_and_bad_files_are_refused(tmp_path):
    flow = NetworkFlow.smooth_random([2, 3, 4], T=11, rng=5)
    folder = tmp_path / "plain"
    folder.mkdir()
    for t, net in enumerate(flow.snapshots):
        net.save(folder / f"{t}.npz")
    loaded = NetworkFlow.load(folder)  # 0, 1, 2, ..., 11 -- not the name order 0, 1, 10, 11, 2, ...
    assert all(a == b for a, b in zip(loaded.snapshots, flow.snapshots))
    (folder / "3.npz").unlink()
    with pytest.raises(ValueError, match="indices must be 0..10 without gaps"):
        NetworkFlow.load(folder)
    flow.snapshots[3].save(folder / "extra3.npz")
    with pytest.raises(ValueError, match="must share one name ending in their index"):
        NetworkFlow.load(folder)
    arrays = dict(np.load(_saved(flow, tmp_path / "flow.npz")))
    np.savez(tmp_path / "more.npz", **arrays, **{"12/W1": arrays["0/W1"], "note": np.zeros(1)})
    with pytest.raises(ValueError, match=r"keys outside snapshots 0..11: \['12/W1', 'note'\]"):
        NetworkFlow.load(tmp_path / "more.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "flow.npz").read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable .npz flow file"):
        NetworkFlow.load(tmp_path / "cut.npz")


def _saved(flow, path):
    flow.save(path, compress=True)
    return path


def test_bad_flows_are_refused(tmp_path):
    a = ReLUNet.random([2, 4, 6], rng=0)
    with pytest.raises(ValueError, match="at least 2"):
        NetworkFlow([a])
    with pytest.raises(ValueError, match=r"snapshots\[1\] has architecture"):
        NetworkFlow([a, ReLUNet.random([2, 4, 7], rng=1)])
    with pytest.raises(ValueError, match=r"snapshots\[1\] has architecture"):
        NetworkFlow([a, ReLUNet.random([2, 4, 6], bias=False, rng=1)])
    with pytest.raises(ValueError, match="snapshots\\[1\\] must be a ReLUNet"):
        NetworkFlow([a, "b"])
    with pytest.raises(ValueError, match="strictly increasing"):
        NetworkFlow([a, a], times=[1.0, 1.0])
    with pytest.raises(ValueError, match="times"):
        NetworkFlow([a, a], times=[0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="T"):
        NetworkFlow.linear(a, a, T=0)
    with pytest.raises(ValueError, match="end has architecture"):
        NetworkFlow.linear(a, ReLUNet.random([2, 5, 6], rng=1), T=3)
    with pytest.raises(ValueError, match="step"):
        NetworkFlow([a, a]).every(0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="without .npz"):
        NetworkFlow.load(tmp_path / "empty")
    np.savez(tmp_path / "other.npz", W1=np.ones((2, 2)))
    with pytest.raises(ValueError, match="times"):
        NetworkFlow.load(tmp_path / "other.npz")


def two_tents(h):
    """G(x) = tent of height 1 at x = 1 plus tent of height h at x = -3."""
    return ReLUNet([np.array([[1.0], [1.0], [-1.0], [-1.0]])], biases=[np.array([0.0, -1.0, -2.0, -3.0])],
                   readout=np.array([[1.0, -2.0, h, -2.0 * h]]))


def test_minimizer_path_finds_the_jump_between_two_wells():
    # With y = 2, f has local minima at x = 1 (f = 1/2) and x = -3 (f = (h - 2)^2 / 2): the global one
    # jumps from 1 to -3 when h crosses 1, between snapshots 4 (h = 0.95) and 5 (h = 1.05).
    flow = NetworkFlow([two_tents(h) for h in np.linspace(0.55, 1.55, 11)])
    path = L.minimizer_path(flow, [2.0], bounds=(-6.0, 6.0))
    np.testing.assert_allclose(path.minimizers[:5, 0], 1.0, atol=1e-8)
    np.testing.assert_allclose(path.minimizers[5:, 0], -3.0, atol=1e-8)
    assert list(path.jumps) == [4]
    assert path.L == pytest.approx(4.0, abs=1e-7)
    assert path.unique.all() and np.all(path.gaps > 0)
    still = L.minimizer_path(NetworkFlow([two_tents(0.5)] * 3), [2.0], bounds=(-6.0, 6.0))
    assert still.L == 0.0 and len(still.jumps) == 0


def test_weight_and_step_norms_by_definition():
    flow = NetworkFlow.smooth_random([2, 3, 4], T=3, out_dim=5, readout_bias=True, rng=6)
    norms = flow.weight_norms()
    assert norms.shape == (4, 2)
    for t, net in enumerate(flow.snapshots):
        for i, w in enumerate(net.weights):
            np.testing.assert_allclose(norms[t, i], np.sqrt(np.linalg.eigvalsh(w.T @ w).max()), rtol=1e-12)
    assert flow.max_weight_norm() == norms.max()
    steps = flow.step_norms()
    for t in range(1, 4):
        a, b = flow[t - 1], flow[t]
        squares = sum(np.sum((x - y) ** 2) for x, y in zip(a.weights + a.biases + (a.readout, a.readout_bias),
                                                            b.weights + b.biases + (b.readout, b.readout_bias)))
        np.testing.assert_allclose(steps[t - 1], np.sqrt(squares), rtol=1e-12)


def test_a_lazy_flow_loads_snapshots_on_access_and_holds_a_few():
    nets = [ReLUNet.random([2, 6, 9], rng=s) for s in range(6)]
    loads = []

    def load(t):
        loads.append(t)
        return nets[t]

    flow = NetworkFlow.lazy(load, 6, times=np.arange(6) * 10.0, keep=2)
    assert loads == [0, 5] and flow.T == 5  # the ends, checked at once
    assert flow[3] is nets[3] and flow[3] is nets[3] and loads.count(3) == 1
    later = flow[2:]
    assert later.T == 3 and later[0] is nets[2] and list(later.times) == [20.0, 30.0, 40.0, 50.0]
    assert [n is m for n, m in zip(flow.every(2).snapshots, nets[::2])] == [True, True, True]
    for _ in flow.snapshots:
        pass
    assert len(loads) > 6  # with keep = 2, a second pass loads again: never all six held
    Y = nets[5].forward([[0.1, 0.2]])
    np.testing.assert_array_equal(L.surf(flow, Y, budget=20, engine="numpy").x,
                                  L.surf(NetworkFlow(nets, np.arange(6) * 10.0), Y, budget=20, engine="numpy").x)
    odd = NetworkFlow.lazy(lambda t: ReLUNet.random([2, 6, 9 if t != 3 else 8], rng=t), 6)
    with pytest.raises(ValueError, match="snapshot 3 has architecture"):
        odd[3]
