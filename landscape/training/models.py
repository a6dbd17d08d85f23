r"""Generator, critic and encoder architectures as layer lists, run by one JAX interpreter.

A generator is a list of the layers of :mod:`landscape.importing` (Linear, BatchNorm, ReLU, Unflatten,
ConvTranspose2d) with PyTorch's parameter names and layouts, so the list that trains here is the list
that :func:`landscape.importing.from_state_dict` folds into the exact eval-mode :class:`~landscape.ReLUNet`.
Two generator layouts:

- ``"mlp"``: ``k → h_1 → … → h_d → n``, each hidden layer Linear → BatchNorm1d → ReLU, a linear readout.
- ``"infogan"`` (Chen et al. 2016, the layout of §4 of the paper), scaled to an s×s image with s
  divisible by 4: Linear(k, fc) → BN → ReLU → Linear(fc, C_1 (s/4)^2) → BN → ReLU → reshape to
  (C_1, s/4, s/4) → ConvT(C_1, C_2, 4, stride 2, padding 1) → BN2d → ReLU → ConvT(C_2, 1, 4, 2, 1). Its
  ReLUNet has widths ``[k, fc, C_1 (s/4)^2, C_2 (s/2)^2]`` and n = s². ``hidden = (fc, C_1, C_2)``; the
  paper's 28×28 generator is (1024, 128, 64).

Critics (discriminators) and the VAE's encoder are used in training only and never exported; they may
use Conv2d, LeakyReLU and Flatten as well.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .. import _conv_jax, _random_jax
from ..importing import BatchNorm, ConvTranspose2d, Linear, ReLU, Unflatten

BN_MOMENTUM = 0.1
"""PyTorch's default: running ← (1 − 0.1) running + 0.1 batch statistic (unbiased variance)."""


@dataclass(frozen=True)
class Conv2d:
    """Convolution (PyTorch layout ``NAME.weight`` (C_out, C_in, kh, kw)); critics only."""

    name: str
    stride: int = 1
    padding: int = 0


@dataclass(frozen=True)
class LeakyReLU:
    slope: float = 0.2


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class Architecture:
    """A layer list with its parameter shapes; ``in_shape`` is one input's shape."""

    layers: tuple
    params: tuple[tuple[str, tuple[int, ...]], ...]
    state: tuple[tuple[str, tuple[int, ...]], ...]
    in_shape: tuple[int, ...]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(self.params)


