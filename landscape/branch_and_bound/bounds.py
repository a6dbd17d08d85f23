r"""Bounds on a ReLU network over a box of inputs: interval arithmetic and linear relaxations (CROWN).

For :math:`z_1 = W_1 x + b_1`, :math:`z_i = W_i \sigma(z_{i-1}) + b_i` and :math:`G = V \sigma(z_d) + c` over
:math:`x \in [lo, hi]`:

- *Interval bounds* (interval bound propagation): with centre and radius of each layer's input box,
  :math:`z_i \in W_i m \pm |W_i| r + b_i`, then :math:`\sigma` applied to both ends.
- *Linear bounds* (CROWN, Zhang et al. 2018): each unstable ReLU (:math:`l < 0 < u`) is enclosed between the lines
  :math:`\alpha z \le \sigma(z) \le \tfrac{u}{u - l}(z - l)`, α = 1 where :math:`u > -l` and 0 otherwise; stable
  ones are exact. Substituting backwards from a layer to the input gives affine functions
  :math:`\underline A x + \underline a \le z(x) \le \overline A x + \overline a` on the box, tight where every
  neuron on the way is stable. Each layer's pre-activation bounds come first from forward affine bounds (the
  previous layer's affine bounds pushed through its relaxation and W: k + 1 products with the layer), intersected
  with the interval ones and with the bounds known on an enclosing box; the neurons these leave undecided are
  bounded again by back-substitution. The output's affine bounds come from back-substitution; so does the lower
  bound of any chosen affine function :math:`c^\top G` (:func:`lower_linear_bound`), its own ReLU lines picked for
  that one row, which is all the search's tangent bound needs (:func:`relaxation_bounds` skips the output's).

Layers are used as operators (:meth:`~landscape.layers.Affine.linear`, ``transpose``, ``absolute_linear``), so the
structured networks bound as the dense ones do. For a dense network, :func:`relaxation_bounds` (the search's) and
:func:`lower_linear_bound` on its bounds run in compiled kernels instead (:mod:`._crown`: one call a box, the same
bounds up to the order of floating-point sums, tested equal; their back-substitution folds the first layer into the
second, :func:`._crown.fold_first_layer`). The bounds are those of exact arithmetic up to floating-point rounding of
the products (relative 1e-15 per operation; no outward rounding).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layers import Dense
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
        bounds, and for linear bounds asked without the output's (``output=False``).
    relaxations : tuple
        With linear bounds: each hidden layer's ReLU relaxation over the box, through which
        :func:`lower_linear_bound` bounds any affine function of G; empty for interval bounds.
    """

    lower: tuple[np.ndarray, ...]
    upper: tuple[np.ndarray, ...]
    output_lower: np.ndarray
    output_upper: np.ndarray
    output_linear: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    relaxations: tuple = field(default=(), repr=False, compare=False)

    @property
    def unstable(self) -> int:
        """Neurons whose sign is not fixed on the box (:math:`l < 0 < u`)."""
        count = self.__dict__.get("_unstable")
        if count is None:
            count = sum(int(np.count_nonzero((l < 0) & (u > 0))) for l, u in zip(self.lower, self.upper))
            object.__setattr__(self, "_unstable", count)  # counted once: the search asks for it more than once
        return count

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


