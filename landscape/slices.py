r"""Exact slices of a k-dimensional landscape: f restricted to a plane or a segment of the latent space.

On the affine set :math:`x = p + U s` (U of shape k × d with orthonormal columns, d = 2 for a plane, 1 for a
segment), :math:`G(p + U s) = G'(s)` where G' is the same network with its first layer
:math:`W_1 x + b_1` replaced by :math:`(W_1 U) s + (W_1 p + b_1)`: again a ReLU network, with a d-dimensional
input. Every exact tool of the library (regions, the planar mesh, certified minimisers) therefore applies to the
slice as it is, and a slice's regions are the intersections of G's regions with the plane. The first layer is
applied to U's columns and to p as an operator, so a convolutional first layer is never densified.

The columns of U are orthonormal, so distances within the slice are distances in :math:`\mathbb R^k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .critical import LocalMinimum, local_minima
from .enumeration import enumerate_regions
from .layers import Dense
from .network import ReLUNet, checked_network
from .objective import Objective, checked_objective
from .polish import is_local_minimum

DEGENERATE_RTOL = 1e-10
"""Directions whose orthogonalised length falls below DEGENERATE_RTOL times their own length span no new dimension."""


@dataclass(frozen=True)
class Slice:
    """An affine slice x = origin + basis @ s of a network's latent space, and the network restricted to it.

    ``net`` is G' with G'(s) = G(origin + basis s), ``source`` is G; ``basis`` (k, d) has orthonormal columns."""

    origin: np.ndarray
    basis: np.ndarray
    net: ReLUNet
    source: ReLUNet

    @property
    def dimension(self) -> int:
        return self.basis.shape[1]

    def points(self, S) -> np.ndarray:
        """The latent points x = origin + basis s for rows s of S (n, d) (or one s)."""
        S = np.asarray(S, dtype=float)
        return self.origin + S @ self.basis.T

    def coordinates(self, X) -> np.ndarray:
        """The slice coordinates s = basisᵀ (x − origin) of points x of the slice (rows of X, or one x)."""
        X = np.asarray(X, dtype=float)
        return (X - self.origin) @ self.basis

    def objective(self, objective: Objective) -> Objective:
        """f restricted to the slice: the same target and measurements on G' (f must be an objective of G)."""
        checked_objective(objective)
        if objective.net is not self.source and objective.net != self.source:
            raise ValueError(f"objective is for another network ({objective.net!r}) than the one sliced "
                             f"({self.source!r})")
        return Objective(self.net, objective.y, objective.A)


def _slice(net: ReLUNet, origin: np.ndarray, basis: np.ndarray) -> Slice:
    """The slice x = origin + basis s of ``net``: its first layer applied to the basis and the origin."""
    first, *rest = net.layers
    layer = Dense(first.linear(basis.T).T, first.apply(origin[None])[0], "W1 U")
    if net.structured:
        return Slice(origin, basis, ReLUNet.from_layers([layer, *rest], net.readout_layer), net)
    # dense: kept as a plain ReLUNet, so that a readout bias without a readout matrix is kept too
    return Slice(origin, basis, ReLUNet([layer.W, *net.weights[1:]], [layer.bias, *net.effective_biases[1:]],
                                        net.readout, net.readout_bias), net)


def _planar_latent(net) -> int:
    """k of a network that a plane can cut (k >= 2)."""
    k = checked_network(net).input_dim
    if k < 2:
        raise ValueError(f"a plane needs a latent dimension k >= 2; the network has k = {k}")
    return k


def _orthonormal(directions: np.ndarray, name: str) -> np.ndarray:
    """Gram–Schmidt on the columns of ``directions`` (k, d); refuses a zero or dependent direction."""
    basis = []
    for j, column in enumerate(directions.T):
        length = np.linalg.norm(column)
        residual = column - sum(((b @ column) * b for b in basis), np.zeros_like(column))
        if length == 0 or np.linalg.norm(residual) <= DEGENERATE_RTOL * length:
            raise ValueError(f"{name} must span {directions.shape[1]} dimensions: direction {j + 1} is "
                             + ("zero" if length == 0 else "parallel to the ones before it"))
        basis.append(residual / np.linalg.norm(residual))
    return np.column_stack(basis)