class _Builder:
    def __init__(self, in_shape):
        self.shape, self.layers, self.params, self.state = tuple(in_shape), [], [], []

    def linear(self, name, n_out):
        (n_in,) = self.shape
        self.layers.append(Linear(name))
        self.params += [(f"{name}.weight", (n_out, n_in)), (f"{name}.bias", (n_out,))]
        self.shape = (n_out,)

    def batch_norm(self, name):
        channels = self.shape[0]
        self.layers.append(BatchNorm(name))
        self.params += [(f"{name}.weight", (channels,)), (f"{name}.bias", (channels,))]
        self.state += [(f"{name}.running_mean", (channels,)), (f"{name}.running_var", (channels,))]

    def conv_transpose(self, name, c_out, kernel=4, stride=2, padding=1):
        c_in, h, w = self.shape
        self.layers.append(ConvTranspose2d(name, stride, padding))
        self.params += [(f"{name}.weight", (c_in, c_out, kernel, kernel)), (f"{name}.bias", (c_out,))]
        self.shape = (c_out, (h - 1) * stride - 2 * padding + kernel, (w - 1) * stride - 2 * padding + kernel)

    def conv(self, name, c_out, kernel=4, stride=2, padding=1):
        c_in, h, w = self.shape
        self.layers.append(Conv2d(name, stride, padding))
        self.params += [(f"{name}.weight", (c_out, c_in, kernel, kernel)), (f"{name}.bias", (c_out,))]
        self.shape = (c_out, (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1)

    def add(self, layer, shape=None):
        self.layers.append(layer)
        if shape is not None:
            self.shape = tuple(shape)

    def build(self, in_shape):
        return Architecture(tuple(self.layers), tuple(self.params), tuple(self.state), tuple(in_shape))


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator: ``layout`` ("mlp" or "infogan"), latent dimension k, image shape and hidden sizes.

    ``hidden``: the hidden widths for "mlp" (default (64, 128, 64)); ``(fc, C_1, C_2)`` for "infogan"
    (default (128, 32, 16), the paper's (1024, 128, 64) scaled down for 8×8 images).
    """

    layout: str
    k: int
    image_shape: tuple[int, int]
    hidden: tuple[int, ...] = ()
    batch_norm: bool = True

    def __post_init__(self):
        if self.layout not in ("mlp", "infogan"):
            raise ValueError(f"layout must be 'mlp' or 'infogan'; got {self.layout!r}")
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ValueError(f"k must be an integer >= 1; got {self.k!r}")
        if not isinstance(self.hidden, (tuple, list)):
            raise ValueError(f"hidden must be a tuple of hidden sizes (integers >= 1); got {self.hidden!r}")
        if not self.hidden:
            object.__setattr__(self, "hidden", (64, 128, 64) if self.layout == "mlp" else (128, 32, 16))
        if not all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1 for h in self.hidden):
            raise ValueError(f"hidden sizes must be integers >= 1; got {self.hidden!r}")
        hidden = tuple(int(h) for h in self.hidden)
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        h, w = self.image_shape
        if self.layout == "infogan":
            if len(hidden) != 3:
                raise ValueError(f"hidden must be (fc, C_1, C_2) for the infogan layout; got {hidden}")
            if h != w or h % 4 or h < 4:
                raise ValueError(f"the infogan layout needs square images with a side divisible by 4; the data's "
                                 f"images are {h}×{w} (use layout='mlp')")

    @property
    def n(self) -> int:
        return int(np.prod(self.image_shape))

    def architecture(self) -> Architecture:
        b = _Builder((self.k,))
        if self.layout == "mlp":
            for i, width in enumerate(self.hidden, start=1):
                b.linear(f"fc{i}", width)
                if self.batch_norm:
                    b.batch_norm(f"bn{i}")
                b.add(ReLU())
            b.linear("out", self.n)
        else:
            fc, c1, c2 = self.hidden
            base = self.image_shape[0] // 4
            b.linear("fc1", fc)
            if self.batch_norm:
                b.batch_norm("bn1")
            b.add(ReLU())
            b.linear("fc2", c1 * base * base)
            if self.batch_norm:
                b.batch_norm("bn2")
            b.add(ReLU())
            b.add(Unflatten((c1, base, base)), (c1, base, base))
            b.conv_transpose("deconv1", c2)
            if self.batch_norm:
                b.batch_norm("bn3")
            b.add(ReLU())
            b.conv_transpose("deconv2", 1)
        return b.build((self.k,))

    def to_json(self) -> dict:
        return {"layout": self.layout, "k": self.k, "image_shape": list(self.image_shape),
                "hidden": list(self.hidden), "batch_norm": self.batch_norm}


def critic_architecture(layout: str, image_shape, hidden=None) -> Architecture:
    """The critic D (one real output): for "infogan" Conv(1, c_1, 4, 2, 1) → LeakyReLU(0.2) →
    Conv(c_1, c_2, 4, 2, 1) → LeakyReLU → Linear(·, 1), default (c_1, c_2) = (32, 64); for "mlp" Linear →
    LeakyReLU layers of widths ``hidden`` (default (128, 64)) → Linear(·, 1). No batch normalisation, so
    the WGAN-GP penalty's per-sample gradients are well defined."""
    h, w = image_shape
    b = _Builder((h * w,))
    if layout == "infogan":
        c1, c2 = hidden or (32, 64)
        b.add(Unflatten((1, h, w)), (1, h, w))
        b.conv("conv1", c1)
        b.add(LeakyReLU())
        b.conv("conv2", c2)
        b.add(LeakyReLU())
        b.add(Flatten(), (int(np.prod(b.shape)),))
    else:
        for i, width in enumerate(hidden or (128, 64), start=1):
            b.linear(f"fc{i}", width)
            b.add(LeakyReLU())
    b.linear("out", 1)
    return b.build((h * w,))


def encoder_architecture(image_shape, k: int, hidden=(128,)) -> Architecture:
    """The VAE's encoder, an MLP n → hidden → 2k with ReLUs: the mean and log-variance of q(x | image)."""
    h, w = image_shape
    b = _Builder((h * w,))
    for i, width in enumerate(hidden, start=1):
        b.linear(f"fc{i}", width)
        b.add(ReLU())
    b.linear("out", 2 * k)
    return b.build((h * w,))


# ---------------------------------------------------------------------------- parameters
def init(arch: Architecture, key, dtype=jnp.float32) -> tuple[dict, dict]:
    """PyTorch's default initialisation: weights and biases U(−1/√fan_in, 1/√fan_in) (fan_in of a
    transposed convolution: C_out·kh·kw, as PyTorch computes it); BN γ = 1, β = 0, running mean 0, var 1."""
    params = {}
    keys = jax.random.split(key, max(len(arch.params), 1))
    fan_in = {}
    for name, shape in arch.params:
        if name.endswith(".weight") and len(shape) > 1:
            fan_in[name.rsplit(".", 1)[0]] = int(np.prod(shape[1:]))
    batch_norms = {layer.name for layer in arch.layers if isinstance(layer, BatchNorm)}
    for (name, shape), sub in zip(arch.params, keys):
        layer = name.rsplit(".", 1)[0]
        if layer in batch_norms:
            params[name] = jnp.ones(shape, dtype) if name.endswith(".weight") else jnp.zeros(shape, dtype)
        else:
            bound = 1.0 / math.sqrt(fan_in[layer])
            params[name] = jnp.asarray(_random_jax.uniform(sub, shape, dtype, -bound, bound))
    state = {name: (jnp.zeros(shape, dtype) if name.endswith("mean") else jnp.ones(shape, dtype))
             for name, shape in arch.state}
    return params, state


@functools.lru_cache(maxsize=None)
def _conv_indices(in_shape, kernel_shape, stride, padding):
    """For a convolution of a (C_in, H, W) input: rows, columns and kernel positions of its dense matrix."""
    c_out, c_in, kh, kw = kernel_shape
    _, h, w = in_shape
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    co, oi, oj, ci, a, b = np.meshgrid(np.arange(c_out), np.arange(ho), np.arange(wo), np.arange(c_in),
                                       np.arange(kh), np.arange(kw), indexing="ij")
    i, j = oi * stride - padding + a, oj * stride - padding + b
    inside = (i >= 0) & (i < h) & (j >= 0) & (j < w)
    rows = ((co * ho + oi) * wo + oj)[inside]
    cols = ((ci * h + i) * w + j)[inside]
    taps = (((co * c_in + ci) * kh + a) * kw + b)[inside]
    return rows, cols, taps, (c_out * ho * wo, c_in * h * w), (c_out, ho, wo)


DENSE_CONV_MAX_ENTRIES = 2**22
"""A convolution whose dense matrix has at most this many entries runs as one product with that matrix (fast for the
8×8 digits' small layers); a larger one as one product per kernel tap (:func:`landscape._conv_jax.conv`)."""


def _conv(x, weight, layer: Conv2d):
    """A convolution as one matrix product: on CPU, XLA's direct convolution of 8×8 images is ~8× slower
    than multiplying by the (small) dense matrix that shares the kernel's entries. Above
    :data:`DENSE_CONV_MAX_ENTRIES` that matrix is too large, and the kernel's taps gather the input instead."""
    rows, cols, taps, shape, out_shape = _conv_indices(tuple(x.shape[1:]), tuple(weight.shape), layer.stride,
                                                       layer.padding)
    if shape[0] * shape[1] > DENSE_CONV_MAX_ENTRIES:
        return _conv_jax.conv(x, weight, layer.stride, layer.padding)
    dense = jnp.zeros(shape, weight.dtype).at[rows, cols].set(weight.ravel()[taps])
    return (x.reshape(x.shape[0], -1) @ dense.T).reshape((x.shape[0],) + out_shape)


def _conv_transpose(x, weight, layer: ConvTranspose2d):
    """PyTorch's ConvTranspose2d (:func:`landscape._conv_jax.conv_transpose`)."""
    return _conv_jax.conv_transpose(x, weight, layer.stride, layer.padding, layer.output_padding)


def apply(arch: Architecture, params: dict, state: dict, x, train: bool):
    """Run a batch ``x`` of shape (N, *in_shape) through the layers; returns (output flattened to (N, ·),
    new state). In training mode batch normalisation uses the batch's statistics and updates the running
    ones; in eval mode it uses the running statistics, as the exported ReLUNet does."""
    new_state = dict(state)
    for layer in arch.layers:
        if isinstance(layer, Linear):
            x = x @ params[f"{layer.name}.weight"].T + params[f"{layer.name}.bias"]
        elif isinstance(layer, ConvTranspose2d):
            x = _conv_transpose(x, params[f"{layer.name}.weight"], layer) + params[f"{layer.name}.bias"][None, :, None, None]
        elif isinstance(layer, Conv2d):
            x = _conv(x, params[f"{layer.name}.weight"], layer) + params[f"{layer.name}.bias"][None, :, None, None]
        elif isinstance(layer, BatchNorm):
            axes = (0,) if x.ndim == 2 else (0, 2, 3)
            shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
            mean_key, var_key = f"{layer.name}.running_mean", f"{layer.name}.running_var"
            if train:
                mean, var = x.mean(axes), x.var(axes)
                count = x.size // x.shape[1]
                new_state[mean_key] = (1 - BN_MOMENTUM) * state[mean_key] + BN_MOMENTUM * mean
                new_state[var_key] = (1 - BN_MOMENTUM) * state[var_key] + BN_MOMENTUM * var * count / max(count - 1, 1)
            else:
                mean, var = state[mean_key], state[var_key]
            gamma, beta = params[f"{layer.name}.weight"].reshape(shape), params[f"{layer.name}.bias"].reshape(shape)
            x = (x - mean.reshape(shape)) / jnp.sqrt(var.reshape(shape) + layer.eps) * gamma + beta
        elif isinstance(layer, ReLU):
            x = jnp.maximum(x, 0)
        elif isinstance(layer, LeakyReLU):
            x = jnp.where(x > 0, x, layer.slope * x)
        elif isinstance(layer, Unflatten):
            x = x.reshape((x.shape[0],) + tuple(layer.shape))
        elif isinstance(layer, Flatten):
            x = x.reshape(x.shape[0], -1)
        else:
            raise ValueError(f"unknown layer {layer!r}")
    return x.reshape(x.shape[0], -1), new_state
