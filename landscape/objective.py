r"""The inversion objective :math:`f(x) = \tfrac12 \|A G(x) - A y\|^2` and its exact derivatives."""

from __future__ import annotations

import numpy as np

from . import _kernels, validate
from .activation import DEFAULT_BOUNDARY_RTOL, rounding_slack
from .layers import Dense
from .network import ReLUNet


def gaussian_measurements(m: int, n: int, rng=None) -> np.ndarray:
    r"""A Gaussian measurement matrix :math:`A \in \mathbb{R}^{m \times n}` with i.i.d. :math:`\mathcal{N}(0, 1/m)` entries.

    Examples
    --------
    >>> gaussian_measurements(5, 40, rng=0).shape
    (5, 40)
    """
    m = validate.positive_int(m, "m")
    n = validate.positive_int(n, "n")
    return validate.rng(rng).normal(0.0, 1.0 / np.sqrt(m), size=(m, n))


def residual_map(V, c, A, y):
    r"""``(B, b)`` with :math:`A(V x_d + c) - A y = B x_d - b`: :math:`B = A V` and :math:`b = A(y - c)`, the readout
    bias moved to the target. An absent V, c or A (None) is the identity or zero, and B is None when both A and V
    are absent. Written with ``@``, ``-`` and ``.T`` only, so NumPy and JAX arrays alike pass through it."""
    shifted = y if c is None else y - c
    b = shifted if A is None else shifted @ A.T
    B = V if A is None else (A if V is None else A @ V)
    return B, b