def plane_at(net: ReLUNet, x, u, v) -> Slice:
    r"""The plane through x spanned by the directions u and v (orthonormalised: s = (0, 0) is x, s₁ runs along u)."""
    k = _planar_latent(net)
    x = validate.point(x, "x", k)
    directions = np.column_stack([validate.point(u, "u", k), validate.point(v, "v", k)])
    return _slice(net, x, _orthonormal(directions, "u and v"))


def plane_through(net: ReLUNet, a, b, c) -> Slice:
    """The plane through three latent points (say x*, regular Adam's end point and surfing's): a at s = (0, 0), b on
    the first axis; refused when the points are collinear."""
    k = _planar_latent(net)
    a, b, c = (validate.point(p, name, k) for p, name in ((a, "a"), (b, "b"), (c, "c")))
    try:
        basis = _orthonormal(np.column_stack([b - a, c - a]), "b − a and c − a")
    except ValueError as error:
        raise ValueError(f"a, b and c must not be collinear (or coincide): {error}") from None
    return _slice(net, a, basis)


@dataclass(frozen=True)
class SegmentProfile:
    r"""f along the segment x(t) = a + t (b − a)/‖b − a‖, t ∈ [0, L], L = ‖b − a‖, exactly.

    f is a convex quadratic in t between consecutive ``breakpoints`` (where the segment crosses a neuron's switching
    hyperplane, the ends included), so its largest value on the segment is the largest of ``values`` (f at the
    breakpoints): ``highest`` is an upper bound on the barrier between a and b (a path from a to b never needs to
    climb higher, this one climbs that high). ``minima`` are f's local minima along the segment (t and value;
    those at t = 0 or L may be minima of the segment only)."""

    slice: Slice
    length: float
    breakpoints: np.ndarray
    values: np.ndarray
    minima: tuple[LocalMinimum, ...]

    @property
    def highest(self) -> float:
        return float(self.values.max())

    @property
    def barrier(self) -> float:
        """``highest`` minus the larger of f at the two ends: how far f rises above both ends along the segment."""
        return float(self.values.max() - max(self.values[0], self.values[-1]))


def segment(objective: Objective, a, b) -> SegmentProfile:
    """The exact profile of f from a to b (see :class:`SegmentProfile`)."""
    checked_objective(objective)
    net = objective.net
    k = net.input_dim
    a, b = validate.point(a, "a", k), validate.point(b, "b", k)
    length = float(np.linalg.norm(b - a))
    if length <= DEGENERATE_RTOL * (1.0 + np.linalg.norm(a)):
        raise ValueError(f"the segment from a to b has length {length:g}: a and b must differ")
    line = _slice(net, a, ((b - a) / length)[:, None])
    restricted = line.objective(objective)
    regions = enumerate_regions(line.net, bounds=(0.0, length))
    ends = sorted({float(t) for region in regions for t in region.vertices()[:, 0]} | {0.0, length})
    breakpoints = np.array(ends)
    values = restricted.value(breakpoints[:, None])
    found = local_minima(restricted, regions=regions)
    return SegmentProfile(line, length, breakpoints, np.asarray(values, dtype=float), tuple(found))


def minima_on_slice(objective: Objective, plane: Slice, bounds) -> list[tuple[LocalMinimum, bool]]:
    """Every local minimum of f restricted to the slice within ``bounds`` (in slice coordinates), each with whether
    it is also a local minimum of f in R^k (:func:`~landscape.polish.is_local_minimum`: it minimises f over every
    region of R^k whose closure contains it)."""
    if not isinstance(plane, Slice):
        raise ValueError(f"plane must be a Slice (plane_at, plane_through); got {type(plane).__name__}")
    restricted = plane.objective(objective)
    return [(m, is_local_minimum(objective, plane.points(m.x))) for m in local_minima(restricted, bounds=bounds)]
