r"""Bounds on a ReLU network over a box of inputs: interval arithmetic and linear relaxations (CROWN).

For :math:`z_1 = W_1 x + b_1`, :math:`z_i = W_i \sigma(z_{i-1}) + b_i` and :math:`G = V \sigma(z_d) + c` over
:math:`x \in [lo, hi]`:

- *Interval bounds* (interval bound propagation): with centre and radius of each layer's input box,
  :math:`z_i \in W_i m \pm |W_i| r + b_i`, then :math:`\sigma` applied to both ends.
- *Linear bounds* (CROWN, Zhang et al. 2018): each unstable ReLU (:math:`l < 0 < u`) is enclosed between the lines
  :math:`\alpha z \le \sigma(z) \le \tfrac{u}{u - l}(z - l)`, α = 1 where :math:`u > -l` and 0 otherwise; stable
  ones are exact. Substituting backwards from a layer to the input gives affine functions
  :math:`\underline A x + \underline a \le z(x) \le \overline A x + \overline a` on the box, tight where every
  neuron on the way is stable. Each layer's pre-activation bounds come from such a back-substitution (intersected
  with the interval ones and with the bounds known on an enclosing box), the output's likewise.

Layers are used as operators (:meth:`~landscape.layers.Affine.linear`, ``transpose``, ``absolute_linear``), so the
structured networks bound as the dense ones do. The bounds are those of exact arithmetic up to floating-point
rounding of the products (relative 1e-15 per operation; no outward rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import ReLUNet


@dataclass(frozen=True)
class NetworkBounds:
    r"""Bounds of every pre-activation and of the output of a network over a box.

    Attributes
    ----------
    lower, upper : tuple of ndarray
        Per hidden layer i, :math:`l_i \le z_i(x) \le u_i` for every x in the box.
    output_lower, output_upper : ndarray (n,)
        :math:`G(x)` coordinatewise between them on the box.
    output_linear : tuple (L, a, U, b) or None
        With linear bounds: :math:`Lx + a \le G(x) \le Ux + b` on the box (L, U of shape (n, k)); None for interval
        bounds.
    """

    lower: tuple[np.ndarray, ...]
    upper: tuple[np.ndarray, ...]
    output_lower: np.ndarray
    output_upper: np.ndarray
    output_linear: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def unstable(self) -> int:
        """Neurons whose sign is not fixed on the box (:math:`l < 0 < u`)."""
        return int(sum(np.sum((l < 0) & (u > 0)) for l, u in zip(self.lower, self.upper)))

    @property
    def stable(self) -> bool:
        """Every neuron's sign fixed on the box: G is affine there (one linear region holds the whole box)."""
        return self.unstable == 0


def _interval_layer(layer, bias, centre, radius) -> tuple[np.ndarray, np.ndarray]:
    middle = layer.linear(centre[None])[0] + bias
    spread = layer.absolute_linear(radius[None])[0]
    return middle - spread, middle + spread


def _relu_box(lower, upper) -> tuple[np.ndarray, np.ndarray]:
    """Centre and radius of :math:`\\sigma([l, u])`."""
    low, high = np.maximum(lower, 0.0), np.maximum(upper, 0.0)
    return (low + high) / 2, (high - low) / 2


def _output_interval(net: ReLUNet, lower, upper) -> tuple[np.ndarray, np.ndarray]:
    centre, radius = _relu_box(lower, upper)
    readout = net.readout_layer
    if readout is None:
        low, high = centre - radius, centre + radius
    else:
        low, high = _interval_layer(readout, np.zeros(readout.out_dim), centre, radius)
    if net.readout_bias is not None:
        low, high = low + net.readout_bias, high + net.readout_bias
    return low, high


def interval_bounds(net: ReLUNet, lo: np.ndarray, hi: np.ndarray, known: NetworkBounds | None = None) -> NetworkBounds:
    """Interval bound propagation over the box [lo, hi], intersected with ``known`` (bounds on a box containing it)."""
    centre, radius = (lo + hi) / 2, (hi - lo) / 2
    lowers, uppers = [], []
    for i, (layer, bias) in enumerate(zip(net.layers, net.effective_biases)):
        low, high = _interval_layer(layer, bias, centre, radius)
        if known is not None:
            low, high = np.maximum(low, known.lower[i]), np.minimum(high, known.upper[i])
        lowers.append(low)
        uppers.append(high)
        centre, radius = _relu_box(low, high)
    out_low, out_high = _output_interval(net, lowers[-1], uppers[-1])
    return NetworkBounds(tuple(lowers), tuple(uppers), out_low, out_high)


