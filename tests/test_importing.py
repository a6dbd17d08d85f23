"""Import of PyTorch-style state dicts, against a forward pass written here from the layers' definitions."""

import numpy as np
import pytest

from landscape.importing import (
    BatchNorm,
    ConvTranspose2d,
    Linear,
    ReLU,
    Unflatten,
    conv_transpose_matrix,
    from_state_dict,
    infer_layers,
    read_state_dict,
)
from tolerances import EXACT


def conv_transpose_loops(x, weight, bias, stride, padding, output_padding=0):
    """out[o, i s - p + a, j s - p + b] += w[c, o, a, b] x[c, i, j], by explicit loops."""
    c_in, c_out, kh, kw = weight.shape
    _, h, w = x.shape
    ho, wo = (h - 1) * stride - 2 * padding + kh + output_padding, (w - 1) * stride - 2 * padding + kw + output_padding
    out = np.zeros((c_out, ho, wo))
    for c in range(c_in):
        for i in range(h):
            for j in range(w):
                for o in range(c_out):
                    for a in range(kh):
                        for b in range(kw):
                            oi, oj = i * stride - padding + a, j * stride - padding + b
                            if 0 <= oi < ho and 0 <= oj < wo:
                                out[o, oi, oj] += weight[c, o, a, b] * x[c, i, j]
    if bias is not None:
        out += bias[:, None, None]
    return out


def batch_norm_eval(z, state, name, eps=1e-5):
    """(z - μ)/√(var + ε) γ + β per feature (flat z) or per channel (z of shape (C, H, W))."""
    gamma, beta = state[f"{name}.weight"], state[f"{name}.bias"]
    mean, var = state[f"{name}.running_mean"], state[f"{name}.running_var"]
    if z.ndim == 3:
        gamma, beta, mean, var = (v[:, None, None] for v in (gamma, beta, mean, var))
    return (z - mean) / np.sqrt(var + eps) * gamma + beta


def infogan_state(rng, k=3, fc=6, c1=4, c2=3, base=2):
    def bn(n):
        return {"weight": rng.uniform(0.5, 1.5, n), "bias": rng.normal(size=n), "running_mean": rng.normal(size=n),
                "running_var": rng.uniform(0.2, 2.0, n), "num_batches_tracked": np.array(7.0)}

    state = {"fc1.weight": rng.normal(size=(fc, k)), "fc1.bias": rng.normal(size=fc),
             "fc2.weight": rng.normal(size=(c1 * base * base, fc)), "fc2.bias": rng.normal(size=c1 * base * base),
             "deconv1.weight": rng.normal(size=(c1, c2, 4, 4)), "deconv1.bias": rng.normal(size=c2),
             "deconv2.weight": rng.normal(size=(c2, 1, 4, 4)), "deconv2.bias": rng.normal(size=1)}
    for name, n in (("bn1", fc), ("bn2", c1 * base * base), ("bn3", c2)):
        state.update({f"{name}.{key}": value for key, value in bn(n).items()})
    layers = [Linear("fc1"), BatchNorm("bn1"), ReLU(), Linear("fc2"), BatchNorm("bn2"), ReLU(),
              Unflatten((c1, base, base)), ConvTranspose2d("deconv1", 2, 1), BatchNorm("bn3"), ReLU(),
              ConvTranspose2d("deconv2", 2, 1)]
    return state, layers, (c1, base)


def infogan_forward(state, x, c1, base):
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    h = relu(batch_norm_eval(state["fc1.weight"] @ x + state["fc1.bias"], state, "bn1"))
    h = relu(batch_norm_eval(state["fc2.weight"] @ h + state["fc2.bias"], state, "bn2"))
    h = h.reshape(c1, base, base)
    h = relu(batch_norm_eval(conv_transpose_loops(h, state["deconv1.weight"], state["deconv1.bias"], 2, 1), state, "bn3"))
    return conv_transpose_loops(h, state["deconv2.weight"], state["deconv2.bias"], 2, 1).ravel()


@pytest.mark.parametrize("stride, padding, output_padding", [(2, 1, 0), (1, 0, 0), (3, 2, 1), (2, 0, 1)])
def test_conv_transpose_matrix_matches_the_loops(stride, padding, output_padding):
    rng = np.random.default_rng(stride + padding)
    weight, x = rng.normal(size=(3, 2, 3, 4)), rng.normal(size=(3, 3, 2))
    M = conv_transpose_matrix(weight, x.shape, stride, padding, output_padding)
    expected = conv_transpose_loops(x, weight, None, stride, padding, output_padding)
    np.testing.assert_allclose(M @ x.ravel(), expected.ravel(), **EXACT)


def test_infogan_layout_imports_exactly():
    state, layers, (c1, base) = infogan_state(np.random.default_rng(0))
    net = from_state_dict(state, layers)
    assert net.widths == (3, 6, 16, 48) and net.output_dim == 64 and net.readout_bias is not None
    X = np.random.default_rng(1).normal(size=(6, 3))
    expected = np.array([infogan_forward(state, x, c1, base) for x in X])
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-12, atol=1e-12)


def test_the_infogan_layout_imports_as_operators_equal_to_its_dense_import():
    state, layers, (c1, base) = infogan_state(np.random.default_rng(0))
    net = from_state_dict(state, layers, structured=True)
    assert net.structured and net.widths == (3, 6, 16, 48) and net.output_dim == 64
    X = np.random.default_rng(1).normal(size=(6, 3))
    expected = np.array([infogan_forward(state, x, c1, base) for x in X])
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.densified().forward(X), from_state_dict(state, layers).forward(X), rtol=1e-12,
                               atol=1e-12)
    with pytest.raises(ValueError, match="two affine layers without a ReLU between them"):
        from_state_dict(state, [layer for layer in layers if not isinstance(layer, ReLU)][:3] + layers[2:],
                        structured=True)