class _Relaxation:
    r"""The lines :math:`\alpha z \le \sigma(z) \le s z + t` of one layer's ReLUs over the box, and the products with
    that layer's matrix that the back-substitutions need.

    An unstable ReLU (:math:`l < 0 < u`) gets :math:`s = u/(u - l)`, :math:`t = -ul/(u - l)` and α = 1 where
    :math:`u > -l`, else 0; a stable one is exact (s = α = 1, t = 0 where active; all 0 where inactive). An inactive
    neuron's column of Λ is zero after the relaxation, so Λ W uses only the rows of W of the others (``live``)."""

    def __init__(self, layer, bias: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        active, unstable = lower >= 0, (lower < 0) & (upper > 0)
        width = np.where(unstable, upper - lower, 1.0)
        self.slope = np.where(active, 1.0, np.where(unstable, upper / width, 0.0))
        self.intercept = np.where(unstable, -upper * lower / width, 0.0)
        self.alpha = np.where(active, 1.0, np.where(unstable, (upper > -lower).astype(float), 0.0))
        self.layer, self.bias = layer, bias
        self._live = None

    def _live_parts(self):
        """(live neurons, their rows of W, bias, slope, intercept, α), built on first use."""
        if self._live is None:
            live = slice(None) if np.all(self.slope > 0) else np.flatnonzero(self.slope > 0)
            self._live = (live, self.layer.W[live], self.bias[live], self.slope[live], self.intercept[live],
                          self.alpha[live])
        return self._live

    def through(self, Lam: np.ndarray, const: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""One step of the lower back-substitution: :math:`\Lambda \sigma(z) + c \ge \Lambda' z + c'`, then
        :math:`z = W x_{\text{prev}} + b`: returns :math:`(\Lambda' W, c' + \Lambda' b)`."""
        if isinstance(self.layer, Dense):
            live, rows, bias, slope, intercept, alpha = self._live_parts()
            Lam = Lam[:, live]
        else:
            rows, bias, slope, intercept, alpha = None, self.bias, self.slope, self.intercept, self.alpha
        negative = np.minimum(Lam, 0.0)
        const = const + negative @ intercept
        Lam = np.maximum(Lam, 0.0) * alpha + negative * slope
        const = const + Lam @ bias
        return (self.layer.transpose(Lam) if rows is None else Lam @ rows), const  # Λ W, row by row


def _lower_substitute(coefficients: np.ndarray, constant: np.ndarray,
                      relaxations) -> tuple[np.ndarray, np.ndarray]:
    r"""Affine lower bounds in x, ``(L, a)`` with :math:`Lx + a \le \Lambda \sigma(z_j) + \text{constant}` on the box,
    j the last layer of ``relaxations``: each row's positive part goes through the lower lines α z of the ReLUs, its
    negative part through the upper lines s z + t, layer by layer back to the input."""
    Lam, const = coefficients, constant
    for relaxation in reversed(relaxations):
        Lam, const = relaxation.through(Lam, const)
    return Lam, const


def _back_substitute(coefficients: np.ndarray, constant: np.ndarray,
                     relaxations) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Affine bounds in x of :math:`\Lambda \sigma(z_j) + \text{constant}`, j the last layer of ``relaxations``:
    ``(L, a, U, b)`` with :math:`Lx + a \le \Lambda \sigma(z_j) + \text{constant} \le Ux + b` on the box.

    Both sides go through the layers in one pass: the upper bound of Λσ(z) is minus the lower bound of (−Λ)σ(z), so
    the rows [Λ; −Λ] are bounded from below together (:func:`_lower_substitute`)."""
    m = len(coefficients)
    Lam, const = _lower_substitute(np.concatenate([coefficients, -coefficients]),
                                   np.concatenate([constant, -constant]), relaxations)
    return Lam[:m], const[:m], -Lam[m:], -const[m:]


def _rows(layer, chosen: np.ndarray | None = None) -> np.ndarray:
    """The rows of a layer's matrix W (all, or those where ``chosen`` is True), without densifying an operator."""
    if isinstance(layer, Dense):
        return layer.W if chosen is None else layer.W[chosen]
    units = np.eye(layer.out_dim)
    return layer.transpose(units if chosen is None else units[chosen])


def _concretise(coefficients, constant, centre, radius, upper_side: bool) -> np.ndarray:
    spread = np.abs(coefficients) @ radius
    middle = coefficients @ centre + constant
    return middle + spread if upper_side else middle - spread


def _forward(layer, bias: np.ndarray, relaxation: _Relaxation, lower: np.ndarray,
             upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Affine bounds of the next layer's pre-activations from affine bounds of this one's, rows ``(coefficients on x,
    constant)`` stacked as (n, k + 1): with :math:`\underline\sigma = \alpha \underline z \le \sigma(z) \le
    s \overline z + t = \overline\sigma`, :math:`W\sigma + b` lies between
    :math:`W \tfrac{\underline\sigma + \overline\sigma}{2} \mp |W| \tfrac{\overline\sigma - \underline\sigma}{2} + b`
    (k + 1 products with the layer: cheap for small k, looser than back-substitution)."""
    below = relaxation.alpha[:, None] * lower
    above = relaxation.slope[:, None] * upper
    above[:, -1] += relaxation.intercept
    middle = layer.linear(((below + above) / 2).T).T
    spread = layer.absolute_linear(((above - below) / 2).T).T
    middle[:, -1] += bias
    return middle - spread, middle + spread


def linear_bounds(net: ReLUNet, lo: np.ndarray, hi: np.ndarray, known: NetworkBounds | None = None,
                  output: bool = True) -> NetworkBounds:
    """CROWN over the box [lo, hi]: every layer's pre-activation bounds from forward affine bounds (cheap for small
    k), intersected with the interval bounds and with ``known`` (bounds on a box containing this one); the neurons
    whose sign these leave open are bounded again by back-substitution to the input; with ``output``, the output's
    affine bounds in x by back-substitution (without, the output's bounds are the interval ones, and
    :func:`lower_linear_bound` bounds chosen affine functions of G instead)."""
    centre, radius = (lo + hi) / 2, (hi - lo) / 2
    interval = interval_bounds(net, lo, hi, known)
    biases = net.effective_biases
    first = net.layers[0]
    exact = np.hstack([first.linear(np.eye(len(lo))).T, biases[0][:, None]])  # z_1 is affine in x: bounds exact
    lowers, uppers = [interval.lower[0]], [interval.upper[0]]
    relaxations = [_Relaxation(first, biases[0], lowers[0], uppers[0])]
    below, above = exact, exact
    for i in range(1, net.depth):
        layer, bias = net.layers[i], biases[i]
        below, above = _forward(layer, bias, relaxations[-1], below, above)
        low = np.maximum(_concretise(below[:, :-1], below[:, -1], centre, radius, False), interval.lower[i])
        high = np.minimum(_concretise(above[:, :-1], above[:, -1], centre, radius, True), interval.upper[i])
        undecided = (low < 0) & (high > 0)  # a neuron of fixed sign has an exact relaxation whatever its bounds
        if undecided.any() and i > 1:  # through one relaxation the forward bounds are the back-substituted ones
            low_coef, low_const, high_coef, high_const = _back_substitute(_rows(layer, undecided), bias[undecided],
                                                                          relaxations)
            low[undecided] = np.maximum(_concretise(low_coef, low_const, centre, radius, False), low[undecided])
            high[undecided] = np.minimum(_concretise(high_coef, high_const, centre, radius, True), high[undecided])
        lowers.append(low)
        uppers.append(high)
        relaxations.append(_Relaxation(layer, bias, low, high))
    relaxations = tuple(relaxations)
    if not output:
        return NetworkBounds(tuple(lowers), tuple(uppers), interval.output_lower, interval.output_upper, None,
                             relaxations)
    readout = net.readout_layer
    rows = np.eye(net.widths[-1]) if readout is None else _rows(readout)
    shift = np.zeros(len(rows)) if net.readout_bias is None else np.asarray(net.readout_bias, dtype=float)
    L, a, U, b = _back_substitute(rows, shift, relaxations)
    out_low = np.maximum(_concretise(L, a, centre, radius, False), interval.output_lower)
    out_high = np.minimum(_concretise(U, b, centre, radius, True), interval.output_upper)
    return NetworkBounds(tuple(lowers), tuple(uppers), out_low, out_high, (L, a, U, b), relaxations)


def lower_linear_bound(net: ReLUNet, bounds: NetworkBounds, rows: np.ndarray, shift: np.ndarray, lo: np.ndarray,
                       hi: np.ndarray) -> np.ndarray:
    r"""Lower bounds over the box [lo, hi] of the affine functions :math:`c_j^\top G(x) + s_j` of G (rows
    :math:`c_j` of ``rows``, shape (r, n)), from the linear bounds' relaxations (:func:`linear_bounds`): each row is
    back-substituted on its own, :math:`c^\top G = (V^\top c)^\top \sigma(z_d) + c^\top c_0` through the readout, so a
    ReLU's lower line is chosen for that row (never looser than combining the output's bounds
    :math:`Lx + a \le G \le Ux + b` coordinate by coordinate), then the resulting affine function of x minimised over
    the box. Returns shape (r,)."""
    if not bounds.relaxations:
        raise ValueError("bounds must be linear bounds (linear_bounds): interval bounds keep no relaxations")
    readout = net.readout_layer
    coefficients = rows if readout is None else readout.transpose(rows)
    constant = shift if net.readout_bias is None else shift + rows @ net.readout_bias
    if isinstance(bounds.relaxations, CompiledRelaxations):
        return bounds.relaxations.lower_bounds(coefficients, constant, lo, hi)
    L, a = _lower_substitute(coefficients, constant, bounds.relaxations)
    return _concretise(L, a, (lo + hi) / 2, (hi - lo) / 2, False)


class _DenseCrown:
    """A dense network's arrays as the compiled CROWN kernels (:mod:`._crown`) take them (:func:`dense_crown`)."""

    def __init__(self, net: ReLUNet):
        # writable C-ordered copies throughout: a tuple of arrays that differ in either is not one Numba type
        self.weights = tuple(np.array(W, dtype=float, order="C") for W in net.weights)
        self.transposed = tuple(np.array(W.T, order="C") for W in self.weights)
        self.absolute = tuple(np.abs(W) for W in self.weights)
        self.biases = tuple(np.array(b, dtype=float) for b in net.effective_biases)
        self.first = np.hstack([self.weights[0], self.biases[0][:, None]])
        self.offsets = np.cumsum([0, *net.hidden_widths]).astype(np.int64)
        self.splits = list(zip(self.offsets[:-1], self.offsets[1:]))
        readout = net.readout
        self.has_readout = readout is not None
        self.readout = np.array(readout if self.has_readout else np.zeros((0, 0)), dtype=float, order="C")
        self.absolute_readout = np.abs(self.readout)
        self.readout_bias = np.zeros(net.output_dim) if net.readout_bias is None else \
            np.array(net.readout_bias, dtype=float)
        self.empty = np.zeros(0)

    def bounds(self, lo: np.ndarray, hi: np.ndarray, known: NetworkBounds | None = None) -> NetworkBounds:
        """:func:`relaxation_bounds` over [lo, hi], by :func:`._crown.box_bounds`."""
        from . import _crown

        known_lower, known_upper = (self.empty, self.empty) if known is None else \
            (np.concatenate(known.lower), np.concatenate(known.upper))
        lower, upper, low, high, unstable, *lines = _crown.box_bounds(
            self.weights, self.absolute, self.biases, self.first, self.offsets, self.readout, self.absolute_readout,
            self.readout_bias, self.has_readout, lo, hi, known_lower, known_upper, known is not None)
        found = NetworkBounds(tuple(lower[a:b] for a, b in self.splits), tuple(upper[a:b] for a, b in self.splits),
                              low, high, None, CompiledRelaxations(self, tuple(lines)))
        object.__setattr__(found, "_unstable", unstable)  # counted by the kernel
        return found


def dense_crown(net: ReLUNet) -> _DenseCrown | None:
    """The compiled kernels' arrays of ``net`` (copies of its matrices, so build them once per search), or None
    where ``net`` is not dense (:func:`compiled`)."""
    return _DenseCrown(net) if compiled(net) else None


class CompiledRelaxations:
    """The ReLU relaxations of one box as :func:`._crown.box_bounds` returns them (lines and the folded first
    layer), for :func:`lower_linear_bound`."""

    __slots__ = ("crown", "lines")

    def __init__(self, crown: _DenseCrown, lines: tuple):
        self.crown, self.lines = crown, lines

    def lower_bounds(self, coefficients: np.ndarray, constant: np.ndarray, lo: np.ndarray,
                     hi: np.ndarray) -> np.ndarray:
        r"""The minimum over [lo, hi] of the lower bound of each row of
        :math:`\Lambda \sigma(z_d) + \text{constant}`."""
        from . import _crown

        crown = self.crown
        return _crown.affine_lower_bounds(np.ascontiguousarray(coefficients, dtype=float),
                                          np.ascontiguousarray(constant, dtype=float), crown.weights, crown.biases,
                                          crown.first, crown.offsets, lo, hi, *self.lines)

    def tangent_values(self, A: np.ndarray | None, y: np.ndarray, points: np.ndarray, lo: np.ndarray,
                       hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tangent bounds at the residuals of ``points`` and f there, by :func:`._crown.tangent_values`."""
        from . import _crown

        crown = self.crown
        return _crown.tangent_values(crown.weights, crown.transposed, crown.biases, crown.first, crown.offsets,
                                     crown.readout, crown.readout_bias, crown.has_readout, lo, hi, *self.lines,
                                     *self._measurement(A, y), np.ascontiguousarray(points, dtype=float))

    def centre_tangent(self, A: np.ndarray | None, y: np.ndarray, lo: np.ndarray,
                       hi: np.ndarray) -> tuple[float, np.ndarray, float]:
        """The larger of the tangent bounds at the box's centre and at its Gauss–Newton point, the point of the two
        where f is lower and f there, by :func:`._crown.centre_tangent` (one call)."""
        from . import _crown

        crown = self.crown
        return _crown.centre_tangent(crown.weights, crown.transposed, crown.biases, crown.first, crown.offsets,
                                     crown.readout, crown.readout_bias, crown.has_readout, lo, hi, *self.lines,
                                     *self._measurement(A, y))

    def _measurement(self, A: np.ndarray | None, y: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray]:
        """(A, whether there is one, y) as the tangent kernels take them: A an empty matrix for the identity."""
        measured = A is not None
        return (np.ascontiguousarray(A if measured else self.crown.empty.reshape(0, 0), dtype=float), measured,
                np.ascontiguousarray(y, dtype=float))


def compiled(net: ReLUNet) -> bool:
    """Whether the linear bounds of ``net`` run in the compiled kernels: every layer and the readout dense."""
    return isinstance(net, ReLUNet) and not net.structured and (net.readout_layer is None
                                                                or isinstance(net.readout_layer, Dense))


def relaxation_bounds(net: ReLUNet, lo: np.ndarray, hi: np.ndarray, known: NetworkBounds | None = None) -> NetworkBounds:
    """:func:`linear_bounds` without the output's affine bounds: every layer's bounds and relaxations over the box,
    all a search's lower bounds need (:func:`lower_linear_bound`). For a dense network, computed by compiled kernels
    (:mod:`._crown`; the same bounds up to the order of floating-point sums)."""
    crown = dense_crown(net)
    if crown is not None:
        return crown.bounds(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), known)
    return linear_bounds(net, lo, hi, known, output=False)


def propagation(net: ReLUNet, bound: str):
    """The bound propagation named ``bound`` (a key of :data:`BOUNDS`) over sub-boxes of ``net``, as a function
    ``(lo, hi, known) -> NetworkBounds``; for a dense network the linear bounds' arrays are prepared once."""
    crown = dense_crown(net)
    if bound != "interval" and crown is not None:
        return crown.bounds
    return lambda lo, hi, known=None: BOUNDS[bound](net, lo, hi, known)


BOUNDS = {"interval": interval_bounds, "linear": relaxation_bounds, "triangle": relaxation_bounds}
"""The bound propagations of the search by name ("triangle" propagates the linear relaxations; the search then also
solves the triangle relaxation of the network where the tangent bound does not prune)."""

__all__ = ["BOUNDS", "NetworkBounds", "compiled", "interval_bounds", "linear_bounds", "lower_linear_bound",
           "propagation", "relaxation_bounds"]
