"""Affine layers as operators (landscape.layers) against loops over every pixel and tap (naive.py), the importer's
dense matrix of a transposed convolution, and their own dense form."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import naive
from landscape.importing import conv_transpose_matrix
from landscape import rounding_slack
from landscape.layers import Conv2d, ConvTranspose2d, Dense, fold_batchnorm
from strategies import seeds

EXACT = dict(rtol=1e-12, atol=1e-12)


@st.composite
def conv_transposes(draw):
    rng = np.random.default_rng(draw(seeds))
    c_in, c_out, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    output_padding = draw(st.integers(0, stride - 1))
    H, W = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if (H - 1) * stride - 2 * padding + k + output_padding < 1 or (W - 1) * stride - 2 * padding + k + output_padding < 1:
        padding = 0
    layer = ConvTranspose2d(rng.normal(size=(c_in, c_out, k, k)), rng.normal(size=c_out), (c_in, H, W), stride,
                            padding, output_padding)
    return layer, rng


@st.composite
def convs(draw):
    rng = np.random.default_rng(draw(seeds))
    c_in, c_out, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 2))
    H, W = draw(st.integers(k, 6)), draw(st.integers(k, 6))
    return Conv2d(rng.normal(size=(c_out, c_in, k, k)), rng.normal(size=c_out), (c_in, H, W), stride, padding), rng


def _check_operator(layer, rng, reference):
    X = rng.normal(size=(3, layer.in_dim))
    expected = np.stack([reference(x.reshape(layer.in_shape)).reshape(-1) for x in X])
    np.testing.assert_allclose(layer.apply(X), expected, **EXACT)
    G = rng.normal(size=(2, layer.out_dim))
    np.testing.assert_allclose(np.sum(layer.linear(X[:2]) * G), np.sum(X[:2] * layer.transpose(G)), rtol=1e-12)
    M = layer.dense()
    assert M.shape == (layer.out_dim, layer.in_dim)
    np.testing.assert_allclose(X @ M.T + layer.bias, expected, **EXACT)
    np.testing.assert_allclose(G @ M, layer.transpose(G), **EXACT)
    np.testing.assert_allclose(layer.absolute_linear(np.abs(X)), np.abs(X) @ np.abs(M).T, **EXACT)
    inherited = rng.uniform(0, 1e-6, X.shape)
    np.testing.assert_allclose(rounding_slack(layer, layer.bias, X, inherited, 1e-7),
                               naive.rounding_slack(M, layer.bias, X, inherited, 1e-7), rtol=1e-12)


@given(conv_transposes())
def test_the_transposed_convolution_is_pytorchs(drawn):
    layer, rng = drawn
    _check_operator(layer, rng, lambda x: naive.conv_transpose(x, layer.kernel, layer.channel_bias, layer.stride,
                                                               layer.padding, layer.output_padding))
    np.testing.assert_allclose(layer.dense(), conv_transpose_matrix(layer.kernel, layer.in_shape, layer.stride,
                                                                     layer.padding, layer.output_padding), **EXACT)


@given(convs())
def test_the_convolution_is_pytorchs(drawn):
    layer, rng = drawn
    _check_operator(layer, rng, lambda x: naive.conv(x, layer.kernel, layer.channel_bias, layer.stride, layer.padding))


def test_the_papers_transposed_convolutions_have_the_papers_shapes():
    rng = np.random.default_rng(0)
    first = ConvTranspose2d(rng.normal(size=(128, 64, 4, 4)), np.zeros(64), (128, 7, 7), stride=2, padding=1)
    second = ConvTranspose2d(rng.normal(size=(64, 1, 4, 4)), np.zeros(1), first.out_shape, stride=2, padding=1)
    assert first.out_shape == (64, 14, 14) and second.out_shape == (1, 28, 28) and second.out_dim == 784
    assert first.dense_bytes() == 8 * 12544 * 6272
    with pytest.raises(MemoryError, match="needs 600 MiB of float64, above max_bytes = 512 MiB; use its operator form"):
        first.dense(max_bytes=2**29)


def test_batch_normalisation_folds_into_the_layer():
    rng = np.random.default_rng(1)
    layers = [Dense(rng.normal(size=(5, 3)), rng.normal(size=5)),
              ConvTranspose2d(rng.normal(size=(2, 3, 3, 3)), rng.normal(size=3), (2, 3, 3), stride=2, padding=1),
              Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), (2, 5, 5), stride=1, padding=1)]
    for layer in layers:
        c = layer.out_shape[0]
        gamma, beta, mean, var = rng.normal(size=c), rng.normal(size=c), rng.normal(size=c), rng.uniform(0.5, 2, c)
        X = rng.normal(size=(4, layer.in_dim))
        z = layer.apply(X).reshape(4, c, -1)
        expected = gamma[:, None] * (z - mean[:, None]) / np.sqrt(var[:, None] + 1e-5) + beta[:, None]
        np.testing.assert_allclose(fold_batchnorm(layer, gamma, beta, mean, var, 1e-5).apply(X).reshape(4, c, -1),
                                   expected, **EXACT)


def test_bad_layers_are_refused_by_name():
    with pytest.raises(ValueError, match="kernel has 2 input channels but in_shape"):
        ConvTranspose2d(np.ones((2, 1, 4, 4)), None, (3, 7, 7))
    with pytest.raises(ValueError, match=r"in_shape must be \(channels, height, width\)"):
        Conv2d(np.ones((1, 1, 3, 3)), None, (1, 5))
    with pytest.raises(ValueError, match="has an empty output"):
        Conv2d(np.ones((1, 1, 5, 5)), None, (1, 3, 3))
    with pytest.raises(ValueError, match=r"kernel \(Conv2d: C_out, C_in, kh, kw\) must be finite"):
        Conv2d(np.full((1, 1, 3, 3), np.nan), None, (1, 5, 5))
    with pytest.raises(ValueError, match="bias \\(one per output channel\\) must have shape \\(2,\\)"):
        ConvTranspose2d(np.ones((1, 2, 2, 2)), np.ones(3), (1, 2, 2))
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        Conv2d(np.ones((1, 1, 3, 3)), None, (1, 5, 5), padding=0.5)
    assert Dense(np.eye(2)) == Dense(np.eye(2)) and Dense(np.eye(2)) != Dense(2 * np.eye(2))


def test_the_spectral_norm_by_power_iteration_meets_lapacks(monkeypatch):
    rng = np.random.default_rng(3)
    layer = ConvTranspose2d(rng.normal(size=(3, 2, 4, 4)), None, (3, 5, 5), stride=2, padding=1)
    exact = layer.spectral_norm()
    np.testing.assert_allclose(exact, np.linalg.norm(layer.dense(), 2), rtol=1e-14)
    monkeypatch.setattr("landscape.layers.SPECTRAL_DENSE_BYTES", 0)  # force the power iteration
    np.testing.assert_allclose(layer.spectral_norm(iterations=5000), exact, rtol=1e-8)


@pytest.mark.parametrize("shape", [(300, 260), (260, 300)])
def test_a_large_dense_layers_norm_by_its_gram_matrix_is_lapacks(shape):
    W = np.random.default_rng(4).normal(size=shape)
    W[:, 0] *= 30.0  # a dominant direction, as trained layers have
    np.testing.assert_allclose(Dense(W).spectral_norm(), np.linalg.norm(W, 2), rtol=1e-13)