class Objective:
    r"""The least-squares inversion objective of the Surfing paper, equation (1).

    .. math:: f(x) = \tfrac12 \|A G(x, \theta) - A y\|^2

    On each linear piece of G, :math:`G(x) = Jx + c` and f is the convex quadratic
    :math:`\tfrac12\|A(Jx + c) - Ay\|^2` with gradient :math:`J^\top A^\top (A G(x) - A y)`.

    Parameters
    ----------
    net : ReLUNet
    y : array_like, shape (n,) or (B, n)
        The target, ``n = net.output_dim``; or B targets paired row by row with batches of B points
        (then every X passed in must have B rows), so that many inversions share one network pass.
    A : array_like of shape (m, n), or None
        The measurement matrix; None means the identity (``m = n``).

    Examples
    --------
    >>> net = ReLUNet.random([2, 20, 40], rng=0)
    >>> f = Objective(net, y=net.forward([1.0, 0.5]))
    >>> float(f.value([1.0, 0.5]))
    0.0
    """

    def __init__(self, net: ReLUNet, y, A=None):
        if not isinstance(net, ReLUNet):
            raise ValueError(f"net must be a ReLUNet; got {type(net).__name__}")
        n = net.output_dim
        self._net = net
        if np.ndim(y) == 2:
            self._y = validate.frozen(validate.matrix(y, "y", (None, n)))
        else:
            self._y = validate.frozen(validate.vector(y, "y", n))
        if A is not None:
            A = validate.frozen(validate.matrix(A, "A", (None, n)))
        self._A = A
        readout = net.readout_layer
        # a readout kept as an operator stays one: B x_d = A (V x_d), B^T r = V^T (A^T r)
        self._readout_operator = readout if readout is not None and not isinstance(readout, Dense) else None
        V = None if readout is None or self._readout_operator is not None else readout.W
        self._B, self._Ay = residual_map(V, net.readout_bias, A, self._y)
        if self._readout_operator is not None:
            self._B = None if A is None else A  # the measurement part; V is applied as an operator

    @property
    def net(self) -> ReLUNet:
        return self._net

    @property
    def y(self) -> np.ndarray:
        return self._y

    @property
    def A(self) -> np.ndarray | None:
        """The measurement matrix, or None for the identity."""
        return self._A

    def densified(self, purpose: str) -> Objective:
        """This objective on its network's dense form (:meth:`~landscape.ReLUNet.densified`; itself for a dense
        network), for the exact machinery that needs the matrices (region enumeration, QPs per region); a
        ValueError naming ``purpose`` and the memory needed where that form is too large."""
        if not self._net.structured:
            return self
        try:
            return Objective(self._net.densified(), self._y, self._A)
        except MemoryError as error:
            raise ValueError(f"objective: {purpose}, on the network's dense matrices; {error}") from None

    @property
    def residual_map(self) -> tuple[np.ndarray | None, np.ndarray]:
        r"""``(B, b)`` with :math:`r(x) = B x_d - b` on the last hidden layer's output :math:`x_d`, so that
        :math:`f = \tfrac12\|r\|^2`: :math:`B = A V` (or the factor present, A or V; None when both are absent,
        the identity) and :math:`b = A(y - c)`, the readout bias c moved to the target; b has y's shape, (m,) or
        (B, m). A readout kept as an operator has no matrix B here (see :meth:`residual_operator`)."""
        if self._readout_operator is not None:
            raise ValueError(f"the readout of {self._net!r} is an operator ({self._readout_operator!r}), so r = B x_d - b "
                             "has no matrix B; use Objective.residual_operator")
        return self._B, self._Ay

    @property
    def residual_operator(self) -> tuple:
        r"""``(apply, transpose, b)``: functions :math:`x_d \mapsto B x_d` and :math:`r \mapsto B^\top r` on batches of
        rows, and b, for any readout (a matrix or an operator); :attr:`residual_map` gives B itself where it is a
        matrix."""
        return self._apply_B, self._apply_B_transpose, self._Ay

    @property
    def m(self) -> int:
        """Number of measurements (``n`` when ``A`` is the identity)."""
        return self._net.output_dim if self._A is None else self._A.shape[0]

    # ------------------------------------------------------------------ internals
    def _hidden_outputs(self, X: np.ndarray) -> list[np.ndarray]:
        outputs = [X]
        for layer, b in zip(self._net.layers, self._net.effective_biases):
            z = np.ascontiguousarray(layer.linear(outputs[-1]))
            _kernels.bias_relu_inplace(z, b)
            outputs.append(z)
        return outputs

    def _apply_B(self, x_d: np.ndarray) -> np.ndarray:
        if self._readout_operator is not None:
            x_d = self._readout_operator.linear(x_d)
        return x_d if self._B is None else x_d @ self._B.T

    def _apply_B_transpose(self, r: np.ndarray) -> np.ndarray:
        g = r if self._B is None else r @ self._B
        return g if self._readout_operator is None else self._readout_operator.transpose(g)

    def _points(self, X, name: str = "X") -> tuple[np.ndarray, bool]:
        X, single = validate.points(X, name, self._net.input_dim)
        if self._y.ndim == 2 and X.shape[0] != self._y.shape[0]:
            raise ValueError(f"{name} must hold one point per target, shape ({self._y.shape[0]}, "
                             f"{self._net.input_dim}); got {X.shape}")
        return X, single

    def _residual(self, x_d: np.ndarray) -> np.ndarray:
        return self._apply_B(x_d) - self._Ay

    def _backward(self, outputs: list[np.ndarray], r: np.ndarray) -> np.ndarray:
        g = np.ascontiguousarray(self._apply_B_transpose(r))
        for i in range(self._net.depth, 0, -1):
            _kernels.gate_inplace(g, outputs[i])
            g = np.ascontiguousarray(self._net.layers[i - 1].transpose(g))
        return g

    # ------------------------------------------------------------------ public
    def value(self, X):
        r""":math:`f(x) = \tfrac12\|A G(x) - A y\|^2`: a float for one point ``(k,)``, ``(N,)`` for a batch."""
        X, single = self._points(X)
        r = self._residual(self._hidden_outputs(X)[-1])
        values = 0.5 * np.einsum("ij,ij->i", r, r)
        return float(values[0]) if single else values

    __call__ = value

    def residual(self, X):
        r"""The residual :math:`r(x) = A(G(x) - y)`, with :math:`f = \tfrac12\|r\|^2`: shape ``(m,)`` for one point,
        ``(N, m)`` for a batch."""
        X, single = self._points(X)
        r = self._residual(self._hidden_outputs(X)[-1])
        return r[0] if single else r

    def grad(self, X):
        r"""The exact gradient on the linear piece containing x: :math:`J^\top A^\top (A G(x) - A y)`.

        The piece is the one of x's activation pattern :math:`(z_{ij} > 0)`; at a point on a
        piece boundary this is the gradient of that piece's quadratic. Shapes ``(k,)`` or ``(N, k)``.
        """
        X, single = self._points(X)
        outputs = self._hidden_outputs(X)
        g = self._backward(outputs, self._residual(outputs[-1]))
        return g[0] if single else g

    def value_and_grad(self, X):
        """``(value(X), grad(X))`` from one forward and one backward pass."""
        X, single = self._points(X)
        outputs = self._hidden_outputs(X)
        r = self._residual(outputs[-1])
        values = 0.5 * np.einsum("ij,ij->i", r, r)
        g = self._backward(outputs, r)
        return (float(values[0]), g[0]) if single else (values, g)

    def directional_derivative(self, X, D, rtol: float = DEFAULT_BOUNDARY_RTOL):
        r"""The one-sided directional derivative, exactly, also where f is not differentiable.

        .. math:: D_d f(x) = \lim_{t \to 0^+} \frac{f(x + t d) - f(x)}{t} = (A G(x) - A y)^\top A \dot G,

        where :math:`\dot G` is the derivative of :math:`t \mapsto G(x + td)` at :math:`0^+`,
        propagated with the one-sided pattern along d: a neuron is active on the ray when
        :math:`z > 0`, or when it lies on its switching hyperplane and :math:`\dot z > 0`.
        This is the quantity of equation (2) / Theorem 3.1 with :math:`d = -x/\|x\|`.

        Parameters
        ----------
        X : array_like, shape (k,) or (N, k)
        D : array_like, same shape as X
            Directions (not normalised here).
        rtol : float
            A neuron counts as lying on its switching hyperplane when its pre-activation is within its
            rounding slack (see :func:`landscape.on_switching_hyperplanes`), which absorbs the rounding of
            points constructed on a boundary; ``rtol=0`` is the strict floating-point reading.

        Returns
        -------
        float for one point, ``(N,)`` for a batch.
        """
        rtol = validate.nonnegative_scalar(rtol, "rtol")
        X, single = self._points(X)
        D_checked, _ = self._points(D, "D")
        if D_checked.shape != X.shape:
            expected = X.shape[1:] if single else X.shape
            raise ValueError(f"D must have the same shape as X, {expected}; got {np.shape(D)}")
        x, xdot, slack = X, D_checked, np.zeros_like(X)
        for layer, b in zip(self._net.layers, self._net.effective_biases):
            slack = np.ascontiguousarray(rounding_slack(layer, b, x, slack, rtol))
            z, zdot = np.ascontiguousarray(layer.linear(x)), np.ascontiguousarray(layer.linear(xdot))
            _kernels.one_sided_step(z, zdot, b, slack)
            x, xdot = z, zdot
        r = self._residual(x)
        rdot = self._apply_B(xdot)
        slopes = np.einsum("ij,ij->i", r, rdot)
        return float(slopes[0]) if single else slopes

    def __repr__(self) -> str:
        return f"Objective({self._net!r}, m={self.m}, A={'identity' if self._A is None else 'matrix'})"


def checked_objective(value, name: str = "objective") -> Objective:
    """``value`` if it is an :class:`Objective`, else a ValueError naming the argument."""
    if not isinstance(value, Objective):
        raise ValueError(f"{name} must be an Objective; got {type(value).__name__}")
    return value
