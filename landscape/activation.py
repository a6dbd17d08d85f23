r"""Activation patterns, pre-activations, the near-zero sets S(x, θ, τ) and local affine maps.

For an input x the layer outputs are :math:`x_0 = x`,
:math:`x_i = \sigma(z_i)` with pre-activations :math:`z_i = W_i x_{i-1} + b_i`.
The activation pattern of x is the sign vector :math:`(z_{ij} > 0)_{i,j}`; the
inputs sharing one pattern form a linear piece on which :math:`G(x) = Jx + c`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _kernels, validate
from .layers import apply_to_columns, apply_to_vector
from .network import ReLUNet, checked_network

DEFAULT_BOUNDARY_RTOL = 1e-10
"""Relative rounding slack under which a pre-activation counts as lying on its switching hyperplane."""


def _flat_offsets(hidden_widths: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(hidden_widths)]).astype(np.int64)


@dataclass(frozen=True)
class ActivationPattern:
    r"""The sign pattern :math:`(z_{ij} > 0)` of every hidden neuron, packed into bytes.

    Hashable and comparable: two patterns are equal exactly when their bits (and
    the network widths) are equal, so a pattern can key a dictionary of regions.

    Attributes
    ----------
    bits : bytes
        Flat neuron ``g`` (layers 1..d concatenated) is bit ``7 - g % 8`` of byte ``g // 8``.
    hidden_widths : tuple of int
        ``(n_1, ..., n_d)``.
    """

    bits: bytes
    hidden_widths: tuple[int, ...]

    def __post_init__(self):
        expected = (sum(self.hidden_widths) + 7) // 8
        if len(self.bits) != expected:
            raise ValueError(f"bits must hold {expected} bytes for widths {self.hidden_widths}; got {len(self.bits)}")

    @classmethod
    def from_masks(cls, masks: Sequence) -> ActivationPattern:
        """Pack per-layer boolean masks ``[(n_1,), ..., (n_d,)]`` (True = active)."""
        layers = [np.asarray(m) for m in masks]
        if not layers or any(m.ndim != 1 or m.dtype != np.bool_ for m in layers):
            raise ValueError("masks must be a non-empty sequence of 1-D boolean arrays")
        flat = np.concatenate(layers)
        return cls(np.packbits(flat).tobytes(), tuple(len(m) for m in layers))

    @property
    def n_hidden(self) -> int:
        return sum(self.hidden_widths)

    def unpack(self) -> np.ndarray:
        """All neurons as one boolean array of shape ``(n_1 + ... + n_d,)``."""
        return np.unpackbits(np.frombuffer(self.bits, np.uint8), count=self.n_hidden).astype(bool)

    def layers(self) -> tuple[np.ndarray, ...]:
        """Per-layer boolean arrays ``(n_1,), ..., (n_d,)``."""
        flat, offsets = self.unpack(), _flat_offsets(self.hidden_widths)
        return tuple(flat[offsets[i]:offsets[i + 1]] for i in range(len(self.hidden_widths)))

    def layer(self, i: int) -> np.ndarray:
        """Layer ``i`` (1-based, as in the paper) as a boolean array of shape ``(n_i,)``."""
        if not 1 <= i <= len(self.hidden_widths):
            raise ValueError(f"i must be a layer in 1..{len(self.hidden_widths)}; got {i}")
        return self.layers()[i - 1]

    def flipped(self, flat_neurons) -> ActivationPattern:
        """The pattern with the given flat neurons' states reversed."""
        bits = bytearray(self.bits)
        for g in flat_neurons:
            if not 0 <= g < self.n_hidden:
                raise ValueError(f"flat_neurons must lie in [0, {self.n_hidden}); got {g}")
            bits[g >> 3] ^= 128 >> (g & 7)
        return ActivationPattern(bytes(bits), self.hidden_widths)

    def differences(self, other: ActivationPattern) -> frozenset[tuple[int, int]]:
        """The neurons ``(i, j)`` whose state differs between the two patterns."""
        if other.hidden_widths != self.hidden_widths:
            raise ValueError(f"other has widths {other.hidden_widths}; expected {self.hidden_widths}")
        return _pairs(self.unpack() != other.unpack(), self.hidden_widths)

    def __repr__(self) -> str:
        return (
            f"ActivationPattern(widths={self.hidden_widths}, active={int(self.unpack().sum())}"
            f"/{self.n_hidden}, bits=0x{self.bits.hex()})"
        )