def _relaxation(lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per neuron ``(upper slope, upper intercept, lower slope)``: :math:`\alpha z \le \sigma(z) \le s z + t`."""
    active, unstable = lower >= 0, (lower < 0) & (upper > 0)
    width = np.where(unstable, upper - lower, 1.0)
    slope = np.where(active, 1.0, np.where(unstable, upper / width, 0.0))
    intercept = np.where(unstable, -upper * lower / width, 0.0)
    alpha = np.where(active, 1.0, np.where(unstable, (upper > -lower).astype(float), 0.0))
    return slope, intercept, alpha


def _back_substitute(net: ReLUNet, coefficients: np.ndarray, constant: np.ndarray, relaxations: list,
                     upper_side: bool) -> tuple[np.ndarray, np.ndarray]:
    r"""An affine bound in x of :math:`\Lambda \sigma(z_j) + \text{constant}`, j the last layer of ``relaxations``
    (an upper bound if ``upper_side``, else a lower one), from the relaxations of layers j, j − 1, …, 1:
    ``(coefficients on x, constant)``."""
    Lam, const = coefficients, constant.copy()
    for i in range(len(relaxations) - 1, -1, -1):
        slope, intercept, alpha = relaxations[i]
        positive, negative = np.maximum(Lam, 0.0), np.minimum(Lam, 0.0)
        if upper_side:
            Lam = positive * slope + negative * alpha
            const += positive @ intercept
        else:
            Lam = positive * alpha + negative * slope
            const += negative @ intercept
        const += Lam @ net.effective_biases[i]
        Lam = net.layers[i].transpose(Lam)  # Λ W_i, row by row
    return Lam, const


def _concretise(coefficients, constant, centre, radius, upper_side: bool) -> np.ndarray:
    spread = np.abs(coefficients) @ radius
    middle = coefficients @ centre + constant
    return middle + spread if upper_side else middle - spread


def linear_bounds(net: ReLUNet, lo: np.ndarray, hi: np.ndarray, known: NetworkBounds | None = None) -> NetworkBounds:
    """CROWN over the box [lo, hi]: the bounds of every neuron whose sign the interval bounds leave open by
    back-substitution to the input, intersected with the interval bounds and with ``known`` (bounds on a box
    containing this one); the output's affine bounds in x."""
    centre, radius = (lo + hi) / 2, (hi - lo) / 2
    interval = interval_bounds(net, lo, hi, known)
    lowers, uppers = [interval.lower[0]], [interval.upper[0]]  # z_1 is affine in x: its interval bounds are exact
    relaxations = [_relaxation(lowers[0], uppers[0])]
    for i in range(1, net.depth):
        low, high = interval.lower[i].copy(), interval.upper[i].copy()
        undecided = (low < 0) & (high > 0)  # a neuron of fixed sign has an exact relaxation whatever its bounds
        if undecided.any():
            rows = net.layers[i].dense()[undecided]
            bias = net.effective_biases[i][undecided]
            low_coef, low_const = _back_substitute(net, rows, bias, relaxations, upper_side=False)
            high_coef, high_const = _back_substitute(net, rows, bias, relaxations, upper_side=True)
            low[undecided] = np.maximum(_concretise(low_coef, low_const, centre, radius, False), low[undecided])
            high[undecided] = np.minimum(_concretise(high_coef, high_const, centre, radius, True), high[undecided])
        lowers.append(low)
        uppers.append(high)
        relaxations.append(_relaxation(low, high))
    readout = net.readout_layer
    rows = np.eye(net.widths[-1]) if readout is None else readout.dense()
    shift = np.zeros(len(rows)) if net.readout_bias is None else np.asarray(net.readout_bias, dtype=float)
    L, a = _back_substitute(net, rows, shift, relaxations, upper_side=False)
    U, b = _back_substitute(net, rows, shift, relaxations, upper_side=True)
    out_low = np.maximum(_concretise(L, a, centre, radius, False), interval.output_lower)
    out_high = np.minimum(_concretise(U, b, centre, radius, True), interval.output_upper)
    return NetworkBounds(tuple(lowers), tuple(uppers), out_low, out_high, (L, a, U, b))


BOUNDS = {"interval": interval_bounds, "linear": linear_bounds}
"""The bound propagations by name."""

__all__ = ["BOUNDS", "NetworkBounds", "interval_bounds", "linear_bounds"]