def test_a_convolution_imports_in_both_forms():
    from landscape.importing import Conv2d

    rng = np.random.default_rng(5)
    state = {"fc.weight": rng.normal(size=(2 * 4 * 4, 3)), "fc.bias": rng.normal(size=32),
             "conv.weight": rng.normal(size=(3, 2, 3, 3)), "conv.bias": rng.normal(size=3),
             "bn.weight": rng.uniform(0.5, 2, 3), "bn.bias": rng.normal(size=3), "bn.running_mean": rng.normal(size=3),
             "bn.running_var": rng.uniform(0.5, 2, 3), "out.weight": rng.normal(size=(5, 3 * 4 * 4))}
    layers = [Linear("fc"), ReLU(), Unflatten((2, 4, 4)), Conv2d("conv", 1, 1), BatchNorm("bn"), ReLU(), Linear("out")]
    dense, operators = from_state_dict(state, layers), from_state_dict(state, layers, structured=True)
    X = rng.normal(size=(4, 3))
    np.testing.assert_allclose(operators.forward(X), dense.forward(X), rtol=1e-12, atol=1e-12)
    assert dense.widths == operators.widths == (3, 32, 48)
    with pytest.raises(ValueError, match=r"so it must be \(C_out, 2, kh, kw\)"):
        from_state_dict(dict(state, **{"conv.weight": rng.normal(size=(3, 4, 3, 3))}), layers)


def test_mlp_layers_are_inferred_and_files_are_read(tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(2)
    state = {"0.weight": rng.normal(size=(5, 2)), "0.bias": rng.normal(size=5),
             "1.weight": rng.uniform(0.5, 2, 5), "1.bias": rng.normal(size=5),
             "1.running_mean": rng.normal(size=5), "1.running_var": rng.uniform(0.1, 1, 5),
             "3.weight": rng.normal(size=(7, 5)), "3.bias": rng.normal(size=7),
             "5.weight": rng.normal(size=(9, 7))}
    assert infer_layers(state) == [Linear("0"), BatchNorm("1"), ReLU(), Linear("3"), ReLU(), Linear("5")]
    x = rng.normal(size=2)
    h = np.maximum(batch_norm_eval(state["0.weight"] @ x + state["0.bias"], state, "1"), 0)
    h = np.maximum(state["3.weight"] @ h + state["3.bias"], 0)
    expected = state["5.weight"] @ h
    for dtype in (np.float64, np.float32):
        save_file({key: value.astype(dtype) for key, value in state.items()}, str(tmp_path / "g.safetensors"))
        net = from_state_dict(tmp_path / "g.safetensors")
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(net.forward(x), expected, rtol=rtol, atol=rtol)
    np.savez(tmp_path / "g.npz", **state)
    np.testing.assert_allclose(from_state_dict(tmp_path / "g.npz").forward(x), expected, **EXACT)
    assert set(read_state_dict(tmp_path / "g.npz")) == set(state)
    nested = {f"net.{key}": value for key, value in state.items()}
    assert infer_layers(nested)[0] == Linear("net.0")
    with pytest.raises(ValueError, match=r"keys under \['head'\] lie outside 'net'"):
        from_state_dict(nested | {"head.weight": rng.normal(size=(9, 9))})


def test_bad_state_dicts_are_refused_naming_the_key(tmp_path):
    state, layers, _ = infogan_state(np.random.default_rng(3))
    bad = dict(state, **{"fc2.weight": np.ones((16, 5))})
    with pytest.raises(ValueError, match=r"key 'fc2.weight' has shape \(16, 5\); layer 3 receives input of shape \(6,\)"):
        from_state_dict(bad, layers)
    with pytest.raises(ValueError, match=r"no layer uses: \['extra.weight'\]"):
        from_state_dict(dict(state, **{"extra.weight": np.ones(3)}), layers)
    missing = {key: value for key, value in state.items() if key != "bn3.running_var"}
    with pytest.raises(ValueError, match="no key 'bn3.running_var'"):
        from_state_dict(missing, layers)
    with pytest.raises(ValueError, match="4-D kernel: name the layers"):
        from_state_dict(state)
    with pytest.raises(ValueError, match=r"needs about .* MiB of float64, above max_bytes"):
        from_state_dict(state, layers, max_bytes=1000)
    with pytest.raises(ValueError, match="squashing output such as tanh"):
        from_state_dict(state, layers + ["tanh"])
    with pytest.raises(ValueError, match="Unflatten to \\(5, 2, 2\\) does not fit"):
        from_state_dict(state, [layer if not isinstance(layer, Unflatten) else Unflatten((5, 2, 2)) for layer in layers])
    (tmp_path / "cut.safetensors").write_bytes(b"\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":")
    with pytest.raises(ValueError, match="header claims 64 bytes"):
        read_state_dict(tmp_path / "cut.safetensors")
    from safetensors.numpy import save_file

    save_file({"w": np.ones((4, 4))}, str(tmp_path / "t.safetensors"))
    raw = (tmp_path / "t.safetensors").read_bytes()
    (tmp_path / "t.safetensors").write_bytes(raw[:-8])
    with pytest.raises(ValueError, match="tensor 'w' of shape \\(4, 4\\).*truncated or corrupt"):
        read_state_dict(tmp_path / "t.safetensors")
    with pytest.raises(FileNotFoundError, match="not an existing file"):
        read_state_dict(tmp_path / "nothing.npz")
