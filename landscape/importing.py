r"""Trained generators from elsewhere as exact :class:`~landscape.ReLUNet`\ s, with numpy only.

A sequential generator (PyTorch's ``nn.Sequential`` layout, or this package's own training) is a list of
layers — :class:`Linear`, :class:`ConvTranspose2d`, :class:`Conv2d`, :class:`BatchNorm`, :class:`Unflatten`,
:class:`ReLU` —
whose parameters sit in a state dict under PyTorch's key names (``NAME.weight``, ``NAME.bias``,
``NAME.running_mean``, ``NAME.running_var``). In eval mode every layer between two ReLUs is affine, so the
composition is exactly

.. math:: G(x) = V \sigma(W_d \cdots \sigma(W_1 x + b_1) \cdots + b_d) + c,

with each hidden layer :math:`(W_i, b_i)` the product of the affine layers before its ReLU and
:math:`(V, c)` the affine layers after the last ReLU. Batch normalisation is folded with its running
statistics, :math:`W' = \operatorname{diag}(\gamma/s) W`, :math:`b' = \gamma (b - \mu)/s + \beta`,
:math:`s = \sqrt{\mathrm{var} + \epsilon}`; a transposed convolution becomes its dense matrix.

Dense matrices grow fast: the 28×28 InfoGAN generator of the paper (FC 1024, FC 7·7·128, ConvT to
14×14×64, ConvT to 28×28) is about 760 MB of float64 per network. :func:`from_state_dict` refuses a
network above ``max_bytes`` (default 512 MiB), naming the estimate; raise the limit to allow it, or import it with
``structured=True``: each layer then stays an operator (:mod:`landscape.layers`, batch normalisation folded per
channel into its kernel and bias) and nothing is densified.

These classes describe a state dict's layers by their keys; the numeric operators they become are those of
:mod:`landscape.layers`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import layers as operators
from . import validate
from .network import ReLUNet

DEFAULT_MAX_BYTES = 512 * 2**20
"""Default limit on the float64 size of one exported network (all W_i, b_i, V, c)."""

_IGNORED_SUFFIXES = (".num_batches_tracked",)


# ---------------------------------------------------------------------------- layers
@dataclass(frozen=True)
class Linear:
    """``x ↦ W x + b`` with ``NAME.weight`` of shape (out, in) and optional ``NAME.bias`` (out,)."""

    name: str


@dataclass(frozen=True)
class ConvTranspose2d:
    """PyTorch's transposed convolution on (C, H, W) inputs: ``NAME.weight`` of shape (C_in, C_out, kh, kw),
    optional ``NAME.bias`` (C_out,). Output size ``(H - 1) stride - 2 padding + (kh - 1) + output_padding + 1``."""

    name: str
    stride: int = 1
    padding: int = 0
    output_padding: int = 0


@dataclass(frozen=True)
class Conv2d:
    """PyTorch's convolution on (C, H, W) inputs: ``NAME.weight`` of shape (C_out, C_in, kh, kw), optional
    ``NAME.bias`` (C_out,), zero padding. Output size ``(H + 2 padding - kh) // stride + 1``."""

    name: str
    stride: int = 1
    padding: int = 0


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation in eval mode, per feature of a flat input (BatchNorm1d) or per channel of a
    (C, H, W) input (BatchNorm2d): ``NAME.weight`` γ, ``NAME.bias`` β, ``NAME.running_mean`` μ,
    ``NAME.running_var`` var; ``eps`` > 0."""

    name: str
    eps: float = 1e-5

    def __post_init__(self):
        validate.positive_scalar(self.eps, "eps", f"eps of BatchNorm({self.name!r})")


@dataclass(frozen=True)
class Unflatten:
    """Reshape a flat input to ``shape`` = (C, H, W) in C order (PyTorch's ``view``/``Unflatten``)."""

    shape: tuple[int, int, int]


@dataclass(frozen=True)
class ReLU:
    """σ(z) = max(z, 0): ends a hidden layer of the ReLUNet."""


Layer = Linear | ConvTranspose2d | Conv2d | BatchNorm | Unflatten | ReLU


def conv_transpose_output_shape(layer: ConvTranspose2d, in_shape: tuple[int, int, int],
                                kernel_shape: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """(C_out, H_out, W_out) of a transposed convolution with a (C_in, C_out, kh, kw) kernel."""
    c_in, c_out, kh, kw = kernel_shape
    _, h, w = in_shape
    s, p, op = layer.stride, layer.padding, layer.output_padding
    return c_out, (h - 1) * s - 2 * p + kh + op, (w - 1) * s - 2 * p + kw + op


def conv_transpose_matrix(weight: np.ndarray, in_shape: tuple[int, int, int], stride: int, padding: int,
                          output_padding: int = 0) -> np.ndarray:
    r"""The dense matrix of a transposed convolution: flat (C_out, H_out, W_out) output = M · flat input.

    .. math:: \mathrm{out}[o, i s - p + a, j s - p + b] \mathrel{+}= w[c, o, a, b]\, \mathrm{in}[c, i, j]

    Each (output, input) pair receives at most one kernel entry, so M is filled by assignment.
    """
    c_in, c_out, kh, kw = weight.shape
    c, h, w = in_shape
    if c != c_in:
        raise ValueError(f"the kernel expects {c_in} input channels; the input has shape {in_shape}")
    _, ho, wo = conv_transpose_output_shape(ConvTranspose2d("", stride, padding, output_padding), in_shape, weight.shape)
    if ho < 1 or wo < 1:
        raise ValueError(f"a transposed convolution of input {in_shape} with kernel {weight.shape}, stride {stride}, "
                         f"padding {padding} has an empty output ({ho}, {wo})")
    ci, i, j, co, a, b = np.meshgrid(np.arange(c_in), np.arange(h), np.arange(w), np.arange(c_out),
                                     np.arange(kh), np.arange(kw), indexing="ij", sparse=True)
    oi, oj = i * stride - padding + a, j * stride - padding + b
    full = (c_in, h, w, c_out, kh, kw)
    inside = np.broadcast_to((oi >= 0) & (oi < ho) & (oj >= 0) & (oj < wo), full)
    rows = np.broadcast_to((co * ho + oi) * wo + oj, full)[inside]
    cols = np.broadcast_to((ci * h + i) * w + j, full)[inside]
    values = np.broadcast_to(weight[ci, co, a, b], full)[inside]
    matrix = np.zeros((c_out * ho * wo, c_in * h * w))
    matrix[rows, cols] = values
    return matrix


# ---------------------------------------------------------------------------- state dicts
def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a ``.safetensors`` or ``.npz`` file, by key, as float64 (numpy only, no PyTorch).

    ``.safetensors``: an 8-byte little-endian header length, a JSON header mapping each key to its
    dtype, shape and byte range, then the data. F64, F32, F16, BF16 and integer tensors are read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not an existing file")
    if path.suffix == ".npz":
        try:
            data = np.load(path, allow_pickle=False)
            if not hasattr(data, "files"):
                raise ValueError("it holds a single array, not an .npz archive of named arrays")
            with data:
                return {key: np.asarray(data[key], dtype=np.float64) for key in data.files}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"path {str(path)!r} is not a readable .npz file: {exc}") from None
    if path.suffix != ".safetensors":
        raise ValueError(f"path {str(path)!r} must end in .safetensors or .npz")
    return _read_safetensors(path)


_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
                       "I8": "i1", "U8": "u1", "BOOL": "?"}


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    where = f"path {str(path)!r}"
    if len(raw) < 8:
        raise ValueError(f"{where} is not a safetensors file: it holds {len(raw)} bytes")
    size = int.from_bytes(raw[:8], "little")
    if size > len(raw) - 8:
        raise ValueError(f"{where} is not a safetensors file: its header claims {size} bytes, the file holds {len(raw) - 8}")
    try:
        header = json.loads(raw[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where} has a corrupt safetensors header: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where} has a corrupt safetensors header: a JSON {type(header).__name__}, not an object "
                         "mapping each tensor's name to its dtype, shape and data_offsets")
    data = memoryview(raw)[8 + size:]
    arrays = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        fields = entry if isinstance(entry, dict) else {}
        shape, offsets = fields.get("shape"), fields.get("data_offsets")
        if (not isinstance(fields.get("dtype"), str) or not isinstance(shape, list)
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in offsets)):
            raise ValueError(f"{where}: the header's entry for tensor {key!r} is {entry!r}; expected "
                             "{\"dtype\": ..., \"shape\": [n, ...] (integers >= 0), \"data_offsets\": [begin, end]}")
        dtype, shape, (begin, end) = fields["dtype"], tuple(shape), offsets
        count = int(np.prod(shape, dtype=np.int64))
        if dtype == "BF16":
            itemsize = 2
        elif dtype in _SAFETENSORS_DTYPES:
            itemsize = np.dtype(_SAFETENSORS_DTYPES[dtype]).itemsize
        else:
            raise ValueError(f"{where}: tensor {key!r} has dtype {dtype}, which cannot be read as real numbers")
        if not 0 <= begin <= end <= len(data) or end - begin != count * itemsize:
            raise ValueError(f"{where}: tensor {key!r} of shape {shape} ({dtype}) has byte range [{begin}, {end}) "
                             f"inside a {len(data)}-byte data section (truncated or corrupt file)")
        chunk = data[begin:end]
        if dtype == "BF16":
            array = (np.frombuffer(chunk, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            array = np.frombuffer(chunk, _SAFETENSORS_DTYPES[dtype])
        arrays[key] = array.astype(np.float64).reshape(shape)
    return arrays


def infer_layers(state: Mapping[str, np.ndarray]) -> list[Layer]:
    """The layers of an MLP generator from its state dict's key names and shapes, in key order.

    A prefix with ``running_mean`` is a :class:`BatchNorm`, one with a 2-D ``weight`` a :class:`Linear`;
    a ReLU follows each batch normalisation, and each linear layer not followed by one, except the last
    layer. Every layer must sit in one container (``net.0``, ``net.2``, … or ``fc1``, ``bn1``, … at the top level): a
    key outside it (a ``head.weight`` beside ``net.*``) is refused rather than read as one more layer. Transposed
    convolutions cannot be told from convolutions by their shapes: a state dict with
    4-D weights needs its layers named.
    """
    prefixes = []
    for key in state:
        if key.endswith(_IGNORED_SUFFIXES):
            continue
        prefix = key.rsplit(".", 1)[0] if "." in key else ""
        if prefix not in prefixes:
            prefixes.append(prefix)
    containers = [prefix.rsplit(".", 1)[0] if "." in prefix else "" for prefix in prefixes]
    outside = [prefix for prefix, container in zip(prefixes, containers) if container != containers[0]]
    if outside:
        raise ValueError(f"keys under {outside} lie outside {containers[0] or 'the top level'!r}, the container of the "
                         "first layer: layers are inferred from one sequential container only; name the layers or "
                         "drop those keys")
    layers: list[Layer] = []
    for prefix in prefixes:
        if f"{prefix}.running_mean" in state:
            layers.append(BatchNorm(prefix))
        elif f"{prefix}.weight" in state and np.ndim(state[f"{prefix}.weight"]) == 2:
            layers.append(Linear(prefix))
        elif f"{prefix}.weight" in state and np.ndim(state[f"{prefix}.weight"]) == 4:
            raise ValueError(f"key {prefix + '.weight'!r} is a 4-D kernel: name the layers (ConvTranspose2d with its "
                             "stride and padding) instead of inferring them")
        else:
            raise ValueError(f"keys under {prefix!r} are neither a linear layer nor a batch normalisation; name the layers")
    with_relu: list[Layer] = []
    for index, layer in enumerate(layers):
        with_relu.append(layer)
        last = index == len(layers) - 1
        next_is_bn = not last and isinstance(layers[index + 1], BatchNorm)
        if not last and not next_is_bn:
            with_relu.append(ReLU())
    return with_relu


def _param(state, key: str, shape=None, required: bool = True):
    if key not in state:
        if required:
            raise ValueError(f"state holds no key {key!r}")
        return None
    value = np.asarray(state[key], dtype=np.float64)
    if shape is not None and value.shape != tuple(shape):
        raise ValueError(f"key {key!r} has shape {value.shape}; the layers chain to {tuple(shape)} here")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"key {key!r} holds NaN or inf values")
    return value


def _walk(layers: Sequence[Layer], state, k: int):
    """Yield (layer, in_shape, out_shape) through the layers, checking that every shape chains."""
    shape: tuple[int, ...] = (k,)
    for index, layer in enumerate(layers):
        if isinstance(layer, (Linear, ConvTranspose2d, Conv2d)):
            weight = state.get(f"{layer.name}.weight")
            if weight is None:
                raise ValueError(f"state holds no key {layer.name + '.weight'!r} (layer {index})")
        if isinstance(layer, Linear):
            if np.ndim(weight) != 2 or np.shape(weight)[1] != int(np.prod(shape)):
                raise ValueError(f"key {layer.name + '.weight'!r} has shape {np.shape(weight)}; layer {index} receives "
                                 f"input of shape {shape}, so it must be (out, {int(np.prod(shape))}) on the flat input "
                                 "(an image input is flattened in C order, as PyTorch's Flatten does)")
            out = (np.shape(weight)[0],)
        elif isinstance(layer, ConvTranspose2d):
            if len(shape) != 3 or np.ndim(weight) != 4 or np.shape(weight)[0] != shape[0]:
                raise ValueError(f"key {layer.name + '.weight'!r} has shape {np.shape(weight)}; layer {index} receives "
                                 f"input of shape {shape}, so it must be ({shape[0] if len(shape) == 3 else 'C'}, C_out, kh, kw) "
                                 "on a (C, H, W) input (add an Unflatten before it)")
            if not 0 <= layer.output_padding < max(layer.stride, 1) or layer.stride < 1 or layer.padding < 0:
                raise ValueError(f"layer {index} ({layer.name}): need stride >= 1, padding >= 0 and "
                                 f"0 <= output_padding < stride; got {layer}")
            out = conv_transpose_output_shape(layer, shape, np.shape(weight))
        elif isinstance(layer, Conv2d):
            if len(shape) != 3 or np.ndim(weight) != 4 or np.shape(weight)[1] != shape[0]:
                raise ValueError(f"key {layer.name + '.weight'!r} has shape {np.shape(weight)}; layer {index} receives "
                                 f"input of shape {shape}, so it must be (C_out, {shape[0] if len(shape) == 3 else 'C'}, "
                                 "kh, kw) on a (C, H, W) input (add an Unflatten before it)")
            kh, kw = np.shape(weight)[2:]
            out = (np.shape(weight)[0], *((n + 2 * layer.padding - k) // max(layer.stride, 1) + 1
                                          for n, k in zip(shape[1:], (kh, kw))))
            if layer.stride < 1 or layer.padding < 0 or min(out[1:]) < 1:
                raise ValueError(f"layer {index} ({layer.name}): need stride >= 1, padding >= 0 and a non-empty "
                                 f"output; got {layer} on an input of shape {shape}")
        elif isinstance(layer, Unflatten):
            if int(np.prod(layer.shape)) != int(np.prod(shape)):
                raise ValueError(f"layer {index}: Unflatten to {layer.shape} does not fit an input of shape {shape}")
            out = tuple(layer.shape)
        elif isinstance(layer, (BatchNorm, ReLU)):
            out = shape
        else:
            raise ValueError(f"layer {index} is {layer!r}; supported layers are Linear, ConvTranspose2d, Conv2d, BatchNorm, "
                             "Unflatten and ReLU (a squashing output such as tanh is not piecewise linear: export the "
                             "network without it and invert the pre-activation target instead)")
        yield layer, shape, out
        shape = out


def dense_bytes(layers: Sequence[Layer], state, k: int) -> int:
    """The float64 size of the ReLUNet the layers fold into, without building it."""
    total, rows_in, size = 0, k, k
    affine_started = False
    for layer, in_shape, out_shape in _walk(layers, state, k):
        size = int(np.prod(out_shape))
        if isinstance(layer, (Linear, ConvTranspose2d, Conv2d)):
            affine_started = True
        if isinstance(layer, ReLU):
            total += 8 * (size * rows_in + size)
            rows_in, affine_started = size, False
    if affine_started:
        total += 8 * (size * rows_in + size)
    return total


def from_state_dict(state: Mapping[str, np.ndarray] | str | os.PathLike, layers: Sequence[Layer] | None = None,
                    input_dim: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                    structured: bool = False) -> ReLUNet:
    """The exact eval-mode ReLUNet of a sequential generator given as a PyTorch-style state dict.

    Parameters
    ----------
    state : mapping of str to array_like, or a path
        Parameters under PyTorch's key names, or the path of a ``.safetensors`` / ``.npz`` file holding them
        (:func:`read_state_dict`). Keys ending in ``num_batches_tracked`` are ignored; any other key no layer
        uses is an error.
    layers : sequence of layers, optional
        The generator's layers in order; inferred for MLP generators (:func:`infer_layers`).
    input_dim : int, optional
        k; read from the first layer's weight when omitted.
    max_bytes : int
        Refuse a network whose dense float64 form would exceed this size (the dense form only).
    structured : bool
        Keep each layer as an operator (:mod:`landscape.layers`: a dense, transposed-convolution or convolution
        layer with its batch normalisation folded per channel), never densified: one affine layer between two
        ReLUs, as trained. False (default) multiplies the affine layers between ReLUs into dense matrices.
    """
    if isinstance(state, (str, os.PathLike)):
        state = read_state_dict(state)
    state = dict(state)
    if layers is None:
        layers = infer_layers(state)
    layers = list(layers)
    if not layers or not isinstance(layers[0], Linear):
        raise ValueError("layers must start with a Linear layer (the latent x enters a fully connected layer)")
    first = state.get(f"{layers[0].name}.weight")
    if first is None:
        raise ValueError(f"state holds no key {layers[0].name + '.weight'!r}")
    k = np.shape(first)[1] if input_dim is None else validate.positive_int(input_dim, "input_dim")
    if not isinstance(max_bytes, (int, np.integer)) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"max_bytes must be an integer >= 1 (bytes); got {max_bytes!r}")
    if validate.boolean(structured, "structured"):
        return _structured(state, layers, k)
    size = dense_bytes(layers, state, k)
    if size > max_bytes:
        raise ValueError(f"the dense ReLUNet of these layers needs about {size / 2**20:.0f} MiB of float64, above "
                         f"max_bytes = {max_bytes / 2**20:.0f} MiB; raise max_bytes to export it")

    used: set[str] = set()
    hidden: list[tuple[np.ndarray, np.ndarray]] = []
    W = b = None  # the affine map since the last ReLU; None: the identity
    for layer, in_shape, out_shape in _walk(layers, state, k):
        if isinstance(layer, ReLU):
            if W is None:
                raise ValueError("two ReLUs in a row (or a leading ReLU): every hidden layer needs an affine part")
            hidden.append((W, b))
            W = b = None
            continue
        if isinstance(layer, Unflatten):
            continue
        if isinstance(layer, BatchNorm):
            gamma, beta, mean, var = _batchnorm_parameters(state, layer, in_shape[0], used)
            repeat = int(np.prod(in_shape[1:]))
            scale = np.repeat(gamma / np.sqrt(var + layer.eps), repeat)
            shift = np.repeat(beta - gamma * mean / np.sqrt(var + layer.eps), repeat)
            if W is None:
                W, b = np.diag(scale), shift
            else:
                W, b = scale[:, None] * W, scale * b + shift
            continue
        weight_key, bias_key = f"{layer.name}.weight", f"{layer.name}.bias"
        weight = _param(state, weight_key)
        bias = _param(state, bias_key, required=False)
        used.update({weight_key} | ({bias_key} if bias is not None else set()))
        if bias is not None and bias.shape != (out_shape[0],):
            raise ValueError(f"key {bias_key!r} has shape {bias.shape}; expected ({out_shape[0]},)")
        bias = np.zeros(out_shape[0]) if bias is None else bias
        if isinstance(layer, Linear):
            matrix, offset = weight, bias
        elif isinstance(layer, ConvTranspose2d):
            matrix = conv_transpose_matrix(weight, in_shape, layer.stride, layer.padding, layer.output_padding)
            offset = np.repeat(bias, out_shape[1] * out_shape[2])
        else:
            matrix = operators.Conv2d(weight, None, in_shape, layer.stride, layer.padding).dense(max_bytes)
            offset = np.repeat(bias, out_shape[1] * out_shape[2])
        if W is None:
            W, b = matrix, offset
        else:
            W, b = matrix @ W, matrix @ b + offset
    unused = sorted(key for key in state if key not in used and not key.endswith(_IGNORED_SUFFIXES))
    if unused:
        raise ValueError(f"state holds keys that no layer uses: {unused}")
    if not hidden:
        raise ValueError("the layers hold no ReLU: a ReLUNet needs at least one hidden layer")
    weights, biases = [w for w, _ in hidden], [bb for _, bb in hidden]
    return ReLUNet(weights, biases, readout=W, readout_bias=b)


