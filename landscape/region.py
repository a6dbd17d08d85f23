r"""One linear piece of G: the region of an activation pattern as an H-polytope.

A region (the paper's "linear piece") is the closure of the set of inputs sharing one activation
pattern, when that set has a non-empty interior. Fixing the pattern fixes every pre-activation as
an affine function :math:`z_g(x) = M_g x + m_g`, so the region is the H-polytope
:math:`\{x : G x \le h\}` with one row per hidden neuron g:
:math:`-(M_g x + m_g) \le 0` for an active neuron, :math:`M_g x + m_g \le 0` for an inactive one.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from . import _kernels, _polytope, validate
from .activation import ActivationPattern, affine_map, check_pattern, preactivation_maps_of_gates
from .box import as_box
from .errors import EmptyRegionError
from .network import ReLUNet

DEFAULT_INTERIOR_TOL = 1e-9
"""A pattern is a region only if it holds a ball of radius > DEFAULT_INTERIOR_TOL * (1 + |centre|)."""

ZERO_ROW_RTOL = 1e-13
"""A neuron's pre-activation map counts as identically zero on a piece when its gradient's norm is at most
this fraction of the largest in its layer (or exactly 0): rounding, not geometry, at any weight scale."""


def sign_halfspaces(M: np.ndarray, m: np.ndarray, gates: np.ndarray,
                     widths: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm rows ``-(M_g x + m_g)/‖M_g‖ <= 0`` for active g, ``(M_g x + m_g)/‖M_g‖ <= 0`` for inactive g.

    Dividing by ‖M_g‖ leaves the polytope unchanged and puts every row on the scale of x, so that solver
    tolerances mean the same for every layer and every weight scale (a deep layer of small weights has
    rows many orders of magnitude below the first layer's). ``widths`` are the layer sizes: a row is zero
    when it is negligible within its own layer (:data:`ZERO_ROW_RTOL`). A zero row only tests its
    constant; active means z > 0, which the closed row cannot say when z is the constant m_g on the whole
    piece: then the pattern is impossible unless m_g > 0, and the row is made infeasible (0 <= -1).
    """
    norms = np.linalg.norm(M, axis=1)
    ends = np.cumsum(widths)
    layer_max = np.maximum.reduceat(norms, ends - np.asarray(widths)) if len(norms) else norms
    zero = norms <= ZERO_ROW_RTOL * np.repeat(layer_max, widths)
    sign = np.where(gates, -1.0, 1.0)
    scale = np.where(zero, 1.0, norms)
    G, h = (sign / scale)[:, None] * M, -sign * m / scale
    G[zero] = 0.0
    impossible = gates & zero & (m <= 0)
    h[impossible] = -1.0
    return G, h


def with_box(G, h, box):
    """``(G, h)`` with the box rows ``x <= hi`` then ``-x <= -lo`` appended (unchanged for ``box=None``)."""
    if box is None:
        return G, h
    k = G.shape[1]
    lo, hi = box
    return np.vstack([G, np.eye(k), -np.eye(k)]), np.concatenate([h, hi, -lo])


def interior_ball(G, h, interior_tol: float, what: str, box=None):
    r"""The Chebyshev ball, with radius inf when arbitrarily large balls fit; None for an empty interior.

    The LP's radius is checked against the centre's own distances to the rows, :math:`\min_i (h_i - G_i c)/\|G_i\|`:
    the solver meets the constraints to its feasibility tolerance (1e-7) only, so in a region thinner than that its
    centre may lie just outside a row. The smaller of the two is the radius, and a region whose checked radius is
    not above ``interior_tol``·(1 + ‖c‖) has no interior. With ``box`` = (lo, hi), a box the set lies in, the LP is
    solved in the coordinates :math:`u = (x - m)/s` of the box's centre m and largest half-width s
    (:math:`G u \le (h - G m)/s`), so that tolerance is relative to the box: a region of a box
    a millionth wide is found as in a box of width 1."""
    origin, scale = (None, 1.0) if box is None else ((box[0] + box[1]) / 2, float(np.max(box[1] - box[0])) / 2)
    if origin is not None and scale > 0:
        h = (h - G @ origin) / scale
    ball = _polytope.chebyshev_ball(G, h, 1.0, what)
    if ball is None:
        return None
    center, radius = ball
    if radius >= 1.0 - 1e-12:
        if _polytope.recession_cone_has_interior(G, what):
            radius = np.inf
        else:
            center, radius = _polytope.chebyshev_ball(G, h, None, what)
    rows = _polytope.nonzero_rows(G)
    if np.isfinite(radius) and rows.any():
        radius = min(radius, float(np.min((h[rows] - G[rows] @ center) / np.linalg.norm(G[rows], axis=1))))
    if origin is not None and scale > 0:
        center, radius = origin + scale * center, scale * radius
    if radius <= interior_tol * (1.0 + np.linalg.norm(center)):
        return None
    return center, radius