class ActivationPatterns:
    """Patterns of a batch of N points: a read-only ``(N, ceil(H/8))`` uint8 array, one row a point.

    Indexing gives an :class:`ActivationPattern`; :meth:`unique` groups equal patterns.
    """

    def __init__(self, packed: np.ndarray, hidden_widths: tuple[int, ...]):
        n_bytes = (sum(hidden_widths) + 7) // 8
        if packed.ndim != 2 or packed.shape[1] != n_bytes or packed.dtype != np.uint8:
            raise ValueError(f"packed must be a uint8 array of shape (N, {n_bytes}); got {packed.dtype} {packed.shape}")
        self.packed = validate.frozen(packed)
        self.hidden_widths = tuple(hidden_widths)

    def __len__(self) -> int:
        return self.packed.shape[0]

    def __getitem__(self, index: int) -> ActivationPattern:
        return ActivationPattern(self.packed[index].tobytes(), self.hidden_widths)

    def __iter__(self):
        return (self[p] for p in range(len(self)))

    def unpack(self) -> np.ndarray:
        """Boolean array of shape ``(N, n_1 + ... + n_d)``."""
        return np.unpackbits(self.packed, axis=1, count=sum(self.hidden_widths)).astype(bool)

    def layer(self, i: int) -> np.ndarray:
        """Layer ``i`` (1-based) as a boolean array of shape ``(N, n_i)``."""
        if not 1 <= i <= len(self.hidden_widths):
            raise ValueError(f"i must be a layer in 1..{len(self.hidden_widths)}; got {i}")
        offsets = _flat_offsets(self.hidden_widths)
        return self.unpack()[:, offsets[i - 1]:offsets[i]]

    def unique(self) -> tuple[ActivationPatterns, np.ndarray, np.ndarray]:
        """The distinct patterns (sorted by their bytes), the index of each point's pattern, and counts."""
        rows, inverse, counts = np.unique(self.packed, axis=0, return_inverse=True, return_counts=True)
        return ActivationPatterns(rows, self.hidden_widths), inverse.reshape(-1), counts

    def __repr__(self) -> str:
        return f"ActivationPatterns(N={len(self)}, widths={self.hidden_widths})"


def _pairs(flat_mask: np.ndarray, hidden_widths: tuple[int, ...]) -> frozenset[tuple[int, int]]:
    offsets = _flat_offsets(hidden_widths)
    flat = np.flatnonzero(flat_mask)
    layer = np.searchsorted(offsets, flat, side="right")
    return frozenset((int(i), int(g - offsets[i - 1])) for i, g in zip(layer, flat))


