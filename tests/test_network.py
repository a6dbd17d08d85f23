import numpy as np
import pytest
from hypothesis import given

import naive
from landscape import ReLUNet
from strategies import networks, seeds
from tolerances import EXACT

SHAPES = [
    ([2, 5], None, True),
    ([3, 7, 9], 11, True),
    ([2, 6, 8, 10], None, False),
    ([4, 5, 6, 7], 9, False),
]


@pytest.mark.parametrize("out_dim", [None, 6])
def test_readout_bias_shifts_the_output_and_survives_save_and_load(out_dim, tmp_path):
    plain = ReLUNet.random([3, 5, 4], out_dim=out_dim, rng=2)
    c = np.linspace(-1.0, 2.0, plain.output_dim)
    net = ReLUNet(plain.weights, plain.biases, plain.readout, readout_bias=c)
    X = np.random.default_rng(5).normal(size=(7, 3))
    np.testing.assert_allclose(net.forward(X), plain.forward(X) + c, **EXACT)
    np.testing.assert_allclose(net.forward(X), naive.forward(net, X), **EXACT)
    net.save(tmp_path / "net.npz")
    loaded = ReLUNet.load(tmp_path / "net.npz")
    assert loaded == net and loaded != plain
    np.testing.assert_array_equal(loaded.readout_bias, c)
    with pytest.raises(ValueError, match=r"readout_bias \(c\) must have shape"):
        ReLUNet(plain.weights, plain.biases, plain.readout, readout_bias=np.ones(plain.output_dim + 1))


@pytest.mark.parametrize("widths, out_dim, bias", SHAPES)
def test_forward_matches_naive(widths, out_dim, bias):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=3)
    X = np.random.default_rng(4).normal(size=(25, widths[0]))
    np.testing.assert_allclose(net.forward(X), naive.forward(net, X), **EXACT)
    np.testing.assert_allclose(net.forward(X[7]), naive.forward(net, X[7])[0], **EXACT)


@pytest.mark.parametrize("widths, out_dim, bias", SHAPES)
def test_attributes(widths, out_dim, bias):
    net = ReLUNet.random(widths, out_dim=out_dim, bias=bias, rng=0)
    assert net.widths == tuple(widths)
    assert net.depth == len(widths) - 1
    assert net.input_dim == widths[0]
    assert net.output_dim == (out_dim if out_dim else widths[-1])
    assert net.n_hidden == sum(widths[1:])
    assert (net.biases is not None) == bias
    assert (net.readout is not None) == (out_dim is not None)
    flat = 0
    for i, n_i in enumerate(widths[1:], start=1):
        for j in range(n_i):
            assert net.neuron(flat) == (i, j)
            flat += 1


def test_hand_voroninski_form_is_relu_chain():
    net = ReLUNet.random([3, 10, 20], bias=False, rng=1)
    x = np.array([0.3, -1.0, 2.0])
    W1, W2 = net.weights
    expected = np.maximum(W2 @ np.maximum(W1 @ x, 0), 0)
    np.testing.assert_allclose(net.forward(x), expected, **EXACT)


def test_random_draws_theorem_31_variances():
    # W_i, b_i ~ N(0, 1/n_i) and V ~ N(0, 1/n): check each empirical variance to 6 standard errors.
    widths, n = [40, 300, 500], 700
    net = ReLUNet.random(widths, out_dim=n, rng=11)
    arrays = [(w, widths[i + 1]) for i, w in enumerate(net.weights)]
    arrays += [(b, widths[i + 1]) for i, b in enumerate(net.biases)]
    arrays.append((net.readout, n))
    for a, width in arrays:
        var, size = 1.0 / width, a.size
        assert abs(a.var() - var) < 6 * var * np.sqrt(2.0 / size)
        assert abs(a.mean()) < 6 * np.sqrt(var / size)


@given(seed=seeds)
def test_same_seed_same_network(seed):
    a = ReLUNet.random([3, 6, 5], out_dim=4, rng=seed)
    b = ReLUNet.random([3, 6, 5], out_dim=4, rng=np.random.default_rng(seed))
    c = ReLUNet.random([3, 6, 5], out_dim=4, rng=seed + 1)
    assert a == b
    assert a != c


@given(net=networks())
def test_save_load_round_trip_is_exact(net, tmp_path_factory):
    path = tmp_path_factory.mktemp("nets") / "net.npz"
    net.save(path)
    loaded = ReLUNet.load(path)
    assert loaded == net
    for a, b in zip(loaded.weights, net.weights):
        assert a.tobytes() == b.tobytes()
    with np.load(path) as data:
        expected = {f"W{i}" for i in range(1, net.depth + 1)}
        if net.biases is not None:
            expected |= {f"b{i}" for i in range(1, net.depth + 1)}
        if net.readout is not None:
            expected.add("V")
        if net.readout_bias is not None:
            expected.add("c")
        assert set(data.files) == expected


def test_load_accepts_files_written_elsewhere(tmp_path):
    rng = np.random.default_rng(0)
    W1, W2, V = rng.normal(size=(4, 2)), rng.normal(size=(6, 4)), rng.normal(size=(3, 6))
    np.savez(tmp_path / "foreign.npz", W2=W2, W1=W1, V=V)
    net = ReLUNet.load(tmp_path / "foreign.npz")
    assert net.widths == (2, 4, 6) and net.biases is None
    np.testing.assert_array_equal(net.readout, V)


def test_network_is_immutable():
    source = [np.ones((3, 2))]
    net = ReLUNet(source)
    source[0][0, 0] = 5.0  # the network holds a copy
    assert net.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        net.weights[0][0, 0] = 2.0
    with pytest.raises(AttributeError):
        net.weights = ()


def test_equality_distinguishes_bias_and_readout():
    w = [np.ones((3, 2))]
    assert ReLUNet(w) == ReLUNet(w)
    assert ReLUNet(w) != ReLUNet(w, biases=[np.zeros(3)])
    assert ReLUNet(w) != ReLUNet(w, readout=np.eye(3))
    assert ReLUNet(w) != ReLUNet(w, readout_bias=np.zeros(3))
