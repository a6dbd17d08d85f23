r"""Train a generator and record its snapshots :math:`\theta_0, \ldots, \theta_T` as a :class:`NetworkFlow`.

§4 of the paper: :math:`\theta_0` is the initialisation and :math:`\theta_t` the parameters after
``t * every`` generator updates (T = 100, every = 40 for Table 1; every = 100 for compressed sensing).
Each snapshot is exported in eval mode (batch normalisation folded with its running statistics) as an
exact :class:`~landscape.ReLUNet`.

A run writes into its output directory

- ``flow.npz``: the :class:`~landscape.NetworkFlow` (compressed), times ``s_t = t * every`` updates; or, for a
  generator whose dense form is large (``structured``), ``flow/`` — each snapshot's parameters and batch-normalisation
  statistics as training produced them (float32, one ``.npz`` per snapshot; the layers are in ``training.json``):
  the flow loads lazily, each snapshot folded in float64 into layer operators when first used;
- ``training.json``: settings, seed, data fingerprint, the losses of every interval, timings, status;
- ``samples.png``: 64 samples of :math:`G_{\theta_T}` drawn through the exported ReLUNet.
- ``.lock``: held by the process training or reading the run; a second process asking for the same run (a
  sweep's workers, two scripts) waits for it and then reads the finished flow instead of training it again.

While it runs, ``checkpoint.npz`` (the training state after the last finished snapshot) and
``snapshots/`` (one ``.npz`` per finished snapshot) are kept; running the same call again resumes from
them, bit-identically, and loses at most the interval in progress. Both are removed when the flow is
complete; calling again then returns the finished flow without training.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import datasets, importing, validate
from ..flows import NetworkFlow
from ..network import ReLUNet
from . import objectives
from .models import GeneratorSpec

DEFAULT_MAX_FLOW_BYTES = 4 * 2**30
"""Default limit on the size of a whole exported flow: T + 1 dense float64 networks, or T + 1 float32 state dicts."""
STRUCTURED_ABOVE_BYTES = 64 * 2**20
"""With ``structured="auto"``, a generator whose dense float64 form exceeds this keeps its layers as operators."""
LAZY_SNAPSHOTS_HELD = 4
"""Snapshots of a structured flow held in memory at once."""


@dataclass(frozen=True)
class TrainedFlow:
    """A finished training run: the flow, the record written to ``training.json``, and its directory."""

    flow: NetworkFlow
    record: dict
    path: Path


def export_snapshot(spec: GeneratorSpec, params: dict, state: dict, structured: bool = False) -> ReLUNet:
    """The exact eval-mode ReLUNet of generator parameters and BN statistics (float64); with ``structured``, every
    layer kept as an operator (:mod:`landscape.layers`)."""
    arrays = {key: np.asarray(value, dtype=np.float64) for key, value in {**params, **state}.items()}
    return importing.from_state_dict(arrays, spec.architecture().layers, spec.k, max_bytes=2**62, structured=structured)


def _state_arrays(params: dict, state: dict) -> dict[str, np.ndarray]:
    """What training produced for one snapshot: parameters and BN statistics, in their own dtype (float32)."""
    return {key: np.asarray(value) for key, value in {**params, **state}.items()}


def _load_state_snapshot(path: Path, spec: GeneratorSpec) -> ReLUNet:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key].astype(np.float64) for key in data.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"snapshot file {str(path)!r} is unreadable ({exc}); delete the run's directory to retrain") \
            from None
    return importing.from_state_dict(arrays, spec.architecture().layers, spec.k, structured=True)


def load_structured_flow(directory: Path, spec: GeneratorSpec, times, keep: int = LAZY_SNAPSHOTS_HELD) -> NetworkFlow:
    """The lazily loaded flow of a structured run: snapshot t from ``directory/{t:05d}.npz``."""
    return NetworkFlow.lazy(lambda t: _load_state_snapshot(directory / f"{t:05d}.npz", spec), len(times), times, keep)


@contextlib.contextmanager
def _one_process_at_a_time(out: Path):
    """Hold an exclusive lock on the run directory ``out`` (``out/.lock``, released at the latest when the process
    ends): two processes asking for the same flow (a sweep's workers, two scripts) train it once — the second waits
    and then finds it complete or resumes from its checkpoint. Without POSIX locks (Windows) or where the directory
    is read-only (a finished flow shipped with results: nothing can be trained there), no lock is taken."""
    try:
        import fcntl

        handle = open(out / ".lock", "a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same directory, then rename: a reader, or a run resumed after
    the process was killed, never sees half a file."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        write(handle)
    os.replace(temporary, path)


def _write_json(path: Path, record: dict) -> None:
    text = json.dumps(record, indent=2, allow_nan=False)
    _atomic_write(path, lambda handle: handle.write(text.encode()))


def _save_tree(path: Path, tree, extra: dict) -> None:
    """The leaves of a pytree as one byte blob (one archive entry, not one per leaf) with their dtypes and shapes."""
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(tree)]
    layout = json.dumps([[leaf.dtype.str, list(leaf.shape)] for leaf in leaves])
    blob = np.frombuffer(b"".join(leaf.tobytes() for leaf in leaves), np.uint8)
    arrays = {"blob": blob, "layout": np.array(layout), **{key: np.asarray(value) for key, value in extra.items()}}
    _atomic_write(path, lambda handle: np.savez(handle, **arrays))


def _load_tree(path: Path, template):
    leaves, treedef = jax.tree_util.tree_flatten(template)
    try:
        with np.load(path, allow_pickle=False) as data:
            blob, layout = data["blob"].tobytes(), json.loads(str(data["layout"]))
            extra = {key: data[key] for key in data.files if key not in ("blob", "layout")}
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"checkpoint {str(path)!r} is unreadable ({exc}); delete it to restart the run") from None
    expected = [[np.asarray(leaf).dtype.str, list(np.shape(leaf))] for leaf in leaves]
    if layout != expected:
        raise ValueError(f"checkpoint {str(path)!r} holds arrays {layout[:3]}..., the settings need {expected[:3]}...; "
                         "delete it to restart the run")
    loaded, offset = [], 0
    for dtype, shape in layout:
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        loaded.append(jnp.asarray(np.frombuffer(blob, dtype, count=int(np.prod(shape)), offset=offset).reshape(shape)))
        offset += size
    return jax.tree_util.tree_unflatten(treedef, loaded), extra


_COMPILED: dict = {}


def _compiled(hyper, arch, partner, every, carry, train_images, key):
    """The compiled interval of ``every`` updates, kept per process for every flow of the same shape."""
    cache_key = (hyper, arch, partner, every, train_images.shape)
    if cache_key not in _COMPILED:
        function = objectives.chunk_function(hyper, arch, partner, every)
        _COMPILED[cache_key] = function.lower(carry, train_images, key, 0).compile()
    return _COMPILED[cache_key]


def _sample_grid(net: ReLUNet, spec: GeneratorSpec, hyper, path: Path, seed: int) -> None:
    """64 samples of G_T drawn through the exported network, as an 8×8 grid of images (gray levels on
    [−1, 1], samples framed by a line of mid-gray), each pixel drawn as a 6×6 block."""
    from matplotlib.image import imsave

    rng = np.random.default_rng(seed)
    z = rng.standard_normal((64, spec.k)) if hyper.prior == "normal" else rng.uniform(-1, 1, (64, spec.k))
    h, w = spec.image_shape
    framed = np.zeros((8, 8, h + 1, w + 1))
    framed[:, :, :h, :w] = np.clip(net.forward(z).reshape(8, 8, h, w), -1, 1)
    grid = framed.transpose(0, 2, 1, 3).reshape(8 * (h + 1), 8 * (w + 1))
    imsave(path, np.kron(grid, np.ones((6, 6))), cmap="gray", vmin=-1, vmax=1)


def _settings(spec, hyper, data, T, every, seed) -> dict:
    return {"model": hyper.model, "generator": spec.to_json(), "hyperparameters": hyper.to_json(), "T": T,
            "every": every, "seed": seed, "data": {"name": data.name, "image_shape": list(data.image_shape),
                                                   "train_images": len(data.train), "sha1": data.fingerprint()}}


def _differences(old: dict, new: dict, prefix="") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} there, {b!r} now")
    return out


def train_flow(model: str, out, k: int = 5, T: int = 100, every: int = 40, layout: str = "infogan",
               hidden=None, dataset="digits", seed: int = 0, progress: bool = False,
               max_flow_bytes: int = DEFAULT_MAX_FLOW_BYTES, structured: bool | str = "auto", **hyper) -> TrainedFlow:
    r"""Train ``model`` on ``dataset`` and record the snapshots θ_0 … θ_T every ``every`` generator updates.

    Parameters
    ----------
    model : {"vae", "gan", "dcgan", "wgan", "wgangp"}
    out : path
        The run's directory (created); see the module notes for what it holds. Re-running the same call
        resumes an interrupted run, or returns a finished one; other settings in the same directory are refused.
    k : int
        Latent dimension.
    T, every : int
        Number of snapshots after θ_0, and generator updates between snapshots.
    layout, hidden
        The generator (see :class:`~landscape.training.models.GeneratorSpec`).
    dataset : "digits", a directory of MNIST-style IDX files, or an :class:`~landscape.datasets.ImageData`
    seed : int
        All randomness (initialisation, batches, latents) derives from it: the same seed gives
        bit-identical snapshots on the same machine.
    progress : bool
        Show a progress bar with the losses on stderr.
    max_flow_bytes : int
        Refuse, before training, a flow whose T + 1 snapshots exceed this size (dense float64 networks, or the
        float32 state dicts of a structured flow).
    structured : bool or "auto"
        Keep the snapshots' layers as operators, stored as training produced them and loaded lazily (True), or
        export dense networks (False); "auto": operators when one dense network would exceed
        :data:`STRUCTURED_ABOVE_BYTES`.
    **hyper
        Hyper-parameters overriding the model's defaults (:func:`~landscape.training.objectives.hyperparameters`):
        lr, beta1, beta2, momentum, n_critic, clip, gp_weight, decoder_variance, prior, batch.

    Returns
    -------
    TrainedFlow
    """
    T = validate.positive_int(T, "T")
    every = validate.positive_int(every, "every")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32); got {seed!r}")
    max_flow_bytes = validate.positive_scalar(max_flow_bytes, "max_flow_bytes")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {str(out)!r} is a file, not a directory: name a directory for the run")
    hyper = objectives.hyperparameters(model, **hyper)
    data = dataset if isinstance(dataset, datasets.ImageData) else datasets.load(dataset)
    spec = GeneratorSpec(layout, k, data.image_shape, tuple(hidden or ()))
    arch = spec.architecture()
    shapes = arch.param_shapes() | dict(arch.state)
    dense_per_network = importing.dense_bytes(arch.layers, {key: np.broadcast_to(0.0, s) for key, s in shapes.items()}, k)
    if structured == "auto":
        structured = dense_per_network > STRUCTURED_ABOVE_BYTES
    structured = validate.boolean(structured, "structured (True, False or 'auto')")
    per_network = 4 * sum(int(np.prod(s)) for s in shapes.values()) if structured else dense_per_network
    what = "float32 state dicts" if structured else "dense networks"
    if per_network * (T + 1) > max_flow_bytes:
        raise ValueError(f"the flow's T + 1 = {T + 1} {what} need about {per_network * (T + 1) / 2**20:.0f} MiB "
                         f"({per_network / 2**20:.1f} MiB each), above max_flow_bytes = {max_flow_bytes / 2**20:.0f} MiB; "
                         "raise max_flow_bytes, or lower T or the generator's widths")

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"out {str(out)!r} cannot be made a directory ({exc.strerror})") from None
    with _one_process_at_a_time(out):  # a second process asking for the same run waits, then reads it back
        settings = _settings(spec, hyper, data, T, every, int(seed))
        if structured:
            settings["structured"] = True  # a dense run's settings stay as they were, so its cached flows still match
        record_path, checkpoint_path, snapshot_dir = out / "training.json", out / "checkpoint.npz", out / "snapshots"
        record = None
        if record_path.exists():
            try:
                record = json.loads(record_path.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(f"{record_path} is not valid JSON ({exc}); delete the directory to retrain") from None
            if not isinstance(record, dict) or not isinstance(record.get("settings", {}), dict):
                raise ValueError(f"{record_path} is not a training record (a JSON object with its settings); delete the "
                                 "directory to retrain")
            differences = _differences(record.get("settings", {}), settings)
            if differences:
                raise ValueError(f"out {str(out)!r} holds a run with other settings ({'; '.join(differences)}); "
                                 "use another directory")
            if record.get("status") == "complete" and structured and (out / "flow").is_dir():
                return TrainedFlow(load_structured_flow(out / "flow", spec, np.arange(T + 1, dtype=float) * every), record,
                                   out)
            if record.get("status") == "complete" and (out / "flow.npz").exists():
                return TrainedFlow(NetworkFlow.load(out / "flow.npz"), record, out)

        partner = objectives.partner_architecture(hyper, spec)
        key = jax.random.PRNGKey(int(seed))
        carry = objectives.init_carry(hyper, arch, partner, jax.random.fold_in(key, 0))
        train_key = jax.random.fold_in(key, 1)
        done = 0
        if record is not None and checkpoint_path.exists():
            resumed, extra = _load_tree(checkpoint_path, carry)
            if all((snapshot_dir / f"{t:05d}.npz").exists() for t in range(int(extra["snapshots_done"]) + 1)):
                carry, done = resumed, int(extra["snapshots_done"])
        if done == 0:
            record = {"settings": settings, "status": "running", "intervals": [], "seconds": {}}
            shutil.rmtree(snapshot_dir, ignore_errors=True)
        snapshot_dir.mkdir(exist_ok=True)
        record["intervals"] = record["intervals"][:done]
        seconds = {"compile": 0.0, "train": 0.0, "export": 0.0, "checkpoint": 0.0, **record.get("seconds", {})}

        snapshots = [] if structured or not done else [ReLUNet.load(snapshot_dir / f"{t:05d}.npz") for t in range(done + 1)]

        def save_snapshot(t, carry):
            started = time.perf_counter()
            if structured:  # as training produced it; folded into operators when the flow is read
                arrays = _state_arrays(carry["g"], carry["g_state"])
            else:
                snapshots.append(export_snapshot(spec, carry["g"], carry["g_state"]))
                arrays = snapshots[-1].to_arrays()
            _atomic_write(snapshot_dir / f"{t:05d}.npz", lambda handle: np.savez(handle, **arrays))
            seconds["export"] += time.perf_counter() - started

        if done == 0:
            save_snapshot(0, carry)
        train_images = jnp.asarray(data.flat("train"), jnp.float32)
        started = time.perf_counter()
        run = _compiled(hyper, arch, partner, every, carry, train_images, train_key)
        seconds["compile"] += time.perf_counter() - started

        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=T, initial=done, desc=f"{model} k={k}", unit="snapshot", file=sys.stderr, dynamic_ncols=True)
        names = objectives.LOSS_NAMES[hyper.model]
        try:
            # JAX dispatches asynchronously: while interval t + 1 computes, snapshot t is exported and saved.
            pending = run(carry, train_images, train_key, done * every) if done < T else None
            for t in range(done + 1, T + 1):
                started = time.perf_counter()
                carry, losses = pending
                losses = np.asarray(jax.block_until_ready(losses), dtype=np.float64)
                seconds["train"] += time.perf_counter() - started
                if not np.all(np.isfinite(losses)):
                    raise FloatingPointError(f"training diverged in the updates before snapshot {t} (losses {losses[-1]}); "
                                             "lower the learning rate")
                if t < T:
                    pending = run(carry, train_images, train_key, t * every)
                save_snapshot(t, carry)
                started = time.perf_counter()
                record["intervals"].append({"t": t, "updates": t * every,
                                            **{name: float(losses[:, i].mean()) for i, name in enumerate(names)}})
                record["seconds"] = seconds
                # The record first, then the checkpoint: a run killed in between resumes from snapshot t - 1 and
                # truncates the record's intervals to match.
                _write_json(record_path, record)
                _save_tree(checkpoint_path, carry, {"snapshots_done": t})
                seconds["checkpoint"] += time.perf_counter() - started
                if bar is not None:
                    bar.set_postfix({name: f"{losses[:, i].mean():.3g}" for i, name in enumerate(names)})
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()

        times = np.arange(T + 1, dtype=float) * every
        if structured:
            shutil.rmtree(out / "flow", ignore_errors=True)
            os.replace(snapshot_dir, out / "flow")
            flow = load_structured_flow(out / "flow", spec, times)
        else:
            flow = NetworkFlow(snapshots, times)
            _atomic_write(out / "flow.npz", lambda handle: flow.save(handle, compress=True))
        _sample_grid(flow[T], spec, hyper, out / "samples.png", int(seed))
        record.update(status="complete", seconds=seconds, snapshot_mib=per_network / 2**20)
        _write_json(record_path, record)
        checkpoint_path.unlink(missing_ok=True)
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        return TrainedFlow(flow, record, out)