def _pattern_pass(net: ReLUNet, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Packed patterns ``(N, ceil(H/8))`` and pre-activations ``[z_1, ..., z_d]`` of validated inputs."""
    bits = np.zeros((X.shape[0], (net.n_hidden + 7) // 8), dtype=np.uint8)
    preacts, x, offset = [], X, 0
    for i, (layer, b) in enumerate(zip(net.layers, net.effective_biases), start=1):
        z = np.ascontiguousarray(layer.linear(x))
        last = i == net.depth
        x = np.empty((1, 1)) if last else np.empty_like(z)
        _kernels.bias_relu_pack(z, b, x, bits, offset, not last)
        preacts.append(z)
        offset += layer.out_dim
    return bits, preacts


def activation_pattern(net: ReLUNet, X, return_preactivations: bool = False):
    r"""Activation patterns :math:`(z_{ij}(x) > 0)` of one point or a batch.

    Parameters
    ----------
    net : ReLUNet
    X : array_like, shape (k,) or (N, k)
    return_preactivations : bool
        Also return the pre-activations (as :func:`preactivations` would), computed in the same pass.

    Returns
    -------
    ActivationPattern for one point, ActivationPatterns for a batch; with
    ``return_preactivations`` a pair ``(patterns, (z_1, ..., z_d))``.

    Examples
    --------
    >>> net = ReLUNet.random([2, 8, 8], rng=1)
    >>> p = activation_pattern(net, [0.3, -0.2])
    >>> p == activation_pattern(net, [0.3, -0.2]), p.layer(1).shape
    (True, (8,))
    """
    checked_network(net)
    X, single = validate.points(X, "X", net.input_dim)
    bits, preacts = _pattern_pass(net, X)
    if single:
        patterns = ActivationPattern(bits[0].tobytes(), net.hidden_widths)
        preacts = [z[0] for z in preacts]
    else:
        patterns = ActivationPatterns(bits, net.hidden_widths)
    return (patterns, tuple(preacts)) if return_preactivations else patterns


def preactivations(net: ReLUNet, X) -> tuple[np.ndarray, ...]:
    r"""Pre-activations :math:`z_i = W_i x_{i-1} + b_i`, ``i = 1..d``: shapes ``(n_i,)`` or ``(N, n_i)``."""
    checked_network(net)
    return activation_pattern(net, X, return_preactivations=True)[1]


def near_zero_mask(net: ReLUNet, X, tau) -> np.ndarray:
    r"""Membership in :math:`S(x, \theta, \tau)` as a boolean mask over the flat neuron order.

    .. math:: S(x, \theta, \tau) = \{(i, j) : |w_{ij}^\top x_{i-1} + b_{ij}| \le \tau\}

    Returns shape ``(n_1 + ... + n_d,)`` for one point, ``(N, n_1 + ... + n_d)`` for a batch;
    ``mask.sum(axis=-1)`` gives the sizes ``|S|``.
    """
    checked_network(net)
    tau = validate.nonnegative_scalar(tau, "tau")
    X, single = validate.points(X, "X", net.input_dim)
    mask = np.empty((X.shape[0], net.n_hidden), dtype=np.bool_)
    x, offset = X, 0
    for layer, b in zip(net.layers, net.effective_biases):
        x = np.ascontiguousarray(layer.linear(x))
        _kernels.bias_relu_near_zero(x, b, tau, mask, offset)
        offset += layer.out_dim
    return mask[0] if single else mask


def rounding_slack(layer, bias: np.ndarray, X: np.ndarray, inherited: np.ndarray, rtol: float) -> np.ndarray:
    r"""Per neuron of one layer, how far from 0 a computed pre-activation may be while the exact one is 0.

    .. math:: s_i = |W_i|\,(\mathrm{rtol}\,|x_{i-1}| + s_{i-1}) + \mathrm{rtol}\,|b_i|,

    entrywise, :math:`s_0 = 0`: the relative rounding of :math:`w_{ij}^\top x_{i-1} + b_{ij}`, bounded by
    :math:`\mathrm{rtol}\,(|w_{ij}|^\top |x_{i-1}| + |b_{ij}|)`, plus what the previous layer's slack can move it
    (ReLU is 1-Lipschitz entrywise, so :math:`|\delta x_{i-1}| \le s_{i-1}` and :math:`|w_{ij}^\top \delta| \le
    |w_{ij}|^\top s_{i-1}`). Entrywise bounds do not grow with the width of a layer, nor, for a convolution, with the
    pixels outside a neuron's kernel. ``X`` (N, in_dim) the layer's inputs, ``inherited`` (N, in_dim) their slack;
    returns (N, out_dim).
    """
    return layer.absolute_linear(rtol * np.abs(X) + inherited) + rtol * np.abs(bias)


def on_switching_hyperplanes(net: ReLUNet, X, rtol: float = DEFAULT_BOUNDARY_RTOL) -> np.ndarray:
    r"""Which neurons pass through x: pre-activations equal to 0 up to rounding.

    Neuron (i, j) passes through x when :math:`|z_{ij}(x)| \le s_{ij}`, the slack of :func:`rounding_slack`:
    this layer's rounding plus what the previous layers' slack can move it. Boolean mask over the flat neuron
    order, ``(H,)`` or ``(N, H)``.
    """
    checked_network(net)
    rtol = validate.nonnegative_scalar(rtol, "rtol")
    X, single = validate.points(X, "X", net.input_dim)
    mask = np.empty((X.shape[0], net.n_hidden), dtype=bool)
    x, slack, offset = X, np.zeros_like(X), 0
    for layer, b in zip(net.layers, net.effective_biases):
        slack = rounding_slack(layer, b, x, slack, rtol)
        z = layer.linear(x) + b
        mask[:, offset:offset + layer.out_dim] = np.abs(z) <= slack
        x, offset = np.maximum(z, 0.0), offset + layer.out_dim
    return mask[0] if single else mask


def near_zero_set(net: ReLUNet, x, tau) -> frozenset[tuple[int, int]]:
    r"""The paper's set :math:`S(x, \theta, \tau) = \{(i, j) : |w_{ij}^\top x_{i-1} + b_{ij}| \le \tau\}`.

    Pairs ``(i, j)``: layer ``i`` in ``1..d``, neuron ``j`` the 0-based row of ``W_i``.

    Examples
    --------
    >>> net = ReLUNet.random([2, 30], rng=0)
    >>> near_zero_set(net, [0.1, 0.2], 0.0) <= near_zero_set(net, [0.1, 0.2], 0.5)
    True
    """
    checked_network(net)
    x = validate.point(x, "x", net.input_dim)
    return _pairs(near_zero_mask(net, x, tau), net.hidden_widths)


def _affine_maps(net: ReLUNet, gates: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    r"""``(J, c)`` of shapes ``(N, n, k)``, ``(N, n)`` for per-layer gates ``(N, n_i)`` (True = active).

    :math:`J_0 = I, c_0 = 0`; :math:`J_i = D_i W_i J_{i-1}`, :math:`c_i = D_i (W_i c_{i-1} + b_i)`;
    :math:`J = V J_d, c = V c_d + c_{\mathrm{out}}` (the readout bias).
    """
    layers, biases = net.layers, net.effective_biases
    n = len(gates[0])
    J = apply_to_columns(layers[0], np.broadcast_to(np.eye(net.input_dim), (n, net.input_dim, net.input_dim)))
    J = J * gates[0][:, :, None]
    c = biases[0] * gates[0]
    for layer, b, gate in zip(layers[1:], biases[1:], gates[1:]):
        J = apply_to_columns(layer, J) * gate[:, :, None]
        c = (layer.linear(c) + b) * gate
    if net.readout_layer is not None:
        J = apply_to_columns(net.readout_layer, J)
        c = net.readout_layer.linear(c)
    if net.readout_bias is not None:
        c = c + net.readout_bias
    return J, c


def preactivation_maps(net: ReLUNet, pattern: ActivationPattern) -> tuple[np.ndarray, np.ndarray]:
    r"""The pre-activations as affine functions of x on the piece of a pattern: :math:`z(x) = M x + m`.

    Row g of ``M`` (shape ``(n_1 + ... + n_d, k)``) and entry g of ``m`` belong to flat neuron g. For
    layer i, :math:`z_i(x) = W_i (J_{i-1} x + c_{i-1}) + b_i` where :math:`(J_{i-1}, c_{i-1})` is the
    affine map of the first i-1 layers under the pattern; it does not depend on layer i's own signs.
    """
    checked_network(net)
    check_pattern(net, pattern)
    return preactivation_maps_of_gates(net, pattern.unpack())


def preactivation_maps_of_gates(net: ReLUNet, gates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`preactivation_maps` for a flat boolean gate vector (True = active), unchecked."""
    rows, offsets, start = [], [], 0
    J, c = np.eye(net.input_dim), np.zeros(net.input_dim)
    for layer, b in zip(net.layers, net.effective_biases):
        gate = gates[start:start + layer.out_dim]
        start += layer.out_dim
        M_i, m_i = apply_to_columns(layer, J[None])[0], apply_to_vector(layer, c) + b
        rows.append(M_i)
        offsets.append(m_i)
        J, c = M_i * gate[:, None], m_i * gate
    return np.vstack(rows), np.concatenate(offsets)


def affine_map_of_preactivations(net: ReLUNet, M: np.ndarray, m: np.ndarray,
                                 gates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`affine_map` from the pattern's pre-activation maps :math:`z = Mx + m`
    (:func:`preactivation_maps_of_gates`) and its flat gates, unchecked: the last hidden layer's rows gated,
    :math:`J = V D_d M_d`, :math:`c = V D_d m_d + c_{\mathrm{out}}` (V the readout, the identity without one)."""
    start = net.n_hidden - net.hidden_widths[-1]
    gate = gates[start:]
    J, c = M[start:] * gate[:, None], m[start:] * gate
    if net.readout_layer is not None:
        J, c = apply_to_columns(net.readout_layer, J[None])[0], apply_to_vector(net.readout_layer, c)
    if net.readout_bias is not None:
        c = c + net.readout_bias
    return J, c


def check_pattern(net: ReLUNet, pattern) -> None:
    if not isinstance(pattern, ActivationPattern):
        raise ValueError(f"pattern must be an ActivationPattern; got {type(pattern).__name__}")
    if pattern.hidden_widths != net.hidden_widths:
        raise ValueError(f"pattern has widths {pattern.hidden_widths}; the network has {net.hidden_widths}")


def local_affine(net: ReLUNet, X) -> tuple[np.ndarray, np.ndarray]:
    r"""The affine map of G on the linear piece of x: :math:`G(x') = J x' + c` on its closure.

    .. math:: J = V W_{d,+,x} \cdots W_{1,+,x}, \qquad W_{i,+,x} = \operatorname{diag}(z_i(x) > 0) W_i,

    and c collects the biases (the readout bias included).

    Returns ``J`` of shape ``(n, k)`` and ``c`` of shape ``(n,)`` for one point, or
    ``(N, n, k)`` and ``(N, n)`` for a batch.
    """
    checked_network(net)
    X, single = validate.points(X, "X", net.input_dim)
    gates = [z > 0.0 for z in _pattern_pass(net, X)[1]]
    J, c = _affine_maps(net, gates)
    return (J[0], c[0]) if single else (J, c)


def affine_map(net: ReLUNet, pattern: ActivationPattern) -> tuple[np.ndarray, np.ndarray]:
    r"""``(J, c)`` of shapes ``(n, k)``, ``(n,)``: G's affine form for a given activation pattern.

    For a pattern with a non-empty piece this equals :func:`local_affine` at any point of the piece.
    """
    checked_network(net)
    check_pattern(net, pattern)
    J, c = _affine_maps(net, [g[None, :] for g in pattern.layers()])
    return J[0], c[0]
