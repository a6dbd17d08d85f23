r"""Affine layers kept as operators: dense, transposed convolution and convolution, never densified unasked.

Each layer is an affine map :math:`z = W x + b` between flat vectors (C-major: channel, row, column, as PyTorch
flattens an image), known by what it does rather than by the matrix W:

- :meth:`Affine.apply` — :math:`W x + b` for a batch of rows; :meth:`Affine.linear` — :math:`W x` (directions:
  the forward-mode products that build G's Jacobian on a piece from k columns, never from W);
- :meth:`Affine.transpose` — :math:`W^\top g` (gradients);
- :meth:`Affine.row_norms` — :math:`\|w_j\|` for every output neuron j (rounding slacks, unit half-spaces);
- :meth:`Affine.dense` — the matrix itself, refused above ``max_bytes`` with the memory it would need.

The transposed convolution is PyTorch's ``ConvTranspose2d`` (kernel ``(C_in, C_out, kh, kw)``, stride s, padding p,
output padding q): :math:`z[o, i, j] = b_o + \sum_{c, h, w, a, b} x[c, h, w]\, K[c, o, a, b]` over
:math:`h s + a - p = i,\ w s + b - p = j`, an output of :math:`(H - 1) s - 2p + k_h + q` rows. The convolution is
PyTorch's ``Conv2d`` (kernel ``(C_out, C_in, kh, kw)``): :math:`z[o, i, j] = b_o + \sum_{c, a, b} x_p[c, i s + a, j s + b]
K[o, c, a, b]` with x zero-padded by p. Each is the other's transpose, and both run as one matrix product per
kernel tap over the whole batch.
"""

from __future__ import annotations

import math

import numpy as np

from . import validate

DENSE_LIMIT_BYTES = 2**30
"""The largest float64 matrix :meth:`Affine.dense` builds unless told otherwise (1 GiB)."""
SPECTRAL_DENSE_BYTES = 2**26
"""Up to this size :meth:`Affine.spectral_norm` takes the exact norm of the dense matrix (64 MiB)."""
GRAM_NORM_MIN_SIDE = 256
"""From this many rows and columns :meth:`Dense.spectral_norm` works on the smaller Gram matrix."""


def _taps(kernel: np.ndarray):
    """(a, b, the kernel's (C, C') matrix at tap (a, b)) for every tap."""
    for a in range(kernel.shape[2]):
        for b in range(kernel.shape[3]):
            yield a, b, kernel[:, :, a, b]