class Region:
    r"""One linear piece of G: a full-dimensional polytope on which :math:`G(x) = Jx + c`.

    Build with :meth:`from_pattern` or :func:`region_of`. Attributes are read-only; facets,
    boundedness and the affine map are computed on first use.

    Attributes
    ----------
    pattern : ActivationPattern
    G, h : ndarray
        One row per hidden neuron (flat order): the region is :math:`\{x : Gx \le h\}`, intersected
        with ``bounds`` when given. Row g is neuron g's sign condition divided by the norm of its
        pre-activation gradient, so rows have unit norm (or are 0 where the pre-activation is constant
        on the piece) and ``h_g - G_g x`` is the distance from x to the hyperplane.
    bounds : (lo, hi) or None
    interior_point : ndarray, shape (k,)
        The Chebyshev centre: the centre of the largest inscribed ball. (Regions from the 2-D fast
        path of :func:`enumerate_regions` carry the polygon's centroid instead.)
    inradius : float
        The radius of the largest ball around ``interior_point`` inside the region; ``inf`` when the
        region holds arbitrarily large balls.
    """

    def __init__(self, net: ReLUNet, pattern: ActivationPattern, G, h, bounds, center=None, radius=None,
                 facets=None, affine=None):
        if affine is not None:  # (J, c), when the builder already has it (from the pattern's pre-activation maps)
            self.__dict__["affine"] = affine
        if facets is not None:  # (rows of halfspaces(), bounded), when the builder already knows them
            self.__dict__["_facets"] = facets
        if center is not None:  # otherwise the Chebyshev LP runs on first use of interior_point or inradius
            self.__dict__["_ball"] = (validate.frozen(np.asarray(center, dtype=float)), float(radius))
        if G is not None:  # otherwise built from the pattern on first use (the mesh path makes many regions)
            self.__dict__["G"], self.__dict__["h"] = validate.frozen(G), validate.frozen(h)
        self._net = net
        self.pattern = pattern
        self.bounds = bounds

    @cached_property
    def _sign_rows(self) -> tuple[np.ndarray, np.ndarray]:
        gates = self.pattern.unpack()
        G, h = sign_halfspaces(*preactivation_maps_of_gates(self._net, gates), gates, self._net.hidden_widths)
        return validate.frozen(G), validate.frozen(h)

    @cached_property
    def G(self) -> np.ndarray:
        return self._sign_rows[0]

    @cached_property
    def h(self) -> np.ndarray:
        return self._sign_rows[1]

    @cached_property
    def _ball(self) -> tuple[np.ndarray, float]:
        ball = interior_ball(*self.halfspaces(), 0.0, f"Chebyshev LP of {self.pattern!r}", self.bounds)
        if ball is None:
            raise EmptyRegionError(f"pattern {self.pattern!r} has an empty interior: it is not a region")
        return validate.frozen(np.asarray(ball[0], dtype=float)), float(ball[1])

    @property
    def interior_point(self) -> np.ndarray:
        return self._ball[0]

    @property
    def inradius(self) -> float:
        return self._ball[1]

    @classmethod
    def from_pattern(cls, net: ReLUNet, pattern: ActivationPattern, bounds=None,
                     interior_tol: float = DEFAULT_INTERIOR_TOL) -> Region:
        """The region of a pattern; raises :class:`EmptyRegionError` when its set has an empty interior."""
        check_pattern(net, pattern)
        interior_tol = validate.nonnegative_scalar(interior_tol, "interior_tol")
        box = as_box(bounds, net.input_dim)
        gates = pattern.unpack()
        G, h = sign_halfspaces(*preactivation_maps_of_gates(net, gates), gates, net.hidden_widths)
        ball = interior_ball(*with_box(G, h, box), interior_tol, f"Chebyshev LP of {pattern!r}", box)
        if ball is None:
            where = "" if box is None else " inside the box"
            raise EmptyRegionError(f"pattern {pattern!r} has an empty interior{where}: it is not a region")
        return cls(net, pattern, G, h, box, *ball)

    # ------------------------------------------------------------------ derived geometry
    def halfspaces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(G, h)`` with the box rows ``x <= hi`` then ``-x <= -lo`` appended when bounded by a box."""
        return with_box(self.G, self.h, self.bounds)

    @cached_property
    def _facets(self) -> tuple[np.ndarray, bool]:
        return _polytope.facets_and_boundedness(*self.halfspaces(), self.interior_point, f"facets of {self.pattern!r}")

    @property
    def facet_rows(self) -> np.ndarray:
        """The rows of :meth:`halfspaces` that are irredundant facets: neurons' rows, then box rows."""
        return self._facets[0]

    @property
    def facets(self) -> np.ndarray:
        """Flat indices of the neurons whose rows are irredundant facets (box faces excluded)."""
        rows = self._facets[0]
        return rows[rows < self.pattern.n_hidden]

    @property
    def box_faces(self) -> list[tuple[int, int]]:
        """Box faces that are facets, as ``(axis, +1)`` for ``x_axis = hi`` and ``(axis, -1)`` for ``lo``."""
        k, H = self._net.input_dim, self.pattern.n_hidden
        rows = self._facets[0]
        return [(int(r - H) % k, 1 if r - H < k else -1) for r in rows[rows >= H]]

    @property
    def bounded(self) -> bool:
        return self.bounds is not None or self._facets[1]

    @property
    def net(self) -> ReLUNet:
        """The network this region belongs to."""
        return self._net

    @cached_property
    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)`` with ``G(x) = J x + c`` on the region."""
        return affine_map(self._net, self.pattern)

    def contains(self, X, atol: float = 1e-9) -> np.ndarray | bool:
        """Whether points satisfy every inequality to within ``atol`` (closed region): with unit rows,
        ``atol`` is a distance in x beyond a hyperplane."""
        atol = validate.nonnegative_scalar(atol, "atol")
        X, single = validate.points(X, "X", self._net.input_dim)
        G, h = self.halfspaces()
        inside = np.all(X @ G.T <= h + atol, axis=1)
        return bool(inside[0]) if single else inside

    def vertices(self) -> np.ndarray:
        """The vertices of a bounded region, shape (V, k): ordered counter-clockwise for k = 2,
        ``[lower, upper]`` for k = 1, unordered for k >= 3."""
        if not self.bounded:
            raise ValueError(f"an unbounded region ({self.pattern!r}) has no vertex description")
        if self._net.input_dim == 2 and self.bounds is not None:
            vertices, _, count = _kernels.clip_box_polygon(self.G, self.h, self.bounds[0], self.bounds[1], 1e-12)
            return vertices[:count].copy()
        return _polytope.vertices(*self.halfspaces(), self.interior_point)

    def volume(self) -> float:
        """Lebesgue measure of a bounded region (length, area, volume, ...)."""
        if not self.bounded:
            raise ValueError(f"volume of an unbounded region ({self.pattern!r}) is infinite")
        return _polytope.volume(*self.halfspaces(), self.interior_point)

    def __repr__(self) -> str:
        return f"Region(k={self._net.input_dim}, inradius={self.inradius:.3g}, pattern={self.pattern.bits.hex()})"
