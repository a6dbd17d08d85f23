"""The expansive ReLU network G(x, θ) of §3 of the Surfing paper."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence

import numpy as np

from . import _kernels, validate
from .layers import DENSE_LIMIT_BYTES, Affine, Conv2d, ConvTranspose2d, Dense


class ReLUNet:
    r"""A fully connected ReLU network with an optional linear readout.

    .. math::

        G(x, \theta) = V \sigma(W_d \cdots \sigma(W_2 \sigma(W_1 x + b_1) + b_2) \cdots + b_d) + c,
        \qquad \sigma(z) = \max(z, 0),

    with :math:`W_i \in \mathbb{R}^{n_i \times n_{i-1}}`, :math:`b_i \in \mathbb{R}^{n_i}`,
    :math:`V \in \mathbb{R}^{n \times n_d}`, the readout bias :math:`c \in \mathbb{R}^n` and
    :math:`k = n_0`. Without biases, readout and readout bias it is the Hand–Voroninski form
    :math:`G(x) = \sigma(W_d \cdots \sigma(W_1 x))`.

    The object is immutable: its arrays are read-only float64 copies, validated
    on construction (consistent shapes, finite values, no empty layer).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_d]``, ``d >= 1``; ``W_i`` has shape ``(n_i, n_{i-1})``.
    biases : sequence of array_like or None
        ``[b_1, ..., b_d]`` with ``b_i`` of shape ``(n_i,)``; None for a bias-free network.
    readout : array_like or None
        ``V`` of shape ``(n, n_d)``; None for no readout (then ``n = n_d``).
    readout_bias : array_like or None
        ``c`` of shape ``(n,)``, added to the output (a trained generator's final layer bias);
        None for none. It shifts G by a constant, so it moves no region and no activation pattern.

    A network whose layers are convolutions is built with :meth:`from_layers`: its layers stay operators
    (:mod:`landscape.layers`) and are never densified unasked; :attr:`weights` and :attr:`readout` then refuse,
    naming the memory the dense matrices would need (:meth:`densified` builds them on request).

    Notes
    -----
    Layers are numbered ``i = 1, ..., d`` as in the paper (and in the ``.npz`` keys
    ``W1 ... Wd``); neuron ``j`` of layer ``i`` is row ``j`` (0-based) of ``W_i``. The
    flat neuron order used by patterns and masks concatenates layers 1, ..., d.

    Examples
    --------
    >>> net = ReLUNet.random([2, 20, 50], out_dim=60, rng=0)
    >>> net.widths, net.output_dim
    ((2, 20, 50), 60)
    >>> net.forward([0.5, -1.0]).shape
    (60,)
    """

    def __init__(self, weights: Sequence, biases: Sequence | None = None, readout=None, readout_bias=None):
        if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
            raise ValueError("weights must be a non-empty sequence [W_1, ..., W_d] of 2-D arrays")
        checked = []
        for i, w in enumerate(weights, start=1):
            cols = None if i == 1 else checked[-1].shape[0]
            checked.append(validate.frozen(validate.matrix(w, f"weights[{i - 1}] (W{i})", (None, cols))))
        self._weights = tuple(checked)
        widths = (checked[0].shape[1],) + tuple(w.shape[0] for w in checked)

        if biases is None:
            self._biases = None
        else:
            if isinstance(biases, np.ndarray) or not isinstance(biases, Sequence):
                raise ValueError("biases must be a sequence [b_1, ..., b_d] of 1-D arrays, or None")
            if len(biases) != len(checked):
                raise ValueError(f"biases must hold d = {len(checked)} vectors; got {len(biases)}")
            self._biases = tuple(
                validate.frozen(validate.vector(b, f"biases[{i - 1}] (b{i})", widths[i]))
                for i, b in enumerate(biases, start=1)
            )

        if readout is None:
            self._readout = None
        else:
            self._readout = validate.frozen(validate.matrix(readout, "readout (V)", (None, widths[-1])))
        n = widths[-1] if self._readout is None else self._readout.shape[0]
        self._readout_bias = None if readout_bias is None else validate.frozen(
            validate.vector(readout_bias, "readout_bias (c)", n))

        self._widths = widths
        zero = [validate.frozen(np.zeros(n)) for n in widths[1:]]
        self._effective_biases = self._biases if self._biases is not None else tuple(zero)
        self._layers = tuple(Dense.wrap(w, b) for w, b in zip(self._weights, self._effective_biases))
        self._readout_layer = None if self._readout is None else Dense.wrap(
            self._readout, self._readout_bias if self._readout_bias is not None
            else validate.frozen(np.zeros(self._readout.shape[0])))

    @classmethod
    def from_layers(cls, hidden: Sequence[Affine], readout: Affine | None = None) -> ReLUNet:
        r"""A network whose affine layers are operators (:mod:`landscape.layers`):
        :math:`G(x) = R(\sigma(L_d \cdots \sigma(L_1 x)))` with hidden layers :math:`L_i` and an optional readout R
        (its bias is the readout bias c). Layer i's output must be layer i+1's input (flat sizes)."""
        if isinstance(hidden, Affine) or not isinstance(hidden, Sequence) or not hidden:
            raise ValueError("hidden must be a non-empty sequence of layers (landscape.layers: Dense, ConvTranspose2d, "
                             "Conv2d)")
        for i, layer in enumerate([*hidden, *([] if readout is None else [readout])], start=1):
            if not isinstance(layer, Affine):
                raise ValueError(f"layer {i} must be a Dense, ConvTranspose2d or Conv2d; got {type(layer).__name__}")
        for i, (a, b) in enumerate(zip([*hidden], [*hidden[1:], *([] if readout is None else [readout])]), start=1):
            if a.out_dim != b.in_dim:
                raise ValueError(f"layer {i} outputs {a.out_shape} ({a.out_dim} values) but layer {i + 1} takes "
                                 f"{b.in_shape} ({b.in_dim}): the layers do not chain")
        if all(isinstance(layer, Dense) for layer in [*hidden, *([] if readout is None else [readout])]):
            return cls([layer.W for layer in hidden], [layer.bias for layer in hidden],
                       None if readout is None else readout.W, None if readout is None else readout.bias)
        net = cls.__new__(cls)
        net._layers, net._readout_layer = tuple(hidden), readout
        net._weights, net._readout = None, None
        net._biases = net._effective_biases = tuple(layer.bias for layer in hidden)
        net._readout_bias = None if readout is None else readout.bias
        net._widths = (hidden[0].in_dim, *(layer.out_dim for layer in hidden))
        return net

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(cls, widths: Sequence[int], out_dim: int | None = None, bias: bool = True, rng=None,
               readout_bias: bool = False) -> ReLUNet:
        r"""Draw θ as in Theorem 3.1.

        :math:`W_i, b_i` have i.i.d. :math:`\mathcal{N}(0, 1/n_i)` entries and
        :math:`V` and :math:`c` have i.i.d. :math:`\mathcal{N}(0, 1/n)` entries, all independent.
        Draw order: ``W_1, b_1, W_2, b_2, ..., V, c``.

        Parameters
        ----------
        widths : sequence of int
            ``[k, n_1, ..., n_d]`` with ``d >= 1``.
        out_dim : int or None
            ``n``, the number of rows of the readout ``V``; None for no readout.
        bias : bool
            Draw biases (True) or build a bias-free network (False).
        rng : None, int, SeedSequence or Generator
            Passed to :func:`numpy.random.default_rng`.
        readout_bias : bool
            Also draw a readout bias c (of length ``out_dim``, or ``n_d`` without readout).
        """
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < 2:
            raise ValueError(f"widths must be a sequence [k, n_1, ..., n_d] with d >= 1; got {widths!r}")
        widths = [validate.positive_int(n, f"widths[{i}]") for i, n in enumerate(widths)]
        if out_dim is not None:
            out_dim = validate.positive_int(out_dim, "out_dim")
        bias = validate.boolean(bias, "bias")
        readout_bias = validate.boolean(readout_bias, "readout_bias")
        rng = validate.rng(rng)
        weights, biases = [], []
        for n_prev, n_i in zip(widths[:-1], widths[1:]):
            scale = 1.0 / np.sqrt(n_i)
            weights.append(rng.normal(0.0, scale, size=(n_i, n_prev)))
            if bias:
                biases.append(rng.normal(0.0, scale, size=n_i))
        readout = None
        if out_dim is not None:
            readout = rng.normal(0.0, 1.0 / np.sqrt(out_dim), size=(out_dim, widths[-1]))
        c = None
        if readout_bias:
            n = widths[-1] if out_dim is None else out_dim
            c = rng.normal(0.0, 1.0 / np.sqrt(n), size=n)
        return cls(weights, biases if bias else None, readout, c)

    # ------------------------------------------------------------------ attributes
    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """``(W_1, ..., W_d)``, read-only; a network of operators refuses (see :meth:`densified`)."""
        if self._weights is None:
            raise ValueError(f"{self!r} keeps its layers as operators and has no dense weights; use net.layers, or "
                             f"net.densified() for the dense network ({self.dense_bytes() / 2**20:.0f} MiB of float64)")
        return self._weights

    @property
    def layers(self) -> tuple[Affine, ...]:
        """The hidden layers :math:`z_i = L_i(x_{i-1})` as operators (Dense for a dense network)."""
        return self._layers

    @property
    def readout_layer(self) -> Affine | None:
        """The readout as an operator, or None: use its :meth:`~landscape.layers.Affine.linear` part, its bias is
        :attr:`readout_bias`."""
        return self._readout_layer

    @property
    def structured(self) -> bool:
        """Whether some layer is kept as an operator other than a dense matrix."""
        return self._weights is None

    def dense_bytes(self) -> int:
        """The float64 size of every layer's dense matrix."""
        return sum(layer.dense_bytes() for layer in (*self._layers, *([self._readout_layer] if self._readout_layer
                                                                        else [])))

    def densified(self, max_bytes: int = DENSE_LIMIT_BYTES) -> ReLUNet:
        """The same network with dense matrices; refused when they would need more than ``max_bytes``."""
        if not self.structured:
            return self
        if self.dense_bytes() > max_bytes:
            raise MemoryError(f"the dense form of {self!r} needs {self.dense_bytes() / 2**20:.0f} MiB of float64, above "
                              f"max_bytes = {max_bytes / 2**20:.0f} MiB")
        readout = self._readout_layer
        return ReLUNet([layer.dense(max_bytes) for layer in self._layers], list(self._effective_biases),
                       None if readout is None else readout.dense(max_bytes), self._readout_bias)

    @property
    def biases(self) -> tuple[np.ndarray, ...] | None:
        """``(b_1, ..., b_d)``, read-only, or None for a bias-free network."""
        return self._biases

    @property
    def readout(self) -> np.ndarray | None:
        """``V``, read-only, or None when there is no readout; a readout kept as an operator refuses."""
        if self._readout is None and self._readout_layer is not None:
            raise ValueError(f"{self!r} keeps its readout as an operator ({self._readout_layer!r}); use "
                             "net.readout_layer, or net.densified()")
        return self._readout

    @property
    def readout_bias(self) -> np.ndarray | None:
        """``c``, read-only, or None when the output has no bias."""
        return self._readout_bias

    @property
    def effective_biases(self) -> tuple[np.ndarray, ...]:
        """``(b_1, ..., b_d)`` with zero vectors standing in for a bias-free network."""
        return self._effective_biases

    @property
    def widths(self) -> tuple[int, ...]:
        """``(k, n_1, ..., n_d)``."""
        return self._widths

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """``(n_1, ..., n_d)``."""
        return self._widths[1:]

    @property
    def depth(self) -> int:
        """``d``, the number of hidden ReLU layers."""
        return len(self._layers)

    @property
    def input_dim(self) -> int:
        """``k``."""
        return self._widths[0]

    @property
    def output_dim(self) -> int:
        """``n``: rows of ``V``, or ``n_d`` without readout."""
        return self._widths[-1] if self._readout_layer is None else self._readout_layer.out_dim

    @property
    def n_hidden(self) -> int:
        """Total number of hidden neurons, ``n_1 + ... + n_d``."""
        return sum(self._widths[1:])

    def neuron(self, flat: int) -> tuple[int, int]:
        """The paper's pair ``(i, j)`` (layer 1-based, row 0-based) of a flat neuron index."""
        if not 0 <= flat < self.n_hidden:
            raise ValueError(f"flat must be in [0, {self.n_hidden}); got {flat}")
        for i, n_i in enumerate(self.hidden_widths, start=1):
            if flat < n_i:
                return i, int(flat)
            flat -= n_i
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ evaluation
    def forward(self, X) -> np.ndarray:
        """``G(x, θ)`` for one point ``(k,)`` -> ``(n,)`` or a batch ``(N, k)`` -> ``(N, n)``."""
        X, single = validate.points(X, "X", self.input_dim)
        out = self._hidden_output(X)
        if self._readout_layer is not None:
            out = self._readout_layer.linear(out)
        if self._readout_bias is not None:
            out += self._readout_bias
        return out[0] if single else out

    def _hidden_output(self, X: np.ndarray) -> np.ndarray:
        """``x_d`` for validated ``(N, k)`` inputs, computed with the fused bias+ReLU kernel."""
        for layer, b in zip(self._layers, self._effective_biases):
            X = np.ascontiguousarray(layer.linear(X))
            _kernels.bias_relu_inplace(X, b)
        return X

    # ------------------------------------------------------------------ persistence
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The parameters under the keys ``W1 ... Wd``, ``b1 ... bd`` (only with biases), ``V`` (only
        with a readout) and ``c`` (only with a readout bias): the layout of :meth:`save`. A network of operators
        stores each layer under ``L1/ ... Ld/`` and ``R/`` (its type, input shape, kernel, bias and settings)."""
        if self.structured:
            return _layer_arrays(self._layers, self._readout_layer)
        arrays = {f"W{i}": w for i, w in enumerate(self._weights, start=1)}
        if self._biases is not None:
            arrays.update({f"b{i}": b for i, b in enumerate(self._biases, start=1)})
        if self._readout is not None:
            arrays["V"] = self._readout
        if self._readout_bias is not None:
            arrays["c"] = self._readout_bias
        return arrays

    @classmethod
    def from_arrays(cls, arrays, where: str = "arrays") -> ReLUNet:
        """The network stored under :meth:`to_arrays`' keys; ``where`` names the source in errors."""
        keys = set(arrays)
        if "L1/type" in keys:
            return _layers_from_arrays(arrays, where)
        d = 0
        while f"W{d + 1}" in keys:
            d += 1
        if d == 0:
            raise ValueError(f"{where} holds no W1; expected keys W1..Wd, b1..bd, V, c")
        weights = [arrays[f"W{i}"] for i in range(1, d + 1)]
        bias_keys = {f"b{i}" for i in range(1, d + 1)}
        present = bias_keys & keys
        if present and present != bias_keys:
            raise ValueError(f"{where} holds biases {sorted(present)}; expected all of {sorted(bias_keys)} or none")
        biases = [arrays[f"b{i}"] for i in range(1, d + 1)] if present else None
        readout = arrays["V"] if "V" in keys else None
        readout_bias = arrays["c"] if "c" in keys else None
        unknown = keys - {f"W{i}" for i in range(1, d + 1)} - bias_keys - {"V", "c"}
        if unknown:
            raise ValueError(f"{where} holds unexpected keys {sorted(unknown)}")
        return cls(weights, biases, readout, readout_bias)

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters to an uncompressed ``.npz`` file at exactly ``path``.

        Key layout: ``W1, ..., Wd`` (shapes ``(n_i, n_{i-1})``), ``b1, ..., bd``
        (shapes ``(n_i,)``, absent for a bias-free network), ``V`` (shape
        ``(n, n_d)``, absent without readout) and ``c`` (shape ``(n,)``, absent without
        readout bias). Any file with this layout, written by
        any tool, loads with :meth:`load`.
        """
        with open(path, "wb") as handle:  # exactly this path: numpy would append ".npz" to a bare name
            np.savez(handle, **self.to_arrays())

    @classmethod
    def load(cls, path: str | os.PathLike) -> ReLUNet:
        """Read a network written by :meth:`save` (or any ``.npz`` with its key layout)."""
        where = f"path {os.fspath(path)!r}"
        try:
            with np.load(path, allow_pickle=False) as data:
                if not hasattr(data, "files"):
                    raise ValueError("it holds a single array, not an .npz archive")
                arrays = {key: data[key] for key in data.files}
        except FileNotFoundError:
            raise FileNotFoundError(f"{where} does not exist") from None
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where} is not a readable .npz network file: {exc}") from None
        return cls.from_arrays(arrays, where)

    # ------------------------------------------------------------------ comparison
    def __eq__(self, other) -> bool:
        if not isinstance(other, ReLUNet):
            return NotImplemented
        same = lambda a, b: (a is None and b is None) or (
            a is not None and b is not None and a.shape == b.shape and np.array_equal(a, b)
        )
        if self.structured or other.structured:
            return (self.structured == other.structured and self._layers == other._layers
                    and self._readout_layer == other._readout_layer)
        return (
            self._widths == other._widths
            and all(same(a, b) for a, b in zip(self._weights, other._weights))
            and (self._biases is None) == (other._biases is None)
            and (self._biases is None or all(same(a, b) for a, b in zip(self._biases, other._biases)))
            and same(self._readout, other._readout)
            and same(self._readout_bias, other._readout_bias)
        )

    __hash__ = None

    def __repr__(self) -> str:
        if self.structured:
            layers = ", ".join(repr(layer) for layer in self._layers)
            readout = "" if self._readout_layer is None else f"; readout {self._readout_layer!r}"
            return f"ReLUNet.from_layers([{layers}]{readout})"
        parts = [f"widths={list(self._widths)}"]
        if self._readout is not None:
            parts.append(f"out_dim={self.output_dim}")
        parts.append(f"bias={self._biases is not None}")
        if self._readout_bias is not None:
            parts.append("readout_bias=True")
        return f"ReLUNet({', '.join(parts)})"


def checked_network(value, name: str = "net") -> ReLUNet:
    """``value`` if it is a :class:`ReLUNet`, else a ValueError naming the argument."""
    if not isinstance(value, ReLUNet):
        raise ValueError(f"{name} must be a ReLUNet; got {type(value).__name__}")
    return value


_LAYER_TYPES = {"Dense": Dense, "ConvTranspose2d": ConvTranspose2d, "Conv2d": Conv2d}


def _layer_arrays(hidden, readout) -> dict[str, np.ndarray]:
    arrays = {}
    for prefix, layer in [(f"L{i}", layer) for i, layer in enumerate(hidden, start=1)] + (
            [("R", readout)] if readout is not None else []):
        arrays[f"{prefix}/type"] = np.array(type(layer).__name__)
        arrays[f"{prefix}/in_shape"] = np.array(layer.in_shape)
        arrays.update({f"{prefix}/{key}": value for key, value in layer.arrays().items()})
    return arrays


def _layer_from(arrays, prefix: str, where: str) -> Affine:
    kind = str(arrays[f"{prefix}/type"])
    if kind not in _LAYER_TYPES:
        raise ValueError(f"{where}: {prefix}/type is {kind!r}; expected one of {sorted(_LAYER_TYPES)}")
    try:
        if kind == "Dense":
            return Dense(arrays[f"{prefix}/W"], arrays[f"{prefix}/b"], f"{prefix}/W")
        settings = [int(v) for v in arrays[f"{prefix}/settings"]]
        in_shape = tuple(int(v) for v in arrays[f"{prefix}/in_shape"])
        return _LAYER_TYPES[kind](arrays[f"{prefix}/kernel"], arrays[f"{prefix}/bias"], in_shape, *settings)
    except KeyError as missing:
        raise ValueError(f"{where}: layer {prefix} ({kind}) lacks {missing.args[0]}") from None


def _layers_from_arrays(arrays, where: str) -> ReLUNet:
    d = 0
    while f"L{d + 1}/type" in arrays:
        d += 1
    hidden = [_layer_from(arrays, f"L{i}", where) for i in range(1, d + 1)]
    readout = _layer_from(arrays, "R", where) if "R/type" in arrays else None
    return ReLUNet.from_layers(hidden, readout)