def _batchnorm_parameters(state, layer: BatchNorm, channels: int, used: set) -> tuple:
    gamma = _param(state, f"{layer.name}.weight", (channels,))
    beta = _param(state, f"{layer.name}.bias", (channels,))
    mean = _param(state, f"{layer.name}.running_mean", (channels,))
    var = _param(state, f"{layer.name}.running_var", (channels,))
    if np.any(var < 0):
        raise ValueError(f"key {layer.name + '.running_var'!r} holds negative variances")
    used.update(f"{layer.name}.{s}" for s in ("weight", "bias", "running_mean", "running_var"))
    return gamma, beta, mean, var


def _structured(state: dict, layers: list, k: int) -> ReLUNet:
    """:func:`from_state_dict` with every layer kept as an operator: one affine layer (and its batch normalisation)
    between two ReLUs."""
    used: set[str] = set()
    hidden, current = [], None
    for index, (layer, in_shape, out_shape) in enumerate(_walk(layers, state, k)):
        if isinstance(layer, Unflatten):
            continue
        if isinstance(layer, ReLU):
            if current is None:
                raise ValueError(f"layer {index}: a ReLU without an affine layer before it in its block")
            hidden.append(current)
            current = None
            continue
        if isinstance(layer, BatchNorm):
            if current is None:
                raise ValueError(f"layer {index} ({layer.name}): a batch normalisation before the affine layer of its "
                                 "block cannot be kept as an operator; use structured=False")
            current = operators.fold_batchnorm(current, *_batchnorm_parameters(state, layer, in_shape[0], used),
                                               layer.eps)
            continue
        if current is not None:
            raise ValueError(f"layer {index} ({layer.name}): two affine layers without a ReLU between them cannot be "
                             "kept as one operator; use structured=False")
        weight_key, bias_key = f"{layer.name}.weight", f"{layer.name}.bias"
        weight, bias = _param(state, weight_key), _param(state, bias_key, required=False)
        used.update({weight_key} | ({bias_key} if bias is not None else set()))
        if bias is not None and bias.shape != (out_shape[0],):
            raise ValueError(f"key {bias_key!r} has shape {bias.shape}; expected ({out_shape[0]},)")
        if isinstance(layer, Linear):
            current = operators.Dense(weight, bias, weight_key)
        elif isinstance(layer, ConvTranspose2d):
            current = operators.ConvTranspose2d(weight, bias, in_shape, layer.stride, layer.padding, layer.output_padding)
        else:
            current = operators.Conv2d(weight, bias, in_shape, layer.stride, layer.padding)
    unused = sorted(key for key in state if key not in used and not key.endswith(_IGNORED_SUFFIXES))
    if unused:
        raise ValueError(f"state holds keys that no layer uses: {unused}")
    if not hidden:
        raise ValueError("the layers hold no ReLU: a ReLUNet needs at least one hidden layer")
    return ReLUNet.from_layers(hidden, current)
