"""Training flows: exact export, determinism, resume after interruption, every model, bad input."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landscape import NetworkFlow, datasets
from landscape.training import GeneratorSpec, MODELS, export_snapshot, hyperparameters, train_flow
from landscape.training import models, train
from landscape.training.__main__ import main as cli

TINY = dict(T=3, every=2, layout="mlp", hidden=(6, 5), batch=8)


def perturbed(arch, seed):
    """Initial parameters with random γ, β, running means and variances, so BN folding is not trivial."""
    params, state = models.init(arch, jax.random.PRNGKey(seed), dtype=jnp.float64)
    rng = np.random.default_rng(seed)
    params = {key: jnp.asarray(rng.uniform(0.5, 1.5, v.shape) if key.startswith("bn") and key.endswith("weight")
                               else rng.normal(0, 0.5, v.shape) if key.startswith("bn") else v)
              for key, v in params.items()}
    state = {key: jnp.asarray(rng.normal(size=v.shape) if key.endswith("mean") else rng.uniform(0.1, 3.0, v.shape))
             for key, v in state.items()}
    return params, state


@pytest.mark.parametrize("spec", [GeneratorSpec("infogan", 3, (8, 8), (12, 4, 3)), GeneratorSpec("mlp", 2, (4, 5), (7, 9)),
                                  GeneratorSpec("infogan", 2, (12, 12), (10, 3, 2))])
def test_export_equals_the_eval_mode_forward(spec):
    arch = spec.architecture()
    with jax.enable_x64(True):
        params, state = perturbed(arch, 0)
        z = np.random.default_rng(1).normal(size=(16, spec.k))
        expected = np.asarray(models.apply(arch, params, state, jnp.asarray(z), train=False)[0])
    net = export_snapshot(spec, params, state)
    assert net.output_dim == spec.n and net.readout_bias is not None
    np.testing.assert_allclose(net.forward(z), expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("dense_limit", [2**22, 0])  # the dense-matrix product, and the per-tap products
def test_dense_convolution_matches_lax(dense_limit, monkeypatch):
    monkeypatch.setattr(models, "DENSE_CONV_MAX_ENTRIES", dense_limit)
    with jax.enable_x64(True):
        rng = np.random.default_rng(2)
        x, w = jnp.asarray(rng.normal(size=(3, 2, 8, 8))), jnp.asarray(rng.normal(size=(5, 2, 4, 4)))
        layer = models.Conv2d("c", stride=2, padding=1)
        reference = jax.lax.conv_general_dilated(x, w, (2, 2), [(1, 1), (1, 1)], dimension_numbers=("NCHW", "OIHW", "NCHW"))
        np.testing.assert_allclose(np.asarray(models._conv(x, w, layer)), np.asarray(reference), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding, output_padding", [(2, 1, 0), (1, 0, 0), (3, 2, 1)])
def test_both_forms_of_the_transposed_convolution_are_pytorchs(stride, padding, output_padding, monkeypatch):
    import naive

    with jax.enable_x64(True):
        rng = np.random.default_rng(3)
        x, w = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(3, 2, 4, 3))
        layer = models.ConvTranspose2d("d", stride=stride, padding=padding, output_padding=output_padding)
        expected = np.stack([naive.conv_transpose(image, w, np.zeros(2), stride, padding, output_padding) for image in x])
        for limit in (10**9, 0):  # the dilated convolution, and the per-tap products (not jitted here: no cache)
            monkeypatch.setattr("landscape._conv_jax.TAPS_MIN_OUTPUTS", limit)
            got = np.asarray(models._conv_transpose(jnp.asarray(x), jnp.asarray(w), layer))
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def arrays_of(flow):
    return [a for net in flow.snapshots for a in net.to_arrays().values()]


def test_same_seed_is_bit_identical_and_an_interrupted_run_resumes_to_the_same_flow(tmp_path, monkeypatch):
    first = train_flow("wgangp", tmp_path / "a", seed=3, **TINY)
    assert first.record["status"] == "complete" and first.flow.T == 3
    np.testing.assert_array_equal(first.flow.times, [0, 2, 4, 6])
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [".lock", "flow.npz", "samples.png", "training.json"]

    real_save, calls = train._save_tree, []

    def dying_save(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_save(*args, **kwargs)

    monkeypatch.setattr(train, "_save_tree", dying_save)
    with pytest.raises(KeyboardInterrupt):
        train_flow("wgangp", tmp_path / "b", seed=3, **TINY)
    monkeypatch.setattr(train, "_save_tree", real_save)
    assert (tmp_path / "b" / "checkpoint.npz").exists() and not (tmp_path / "b" / "flow.npz").exists()
    resumed = train_flow("wgangp", tmp_path / "b", seed=3, **TINY)
    assert all(np.array_equal(a, b) for a, b in zip(arrays_of(first.flow), arrays_of(resumed.flow)))
    assert [i["t"] for i in resumed.record["intervals"]] == [1, 2, 3]
    assert resumed.record["intervals"] == first.record["intervals"]
    again = train_flow("wgangp", tmp_path / "a", seed=3, **TINY)  # finished: loaded, not retrained
    assert again.record["seconds"] == first.record["seconds"]
    other = train_flow("wgangp", tmp_path / "c", seed=4, **TINY)
    assert not np.array_equal(other.flow[3].weights[0], first.flow[3].weights[0])
    loaded = NetworkFlow.load(tmp_path / "a" / "flow.npz")
    assert all(np.array_equal(a, b) for a, b in zip(arrays_of(first.flow), arrays_of(loaded)))


def test_two_callers_asking_for_the_same_run_train_it_once(tmp_path, monkeypatch):
    # flock locks belong to an open file, so two threads of one process exclude each other as two processes do.
    real_compiled, compiled = train._compiled, []
    monkeypatch.setattr(train, "_compiled", lambda *args: compiled.append(1) or real_compiled(*args))
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: train_flow("wgangp", tmp_path, seed=3, **TINY), range(2)))
    assert len(compiled) == 1  # the second caller waited and read the finished flow back
    assert all(np.array_equal(a, b) for a, b in zip(arrays_of(runs[0].flow), arrays_of(runs[1].flow)))
    assert runs[0].record == runs[1].record

    def read_only(path, *args, **kwargs):  # as root the test cannot make the directory itself read-only
        if Path(path).name == ".lock":
            raise PermissionError(13, "Read-only file system", str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(train, "open", read_only, raising=False)
    assert train_flow("wgangp", tmp_path, seed=3, **TINY).record == runs[0].record  # a finished run is still read


@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_the_infogan_layout(tmp_path, model):
    run = train_flow(model, tmp_path, T=2, every=2, k=3, hidden=(8, 4, 2), batch=8)
    assert run.flow[0].widths == (3, 8, 16, 32) and run.flow[0].output_dim == 64
    assert len(run.record["intervals"]) == 2
    assert all(np.isfinite(v) for i in run.record["intervals"] for k, v in i.items())
    assert not np.array_equal(run.flow[0].weights[0], run.flow[2].weights[0])
    assert run.record["settings"]["hyperparameters"] == hyperparameters(model, batch=8).to_json()


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="model must be one of vae, gan, dcgan, wgan, wgangp; got 'began'"):
        train_flow("began", tmp_path)
    with pytest.raises(ValueError, match="T must be an integer >= 1; got 0"):
        train_flow("vae", tmp_path, T=0)
    with pytest.raises(ValueError, match="every must be an integer >= 1; got -5"):
        train_flow("vae", tmp_path, every=-5)
    odd = datasets.ImageData("odd", np.zeros((4, 6, 6)), np.zeros((2, 6, 6)), np.zeros(4), np.zeros(2))
    with pytest.raises(ValueError, match="side divisible by 4; the data's images are 6×6"):
        train_flow("vae", tmp_path, dataset=odd)
    with pytest.raises(ValueError, match=r"need about .* MiB .* above max_flow_bytes"):
        train_flow("vae", tmp_path, max_flow_bytes=10**6)
    with pytest.raises(ValueError, match=r"unknown hyper-parameters \['learning_rate'\]"):
        train_flow("dcgan", tmp_path, learning_rate=0.1)
    with pytest.raises(ValueError, match="prior must be 'normal'"):
        train_flow("vae", tmp_path, prior="uniform")
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train_flow("wgan", tmp_path, lr=float("nan"))
    with pytest.raises(FileNotFoundError, match="neither 'digits', 'mnist5k' nor an existing directory"):
        train_flow("vae", tmp_path, dataset=tmp_path / "missing")
    for bad in (float("nan"), float("inf"), -3):
        with pytest.raises(ValueError, match="max_flow_bytes must be a finite real number"):
            train_flow("vae", tmp_path, max_flow_bytes=bad)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="out '.*file' is a file, not a directory"):
        train_flow("vae", tmp_path / "file")
    with pytest.raises(ValueError, match="out '.*sub' cannot be made a directory"):
        train_flow("vae", tmp_path / "file" / "sub")
    (tmp_path / "listed").mkdir()
    (tmp_path / "listed" / "training.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="training.json is not a training record"):
        train_flow("vae", tmp_path / "listed", **TINY)
    digits = datasets.load_digits()
    broken = digits.train.copy()
    broken[3, 2, 2] = np.nan
    with pytest.raises(ValueError, match="ImageData train holds NaN or infinite pixels in 1 of its 1500 images"):
        datasets.ImageData("broken", broken, digits.test, digits.train_labels, digits.test_labels)
    with pytest.raises(ValueError, match="ImageData train holds no images"):
        datasets.ImageData("empty", broken[:0], digits.test, digits.train_labels[:0], digits.test_labels)
    with pytest.raises(ValueError, match=r"ImageData test images are \(4, 4\), the training images \(8, 8\)"):
        datasets.ImageData("mixed", digits.train, digits.test[:, :4, :4], digits.train_labels, digits.test_labels)
    train_flow("vae", tmp_path / "run", seed=1, **TINY)
    with pytest.raises(ValueError, match=r"holds a run with other settings \(seed: 1 there, 2 now\)"):
        train_flow("vae", tmp_path / "run", seed=2, **TINY)


def test_cli_trains_and_reports_errors(tmp_path, capsys):
    assert cli(["--model", "dcgan", "--out", str(tmp_path / "cli"), "--T", "2", "--every", "1", "--layout", "mlp",
                "--hidden", "5,4", "--batch", "8"]) == 0
    assert "written to" in capsys.readouterr().out
    assert NetworkFlow.load(tmp_path / "cli" / "flow.npz").T == 2
    assert cli(["--model", "dcgan", "--out", str(tmp_path / "bad"), "--T", "0"]) == 2
    assert "T must be an integer >= 1" in capsys.readouterr().err
    for bad in ("nan", "inf", "-3", "lots"):
        with pytest.raises(SystemExit) as stopped:
            cli(["--model", "vae", "--out", str(tmp_path / "bad"), "--max-flow-mb", bad])
        assert stopped.value.code == 2
        assert f"--max-flow-mb: expected a finite number of MiB > 0; got '{bad}'" in capsys.readouterr().err


def test_import_landscape_does_not_import_jax():
    code = "import sys, landscape; assert 'jax' not in sys.modules and 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_structured_run_stores_float32_state_and_loads_lazily_as_operators(tmp_path):
    options = dict(k=2, T=2, every=2, layout="infogan", hidden=(6, 3, 2), batch=8, seed=4)
    dense = train_flow("dcgan", tmp_path / "dense", structured=False, **options)
    operators = train_flow("dcgan", tmp_path / "ops", structured=True, **options)
    assert (tmp_path / "ops" / "flow").is_dir() and not (tmp_path / "ops" / "flow.npz").exists()
    with np.load(tmp_path / "ops" / "flow" / "00002.npz") as stored:
        assert {stored[key].dtype for key in stored.files} == {np.dtype(np.float32)}
    z = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    for t in range(3):
        assert operators.flow[t].structured
        np.testing.assert_allclose(operators.flow[t].forward(z), dense.flow[t].forward(z), rtol=1e-9, atol=1e-9)
    again = train_flow("dcgan", tmp_path / "ops", structured=True, **options)  # returned from disk, not retrained
    assert again.record == operators.record and again.flow[2] == operators.flow[2]
    with pytest.raises(ValueError, match="structured .True, False or 'auto'. must be True or False"):
        train_flow("dcgan", tmp_path / "x", structured="yes", **options)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_initialisation_draws_are_jaxs_own_bit_for_bit(dtype):
    from landscape import _random_jax

    key = jax.random.PRNGKey(11)
    for i, shape in enumerate([(1,), (64,), (65,), (33, 20), (3, 1, 4, 4)]):  # below, above and at powers of two
        sub = jax.random.fold_in(key, i)
        low, high = -0.1 * (i + 1), 0.05 * (i + 1)
        for drawn, direct in ((_random_jax.uniform(sub, shape, dtype, low, high),
                               jax.random.uniform(sub, shape, dtype, low, high)),
                              (_random_jax.normal(sub, shape, dtype), jax.random.normal(sub, shape, dtype))):
            assert drawn.shape == shape and drawn.dtype == direct.dtype  # float64 only where JAX has x64 enabled
            np.testing.assert_array_equal(drawn, np.asarray(direct))