def scatter_taps(x: np.ndarray, kernel: np.ndarray, stride: int, padding: int, out_hw: tuple[int, int]) -> np.ndarray:
    r"""The transposed convolution of a batch ``x`` (N, C, H, W) with ``kernel`` (C, C', kh, kw): every input pixel
    spreads :math:`x[c, h, w] K[c, :, a, b]` to output pixel :math:`(hs + a - p, ws + b - p)`; (N, C', *out_hw)."""
    n, _, H, W = x.shape
    out_channels, kh, kw = kernel.shape[1], kernel.shape[2], kernel.shape[3]
    rows = max((H - 1) * stride + kh, padding + out_hw[0])
    cols = max((W - 1) * stride + kw, padding + out_hw[1])
    buffer = np.zeros((n, rows, cols, out_channels))
    pixels = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, H, W, C): one (C, C') product per tap
    for a, b, tap in _taps(kernel):
        buffer[:, a:a + (H - 1) * stride + 1:stride, b:b + (W - 1) * stride + 1:stride] += pixels @ tap
    out = buffer[:, padding:padding + out_hw[0], padding:padding + out_hw[1]]
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def gather_taps(y: np.ndarray, kernel: np.ndarray, stride: int, padding: int, in_hw: tuple[int, int]) -> np.ndarray:
    r"""The adjoint of :func:`scatter_taps`: a batch ``y`` (N, C', Ho, Wo) gathered back through ``kernel``
    (C, C', kh, kw) to (N, C, *in_hw), :math:`g[c, h, w] = \sum_{o, a, b} y_p[o, hs + a, ws + b] K[c, o, a, b]` with y
    placed at offset p in a zero buffer. With ``kernel`` read as (C_out, C_in, kh, kw) this is PyTorch's ``Conv2d``."""
    n, _, Ho, Wo = y.shape
    channels, kh, kw = kernel.shape[0], kernel.shape[2], kernel.shape[3]
    H, W = in_hw
    rows = max((H - 1) * stride + kh, padding + Ho)
    cols = max((W - 1) * stride + kw, padding + Wo)
    buffer = np.zeros((n, rows, cols, y.shape[1]))
    buffer[:, padding:padding + Ho, padding:padding + Wo] = y.transpose(0, 2, 3, 1)
    out = np.zeros((n, H, W, channels))
    for a, b, tap in _taps(kernel):
        out += buffer[:, a:a + (H - 1) * stride + 1:stride, b:b + (W - 1) * stride + 1:stride] @ tap.T
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


class Affine:
    """An affine layer :math:`z = W x + b` between flat vectors, known as an operator (see the module notes)."""

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def in_dim(self) -> int:
        return math.prod(self.in_shape)

    @property
    def out_dim(self) -> int:
        return math.prod(self.out_shape)

    @property
    def bias(self) -> np.ndarray:
        """b over the flat output, (out_dim,): a convolution's per-channel bias repeated over its pixels."""
        raise NotImplementedError

    def linear(self, X: np.ndarray) -> np.ndarray:
        """:math:`W x` for every row of X (N, in_dim)."""
        raise NotImplementedError

    def transpose(self, G: np.ndarray) -> np.ndarray:
        r""":math:`W^\top g` for every row of G (N, out_dim)."""
        raise NotImplementedError

    def absolute_linear(self, X: np.ndarray) -> np.ndarray:
        r""":math:`|W| x` for every row of X (N, in_dim), |W| the entrywise absolute value: how far a perturbation
        bounded entrywise by x can move each output (:func:`landscape.rounding_slack`)."""
        raise NotImplementedError

    def apply(self, X: np.ndarray) -> np.ndarray:
        """:math:`W x + b` for every row of X (N, in_dim)."""
        return self.linear(X) + self.bias

    def dense_bytes(self) -> int:
        """The size of :meth:`dense`'s float64 matrix."""
        return 8 * self.out_dim * self.in_dim

    def spectral_norm(self, iterations: int = 500, rtol: float = 1e-12) -> float:
        r""":math:`\|W\|_2`, the largest singular value: exact (LAPACK) where :meth:`dense` stays below 64 MiB, else by
        power iteration on :math:`W^\top W` from a fixed start until it changes by less than ``rtol`` (an estimate
        from below, deterministic)."""
        if self.dense_bytes() <= SPECTRAL_DENSE_BYTES:
            return float(np.linalg.norm(self.dense(), 2))
        v = np.random.default_rng(0).normal(size=(1, self.in_dim))
        estimate = 0.0
        for _ in range(iterations):
            v = self.transpose(self.linear(v))
            norm = float(np.linalg.norm(v))
            if norm == 0.0:
                return 0.0
            v /= norm
            previous, estimate = estimate, float(np.sqrt(norm))
            if abs(estimate - previous) <= rtol * estimate:
                break
        return float(np.linalg.norm(self.linear(v)))

    def dense(self, max_bytes: int = DENSE_LIMIT_BYTES) -> np.ndarray:
        """The matrix W (out_dim, in_dim), built from :meth:`linear` on the identity; refused above ``max_bytes``."""
        if self.dense_bytes() > max_bytes:
            raise MemoryError(f"the dense matrix of {self!r} needs {self.dense_bytes() / 2**20:.0f} MiB of float64, "
                              f"above max_bytes = {max_bytes / 2**20:.0f} MiB; use its operator form")
        return np.ascontiguousarray(self.linear(np.eye(self.in_dim)).T)

    def arrays(self) -> dict[str, np.ndarray]:
        """The layer's parameters and settings as arrays, for storage and equality."""
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        if type(other) is not type(self) or self.in_shape != other.in_shape:
            return False
        mine, theirs = self.arrays(), other.arrays()
        return mine.keys() == theirs.keys() and all(np.array_equal(mine[k], theirs[k]) for k in mine)

    __hash__ = None


class Dense(Affine):
    """A dense layer :math:`z = W x + b`, W of shape (out_dim, in_dim)."""

    def __init__(self, W, b=None, name: str = "W"):
        self.W = validate.frozen(validate.matrix(W, name))
        self.in_shape, self.out_shape = (self.W.shape[1],), (self.W.shape[0],)
        self._bias = validate.frozen(np.zeros(self.W.shape[0]) if b is None else
                                     validate.vector(b, f"bias of {name}", self.W.shape[0]))

    @classmethod
    def wrap(cls, W: np.ndarray, b: np.ndarray) -> Dense:
        """A layer over arrays already validated and frozen (a :class:`~landscape.ReLUNet`'s own), without copying."""
        layer = cls.__new__(cls)
        layer.W, layer._bias = W, b
        layer.in_shape, layer.out_shape = (W.shape[1],), (W.shape[0],)
        return layer

    @property
    def bias(self) -> np.ndarray:
        return self._bias

    def linear(self, X):
        return X @ self.W.T

    def transpose(self, G):
        return G @ self.W

    def absolute_linear(self, X):
        return X @ np.abs(self.W).T

    def dense(self, max_bytes: int = DENSE_LIMIT_BYTES):
        return self.W

    def spectral_norm(self, iterations: int = 500, rtol: float = 1e-12) -> float:
        r""":math:`\|W\|_2`: LAPACK's largest singular value; for a matrix with both sides of at least
        :data:`GRAM_NORM_MIN_SIDE`, :math:`\sqrt{\lambda_{\max}(W^\top W)}` of the smaller Gram matrix instead (the
        same up to rounding: 2e-15 relative at the paper's 6,272 × 1,024 layer, 2.7× faster)."""
        if min(self.W.shape) < GRAM_NORM_MIN_SIDE:
            return float(np.linalg.norm(self.W, 2))
        from scipy.linalg import eigvalsh

        gram = self.W.T @ self.W if self.W.shape[0] >= self.W.shape[1] else self.W @ self.W.T
        top = eigvalsh(gram, subset_by_index=[len(gram) - 1, len(gram) - 1])[0]
        return float(np.sqrt(max(top, 0.0)))

    def arrays(self):
        return {"W": self.W, "b": self._bias}

    def __repr__(self) -> str:
        return f"Dense({self.in_dim} → {self.out_dim})"


def _image_shape(shape, name: str) -> tuple[int, int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 3 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in shape):
        raise ValueError(f"{name} must be (channels, height, width), three integers >= 1; got {shape!r}")
    return tuple(int(v) for v in shape)


def _kernel(kernel, name: str) -> np.ndarray:
    array = np.array(kernel, dtype=np.float64)
    if array.ndim != 4 or 0 in array.shape:
        raise ValueError(f"{name} must be a 4-D kernel (C, C', kh, kw); got shape {array.shape}")
    return validate.frozen(validate.matrix(array.reshape(array.shape[0], -1), name).reshape(array.shape))


def _channel_bias(bias, channels: int, pixels: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    per_channel = np.zeros(channels) if bias is None else validate.vector(bias, name, channels)
    return validate.frozen(per_channel), validate.frozen(np.repeat(per_channel, pixels))


class _KernelLayer(Affine):
    """What a convolution and a transposed convolution share: a kernel applied by taps (``_forward`` from the input
    image to the output image, ``_adjoint`` back) and a per-channel bias."""

    _forward = staticmethod(scatter_taps)
    _adjoint = staticmethod(gather_taps)

    @property
    def bias(self):
        return self._bias

    def linear(self, X):
        return self._by_taps(self._forward, self.kernel, X, self.in_shape, self.out_shape)

    def transpose(self, G):
        return self._by_taps(self._adjoint, self.kernel, G, self.out_shape, self.in_shape)

    def absolute_linear(self, X):
        return self._by_taps(self._forward, np.abs(self.kernel), X, self.in_shape, self.out_shape)

    def _by_taps(self, taps, kernel, rows, from_shape, to_shape):
        images = rows.reshape(len(rows), *from_shape)
        return taps(images, kernel, self.stride, self.padding, to_shape[1:]).reshape(len(rows), -1)


class ConvTranspose2d(_KernelLayer):
    """PyTorch's ``ConvTranspose2d`` on images of ``in_shape`` = (C_in, H, W): ``kernel`` (C_in, C_out, kh, kw), a
    per-channel ``bias`` (C_out,), ``stride``, ``padding`` and ``output_padding``."""

    def __init__(self, kernel, bias, in_shape, stride: int = 1, padding: int = 0, output_padding: int = 0):
        self.kernel = _kernel(kernel, "kernel (ConvTranspose2d: C_in, C_out, kh, kw)")
        self.in_shape = _image_shape(in_shape, "in_shape")
        if self.kernel.shape[0] != self.in_shape[0]:
            raise ValueError(f"kernel has {self.kernel.shape[0]} input channels but in_shape {self.in_shape} has "
                             f"{self.in_shape[0]}")
        self.stride = validate.positive_int(stride, "stride")
        self.padding = int(validate.nonnegative_scalar(padding, "padding"))
        self.output_padding = int(validate.nonnegative_scalar(output_padding, "output_padding"))
        if self.padding != padding or self.output_padding != output_padding:
            raise ValueError(f"padding and output_padding must be integers >= 0; got {padding!r}, {output_padding!r}")
        _, H, W = self.in_shape
        kh, kw = self.kernel.shape[2:]
        out_hw = tuple((n - 1) * self.stride - 2 * self.padding + k + self.output_padding for n, k in ((H, kh), (W, kw)))
        if min(out_hw) < 1:
            raise ValueError(f"ConvTranspose2d on {self.in_shape} with kernel {kh}×{kw}, stride {self.stride}, padding "
                             f"{self.padding} has an empty output {out_hw}")
        self.out_shape = (self.kernel.shape[1], *out_hw)
        self.channel_bias, self._bias = _channel_bias(bias, self.out_shape[0], out_hw[0] * out_hw[1],
                                                      "bias (one per output channel)")

    def arrays(self):
        return {"kernel": self.kernel, "bias": self.channel_bias,
                "settings": np.array([self.stride, self.padding, self.output_padding])}

    def __repr__(self) -> str:
        return f"ConvTranspose2d({self.in_shape} → {self.out_shape}, stride {self.stride}, padding {self.padding})"


class Conv2d(_KernelLayer):
    """PyTorch's ``Conv2d`` on images of ``in_shape`` = (C_in, H, W): ``kernel`` (C_out, C_in, kh, kw), a per-channel
    ``bias`` (C_out,), ``stride`` and ``padding`` (zeros)."""

    _forward = staticmethod(gather_taps)
    _adjoint = staticmethod(scatter_taps)

    def __init__(self, kernel, bias, in_shape, stride: int = 1, padding: int = 0):
        self.kernel = _kernel(kernel, "kernel (Conv2d: C_out, C_in, kh, kw)")
        self.in_shape = _image_shape(in_shape, "in_shape")
        if self.kernel.shape[1] != self.in_shape[0]:
            raise ValueError(f"kernel has {self.kernel.shape[1]} input channels but in_shape {self.in_shape} has "
                             f"{self.in_shape[0]}")
        self.stride = validate.positive_int(stride, "stride")
        self.padding = int(validate.nonnegative_scalar(padding, "padding"))
        if self.padding != padding:
            raise ValueError(f"padding must be an integer >= 0; got {padding!r}")
        _, H, W = self.in_shape
        kh, kw = self.kernel.shape[2:]
        out_hw = tuple((n + 2 * self.padding - k) // self.stride + 1 for n, k in ((H, kh), (W, kw)))
        if min(out_hw) < 1:
            raise ValueError(f"Conv2d on {self.in_shape} with kernel {kh}×{kw} and padding {self.padding} has an empty "
                             f"output {out_hw}")
        self.out_shape = (self.kernel.shape[0], *out_hw)
        self.channel_bias, self._bias = _channel_bias(bias, self.out_shape[0], out_hw[0] * out_hw[1],
                                                      "bias (one per output channel)")

    def arrays(self):
        return {"kernel": self.kernel, "bias": self.channel_bias, "settings": np.array([self.stride, self.padding])}

    def __repr__(self) -> str:
        return f"Conv2d({self.in_shape} → {self.out_shape}, stride {self.stride}, padding {self.padding})"


def apply_to_columns(layer: Affine, J: np.ndarray) -> np.ndarray:
    """:math:`W J` for a stack of column blocks J (N, in_dim, k) -> (N, out_dim, k): k forward-mode products per block,
    one matrix product for a dense layer."""
    if isinstance(layer, Dense):
        return np.matmul(layer.W, J)
    n, rows, k = J.shape
    columns = np.ascontiguousarray(J.transpose(0, 2, 1)).reshape(n * k, rows)
    return layer.linear(columns).reshape(n, k, layer.out_dim).transpose(0, 2, 1)


def apply_to_vector(layer: Affine, v: np.ndarray) -> np.ndarray:
    """:math:`W v` for one vector (in_dim,) -> (out_dim,)."""
    return layer.W @ v if isinstance(layer, Dense) else layer.linear(v[None])[0]


def fold_batchnorm(layer: Affine, gamma, beta, mean, var, eps: float) -> Affine:
    r"""The layer followed by eval-mode batch normalisation, as one layer: per output channel (or unit) c,
    :math:`\gamma_c (z_c - \mu_c) / \sqrt{\sigma_c^2 + \epsilon} + \beta_c`, folded into the kernel's output rows and
    the bias."""
    channels = layer.out_shape[0]
    gamma, beta, mean, var = (validate.vector(v, name, channels) for v, name in
                              ((gamma, "gamma"), (beta, "beta"), (mean, "running mean"), (var, "running var")))
    eps = validate.positive_scalar(eps, "eps", "eps (batch normalisation's epsilon)")
    if np.any(var + eps <= 0):
        raise ValueError("running var + eps must be > 0 in every channel")
    scale = gamma / np.sqrt(var + eps)
    if isinstance(layer, Dense):
        return Dense(layer.W * scale[:, None], (layer.bias - mean) * scale + beta)
    if isinstance(layer, ConvTranspose2d):
        return ConvTranspose2d(layer.kernel * scale[None, :, None, None], (layer.channel_bias - mean) * scale + beta,
                               layer.in_shape, layer.stride, layer.padding, layer.output_padding)
    if isinstance(layer, Conv2d):
        return Conv2d(layer.kernel * scale[:, None, None, None], (layer.channel_bias - mean) * scale + beta,
                      layer.in_shape, layer.stride, layer.padding)
    raise ValueError(f"layer must be a Dense, ConvTranspose2d or Conv2d; got {type(layer).__name__}")
