r"""Linear pieces of G: single regions, the pieces :math:`\mathcal{P}(x, \theta, \tau)`, and exact enumeration.

A region (the paper's "linear piece") is the closure of the set of inputs sharing one activation
pattern, when that set has a non-empty interior. Fixing the pattern fixes every pre-activation as
an affine function :math:`z_g(x) = M_g x + m_g`, so the region is the H-polytope
:math:`\{x : G x \le h\}` with one row per hidden neuron g:
:math:`-(M_g x + m_g) \le 0` for an active neuron, :math:`M_g x + m_g \le 0` for an inactive one.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from functools import cached_property

import numpy as np

from . import _kernels, _polytope, _validate
from ._progress import SILENT, progress_bar
from ._threads import one_blas_thread
from .activation import (
    DEFAULT_BOUNDARY_RTOL,
    ActivationPattern,
    ActivationPatterns,
    _check_pattern,
    activation_pattern,
    affine_map,
    near_zero_mask,
    on_switching_hyperplanes,
    preactivation_maps_of_gates,
)
from .network import ReLUNet

DEFAULT_INTERIOR_TOL = 1e-9
"""A pattern is a region only if it holds a ball of radius > DEFAULT_INTERIOR_TOL * (1 + |centre|)."""


class EmptyRegionError(ValueError):
    """A pattern whose set of inputs has an empty interior: not a region."""


class BoundaryPointError(ValueError):
    """A point on the common boundary of several regions; ``regions`` lists every region touching it."""

    def __init__(self, message: str, regions: list[Region]):
        super().__init__(message)
        self.regions = regions


class TooManyRegionsError(RuntimeError):
    """An enumeration passed ``max_regions``; ``count`` regions had been found when it stopped."""

    def __init__(self, message: str, count: int):
        super().__init__(message)
        self.count = count


def as_box(bounds, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Validate ``bounds = (lo, hi)``: scalars (the same for every coordinate) or arrays of shape (k,)."""
    if bounds is None:
        return None
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise ValueError(f"bounds must be a pair (lo, hi) or None; got {bounds!r}")
    lo, hi = (np.full(k, float(b)) if np.ndim(b) == 0 else b for b in bounds)
    lo, hi = _validate.vector(lo, "bounds[0] (lo)", k), _validate.vector(hi, "bounds[1] (hi)", k)
    if np.any(lo >= hi):
        raise ValueError(f"bounds must satisfy lo < hi in every coordinate; got lo={lo}, hi={hi}")
    return _validate.frozen(lo), _validate.frozen(hi)


def _inside_box(x: np.ndarray, bounds, k: int):
    """The validated box; x may sit on its faces up to rounding (a QP solution on a face often does)."""
    box = as_box(bounds, k)
    if box is not None:
        slack = 1e-9 * (1.0 + np.maximum(np.abs(box[0]), np.abs(box[1])))
        if not (np.all(x >= box[0] - slack) and np.all(x <= box[1] + slack)):
            raise ValueError(f"x = {x} lies outside bounds lo={box[0]}, hi={box[1]}")
    return box


ZERO_ROW_RTOL = 1e-13
"""A neuron's pre-activation map counts as identically zero on a piece when its gradient's norm is at most
this fraction of the largest in its layer (or exactly 0): rounding, not geometry, at any weight scale."""


def _sign_halfspaces(M: np.ndarray, m: np.ndarray, gates: np.ndarray,
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


def _with_box(G, h, box):
    if box is None:
        return G, h
    k = G.shape[1]
    lo, hi = box
    return np.vstack([G, np.eye(k), -np.eye(k)]), np.concatenate([h, hi, -lo])


def _interior_ball(G, h, interior_tol: float, what: str):
    """The Chebyshev ball, with radius inf when arbitrarily large balls fit; None for an empty interior."""
    ball = _polytope.chebyshev_ball(G, h, 1.0, what)
    if ball is None:
        return None
    center, radius = ball
    if radius >= 1.0 - 1e-12:
        if _polytope.recession_cone_has_interior(G, what):
            radius = np.inf
        else:
            center, radius = _polytope.chebyshev_ball(G, h, None, what)
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
                 facets=None):
        if facets is not None:  # (rows of halfspaces(), bounded), when the builder already knows them
            self.__dict__["_facets"] = facets
        if center is not None:  # otherwise the Chebyshev LP runs on first use of interior_point or inradius
            self.__dict__["_ball"] = (_validate.frozen(np.asarray(center, dtype=float)), float(radius))
        if G is not None:  # otherwise built from the pattern on first use (the mesh path makes many regions)
            self.__dict__["G"], self.__dict__["h"] = _validate.frozen(G), _validate.frozen(h)
        self._net = net
        self.pattern = pattern
        self.bounds = bounds

    @cached_property
    def _sign_rows(self) -> tuple[np.ndarray, np.ndarray]:
        gates = self.pattern.unpack()
        G, h = _sign_halfspaces(*preactivation_maps_of_gates(self._net, gates), gates, self._net.hidden_widths)
        return _validate.frozen(G), _validate.frozen(h)

    @cached_property
    def G(self) -> np.ndarray:
        return self._sign_rows[0]

    @cached_property
    def h(self) -> np.ndarray:
        return self._sign_rows[1]

    @cached_property
    def _ball(self) -> tuple[np.ndarray, float]:
        ball = _interior_ball(*self.halfspaces(), 0.0, f"Chebyshev LP of {self.pattern!r}")
        if ball is None:
            raise EmptyRegionError(f"pattern {self.pattern!r} has an empty interior: it is not a region")
        return _validate.frozen(np.asarray(ball[0], dtype=float)), float(ball[1])

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
        _check_pattern(net, pattern)
        interior_tol = _validate.nonnegative_scalar(interior_tol, "interior_tol")
        box = as_box(bounds, net.input_dim)
        gates = pattern.unpack()
        G, h = _sign_halfspaces(*preactivation_maps_of_gates(net, gates), gates, net.hidden_widths)
        ball = _interior_ball(*_with_box(G, h, box), interior_tol, f"Chebyshev LP of {pattern!r}")
        if ball is None:
            where = "" if box is None else " inside the box"
            raise EmptyRegionError(f"pattern {pattern!r} has an empty interior{where}: it is not a region")
        return cls(net, pattern, G, h, box, *ball)

    # ------------------------------------------------------------------ derived geometry
    def halfspaces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(G, h)`` with the box rows ``x <= hi`` then ``-x <= -lo`` appended when bounded by a box."""
        return _with_box(self.G, self.h, self.bounds)

    @cached_property
    def _facets(self) -> tuple[np.ndarray, bool]:
        return _polytope.facets_and_boundedness(*self.halfspaces(), self.interior_point, f"facets of {self.pattern!r}")

    @property
    def facets(self) -> np.ndarray:
        """Flat indices of the neurons whose rows are irredundant facets (box faces excluded)."""
        rows = self._facets[0]
        return rows[rows < self.pattern.n_hidden]

    @property
    def facet_neurons(self) -> list[tuple[int, int]]:
        """The facets as the paper's pairs ``(i, j)``."""
        return [self._net.neuron(int(g)) for g in self.facets]

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
        atol = _validate.nonnegative_scalar(atol, "atol")
        X, single = _validate.points(X, "X", self._net.input_dim)
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


def _radius_around(G: np.ndarray, h: np.ndarray, center: np.ndarray) -> float:
    """The radius of the largest ball around ``center`` inside {Gx <= h} (-inf when it is outside)."""
    norms = np.linalg.norm(G, axis=1)
    slack = h - G @ center
    if np.any(slack[norms == 0] < 0):
        return -np.inf
    moving = norms > 0
    return float(np.min(slack[moving] / norms[moving])) if moving.any() else np.inf


def _crossing_candidates(M_g: np.ndarray, m_g: float, active: bool, witness: np.ndarray, margin: float):
    """Points across neuron g's hyperplane {M_g x + m_g = 0} from ``witness``, on the side ``active`` asks for:
    its mirror image, and the point half its ``margin`` beyond the hyperplane along the normal."""
    norm = float(np.linalg.norm(M_g))
    if norm == 0:
        return []
    unit = M_g / norm
    distance = (M_g @ witness + m_g) / norm
    wanted = 1.0 if active else -1.0
    return [witness + (wanted * abs(distance) - distance) * unit,
            witness + (wanted * 0.5 * min(margin, 1.0 + abs(distance)) - distance) * unit]


def _pieces_by_flips(net: ReLUNet, base: np.ndarray, flips: Iterable[int], box, interior_tol: float,
                     what: str, max_regions: int | None = None, bar=None) -> list[Region]:
    """Every region whose flat gate vector equals ``base`` outside ``flips`` (TooManyRegionsError beyond
    ``max_regions`` of them).

    A depth-first search decides the flipped neurons in layer order. A neuron's row is known once every
    earlier layer is decided, so each node keeps the rows known so far and is pruned as soon as they leave
    no interior: the search visits feasible partial patterns only, not all 2^|flips| of them.

    Each node carries a witness, a point strictly inside its known rows. A child is feasible without an LP
    when the witness, its mirror image across the decided neuron's hyperplane, or a point just across that
    hyperplane stays a ball's width inside the child's rows; only when all three fail does an LP decide.
    Complete patterns keep their witness, and compute their Chebyshev ball only when asked. ``bar``
    (a progress bar) is advanced once per region found.
    """
    bar = SILENT if bar is None else bar
    flips = sorted(int(g) for g in flips)
    layer_of = np.repeat(np.arange(net.depth), net.hidden_widths)
    undecided = np.zeros(net.n_hidden, dtype=bool)
    regions, stack = [], [(base.copy(), 0, None, 0.0)]
    while stack:
        gates, t, witness, margin = stack.pop()
        if t == len(flips):
            G, h = _sign_halfspaces(*preactivation_maps_of_gates(net, gates), gates, net.hidden_widths)
            pattern = ActivationPattern(np.packbits(gates).tobytes(), net.hidden_widths)
            if witness is not None:
                regions.append(Region(net, pattern, G, h, box))
                bar.update()
            else:
                ball = _interior_ball(*_with_box(G, h, box), interior_tol, what)
                if ball is not None:
                    regions.append(Region(net, pattern, G, h, box, *ball))
                    bar.update()
            if max_regions is not None and len(regions) > max_regions:
                raise TooManyRegionsError(f"{what}: more than {max_regions} regions ({len(flips)} neurons to "
                                          "decide)", len(regions))
            continue
        g = flips[t]
        undecided[:] = False
        undecided[flips[t + 1:]] = True
        if t + 1 < len(flips):
            known = (layer_of < layer_of[flips[t + 1]]) | ((layer_of == layer_of[flips[t + 1]]) & ~undecided)
        else:
            known = np.ones(net.n_hidden, dtype=bool)
        for state in (not gates[g], gates[g]):
            child = gates.copy()
            child[g] = state
            M, m = preactivation_maps_of_gates(net, child)
            G, h = _with_box(*(a[known] for a in _sign_halfspaces(M, m, child, net.hidden_widths)), box)
            candidates = [] if witness is None else [witness, *_crossing_candidates(M[g], m[g], state, witness, margin)]
            for point in candidates:
                radius = _radius_around(G, h, point)
                if radius > interior_tol * (1.0 + np.linalg.norm(point)):
                    stack.append((child, t + 1, point, radius))
                    break
            else:
                ball = _interior_ball(G, h, interior_tol, what)
                if ball is not None:
                    stack.append((child, t + 1, ball[0], min(ball[1], 1.0)))
    return regions


LARGE_NEAR_ZERO_SET = 24
"""|S(x, θ, τ)| above which :func:`pieces` warns that P(x, θ, τ) may be huge."""


@one_blas_thread
def pieces(net: ReLUNet, x, tau, bounds=None, interior_tol: float = DEFAULT_INTERIOR_TOL,
           progress: bool = False) -> list[Region]:
    r"""The paper's :math:`\mathcal{P}(x, \theta, \tau)`: every region whose pattern differs from x's only in
    neurons of :math:`S(x, \theta, \tau) = \{(i, j) : |w_{ij}^\top x_{i-1} + b_{ij}| \le \tau\}`.

    Exhaustive by definition (not only the pieces reachable from x's own), without enumerating all
    :math:`2^{|S|}` sign choices: see ``_pieces_by_flips``. x's own region comes first when it is one.
    ``progress=True`` counts the pieces found on standard error (a large S can take minutes).

    Examples
    --------
    >>> net = ReLUNet.random([2, 20, 20], rng=0)
    >>> len(pieces(net, [0.3, 0.1], 0.0))
    1
    """
    _validate.network(net)
    x = _validate.point(x, "x", net.input_dim)
    tau = _validate.nonnegative_scalar(tau, "tau")
    box = _inside_box(x, bounds, net.input_dim)
    base = activation_pattern(net, x).unpack()
    flips = np.flatnonzero(near_zero_mask(net, x, tau))
    interior_tol = _validate.nonnegative_scalar(interior_tol, "interior_tol")
    if len(flips) > LARGE_NEAR_ZERO_SET:
        bound = sum(math.comb(len(flips), i) for i in range(net.input_dim + 1))
        warnings.warn(f"|S(x, θ, τ)| = {len(flips)} neurons at τ = {tau}: P(x, θ, τ) may hold up to about "
                      f"{bound:,} pieces (the cells of {len(flips)} hyperplanes in R^{net.input_dim}) and take long "
                      "to find; a smaller τ shrinks S", stacklevel=3)  # 3: past one_blas_thread
    with progress_bar(progress, None, f"pieces P(x, θ, τ) with |S| = {len(flips)}", "piece") as bar:
        found = _pieces_by_flips(net, base, flips, box, interior_tol, f"pieces P(x, θ, τ={tau}) at x={x}", bar=bar)
    found.sort(key=lambda r: np.count_nonzero(r.pattern.unpack() != base))
    return found


def region_of(net: ReLUNet, x, bounds=None, rtol: float = DEFAULT_BOUNDARY_RTOL,
              interior_tol: float = DEFAULT_INTERIOR_TOL) -> Region:
    r"""The region containing x.

    A neuron whose pre-activation is 0 up to its rounding slack (see
    :func:`~landscape.on_switching_hyperplanes`) counts as passing through x. When x lies on the common boundary of two or more regions this raises
    :class:`BoundaryPointError`, whose ``regions`` attribute lists them, instead of picking one.
    """
    _validate.network(net)
    point = _validate.point(x, "x", net.input_dim)
    interior_tol = _validate.nonnegative_scalar(interior_tol, "interior_tol")
    rtol = _validate.nonnegative_scalar(rtol, "rtol")
    box = _inside_box(point, bounds, net.input_dim)
    pattern = activation_pattern(net, point)
    zero = np.flatnonzero(on_switching_hyperplanes(net, point, rtol))
    what = f"regions touching x={point}"
    touching = _pieces_by_flips(net, pattern.unpack(), zero, box, interior_tol, what)
    if len(touching) == 1:
        return touching[0]
    if not touching:
        raise EmptyRegionError(f"no full-dimensional region contains x = {point}")
    neurons = [net.neuron(int(g)) for g in zero]
    raise BoundaryPointError(
        f"x = {point} lies on the boundary between {len(touching)} regions (neurons {neurons} pass through it); "
        "their list is in this error's .regions", touching)


class RegionSet:
    """All regions of an enumeration, with their facet adjacency.

    Attributes
    ----------
    regions : tuple of Region
    adjacency : ndarray of shape (E, 3)
        Rows ``(a, b, g)``, ``a < b``: regions a and b share a facet on which flat neuron g switches.
    bounds : (lo, hi) or None
    mesh : MeshFaces or None
        From the planar mesh: each region's polygon (see :mod:`landscape._mesh`).

    A set from the planar mesh holds its regions' patterns and interior points as arrays and makes each
    :class:`Region` object when it is first asked for (``regions``, indexing, iteration).
    """

    def __init__(self, net: ReLUNet, regions: list[Region], adjacency: np.ndarray, bounds, make=None, mesh=None):
        self._net = net
        self.mesh = mesh
        self._made = list(regions)
        self._make = make  # make(i) -> Region, for the entries of _made that are None
        self.adjacency = _validate.frozen(np.asarray(adjacency, dtype=np.int64).reshape(-1, 3))
        self.bounds = bounds

    @cached_property
    def _index(self) -> dict[bytes, int]:
        return {bits.tobytes(): i for i, bits in enumerate(self.patterns.packed)}

    @property
    def regions(self) -> tuple[Region, ...]:
        return tuple(self[i] for i in range(len(self)))

    @property
    def net(self) -> ReLUNet:
        """The network whose regions these are."""
        return self._net

    def check_network(self, net: ReLUNet, name: str = "regions") -> None:
        """Raise unless ``net`` is this set's network (the same object or equal parameters)."""
        if net is not self._net and net != self._net:
            raise ValueError(f"{name} were enumerated for another network ({self._net!r}, not the objective's "
                             f"{net!r} or not equal to it); enumerate the regions of the objective's network")

    def __len__(self) -> int:
        return len(self._made)

    @property
    def count(self) -> int:
        return len(self._made)

    def __getitem__(self, i: int) -> Region:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(len(self))[i])
        region = self._made[i]
        if region is None:
            region = self._made[i] = self._make(range(len(self))[i])
        return region

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    @cached_property
    def patterns(self) -> ActivationPatterns:
        packed = np.frombuffer(b"".join(r.pattern.bits for r in self), dtype=np.uint8)
        return ActivationPatterns(packed.reshape(len(self), -1).copy(), self._net.hidden_widths)

    @cached_property
    def interior_points(self) -> np.ndarray:
        return _validate.frozen(np.array([r.interior_point for r in self]).reshape(len(self), self._net.input_dim))

    def polygons(self) -> list[np.ndarray]:
        """Every region's vertices, counter-clockwise (k = 2, bounded), for drawing: the mesh's polygons on the
        planar path (the faces' vertices, exact up to rounding), else each :meth:`Region.vertices`."""
        if self.mesh is None:
            return [region.vertices() for region in self]
        return [self[i].vertices() if self.mesh.decided_by_lp[i] else self.mesh.polygon(i) for i in range(len(self))]

    def index(self, pattern: ActivationPattern) -> int:
        """Position of the region with this pattern; ``KeyError`` if it is not in the set."""
        return self._index[pattern.bits]

    def locate(self, X) -> np.ndarray:
        """For each point, the index of the region whose pattern it has, or -1 (outside the box, or a
        pattern with empty interior, which only happens on boundaries)."""
        X, _ = _validate.points(X, "X", self._net.input_dim)
        found = np.array([self._index.get(bits.tobytes(), -1) for bits in activation_pattern(self._net, X).packed],
                         dtype=np.int64)
        if self.bounds is not None:
            lo, hi = self.bounds
            found[~np.all((X >= lo) & (X <= hi), axis=1)] = -1
        return found

    def neighbours(self, i: int) -> list[tuple[int, int]]:
        """``(j, g)`` for every region j sharing a facet with region i through flat neuron g."""
        a, b, g = self.adjacency.T
        return [(int(o), int(n)) for o, n in zip(np.r_[b[a == i], a[b == i]], np.r_[g[a == i], g[b == i]])]

    def __repr__(self) -> str:
        return f"RegionSet(count={len(self)}, edges={len(self.adjacency)}, bounds={self.bounds})"


CHECK_CHUNK = 16_384
"""Faces whose centroids are checked per pass of :func:`activation_pattern` on the planar path."""


def _regions_from_mesh(net: ReLUNet, box, interior_tol: float, max_regions: int, progress) -> RegionSet:
    """The regions of a 2-D network in a box from its planar mesh (:mod:`landscape._mesh`), each region's
    half-spaces built only when asked. A face is trusted when its centroid lies inside it by more than the
    interior tolerance and has the face's pattern (the mesh's vertices carry rounding, which matters only for
    faces of area ~1e-12); any other face is decided, and its interior point found, by the exact Chebyshev LP
    of :meth:`Region.from_pattern`, as the LP search would."""
    from ._mesh import MeshFaces, adjacency, planar_mesh

    if callable(progress):
        report, bar = progress, SILENT
    else:
        report, bar = None, progress_bar(progress, sum(net.hidden_widths), "regions (planar mesh): neurons cut",
                                         "neuron")

    def on_neuron(done: int, total: int, faces: int) -> None:
        if report is not None:
            report(faces, total - done)
        bar.update()
        bar.set_postfix_str(f"{faces} faces")

    try:
        mesh = planar_mesh(net.weights, net.effective_biases, box[0], box[1], max_regions, on_neuron)
    except OverflowError as error:
        raise TooManyRegionsError(f"enumeration stopped at max_regions = {max_regions}: the mesh had {error.args[0]} "
                                  "faces; raise max_regions or shrink bounds", int(error.args[0])) from None
    finally:
        bar.close()
    patterns, centroids, radii = mesh["patterns"], mesh["centroid"], mesh["inradius"]
    facets, starts = mesh["facets"], mesh["facet_starts"]
    trusted = radii > interior_tol * (1.0 + np.linalg.norm(centroids, axis=1))
    for chunk in range(0, len(patterns), CHECK_CHUNK):  # one pass over 10^5 points of 200-wide layers: ~1 GB
        rows = slice(chunk, chunk + CHECK_CHUNK)
        trusted[rows] &= np.all(activation_pattern(net, centroids[rows]).packed == patterns[rows], axis=1)
    made, keep, centres = [], trusted.copy(), centroids.copy()
    for f in np.flatnonzero(~trusted):
        try:
            region = Region.from_pattern(net, ActivationPattern(patterns[f].tobytes(), net.hidden_widths), box,
                                         interior_tol)
        except EmptyRegionError:
            continue
        keep[f], centres[f] = True, region.interior_point
        made.append((f, region))
    faces = np.flatnonzero(keep)

    def make(i: int) -> Region:
        f = faces[i]
        return Region(net, ActivationPattern(patterns[f].tobytes(), net.hidden_widths), None, None, box, centroids[f],
                      float(radii[f]), facets=(facets[starts[f]:starts[f + 1]], True))

    position = np.cumsum(keep) - 1
    regions = [None] * len(faces)
    for f, region in made:
        regions[position[f]] = region
    faces_of = MeshFaces(mesh["vertices"], mesh["cycles"], mesh["starts"], faces, ~trusted[faces])
    result = RegionSet(net, regions, adjacency(mesh, keep), box, make, faces_of)
    result.__dict__["patterns"] = ActivationPatterns(patterns[faces], net.hidden_widths)
    result.__dict__["interior_points"] = _validate.frozen(centres[faces])
    return result


def _neighbours_across(net: ReLUNet, region: Region, g: int, interior_tol: float) -> list[Region]:
    """The regions across facet g of a region (not the region itself).

    In general position crossing the facet flips neuron g alone. When that pattern is empty, several
    neurons switch on the facet together: find every neuron vanishing at a relative-interior point of
    the facet and collect the regions touching that point.
    """
    flipped = region.pattern.flipped([g])
    try:
        return [Region.from_pattern(net, flipped, region.bounds, interior_tol)]
    except EmptyRegionError:
        pass
    point = _polytope.facet_point(*region.halfspaces(), g, f"neighbours of {region.pattern!r}")
    zero = np.flatnonzero(on_switching_hyperplanes(net, point, rtol=1e-7))
    touching = _pieces_by_flips(net, region.pattern.unpack(), zero, region.bounds, interior_tol,
                                f"regions across facet {g} of {region.pattern!r}")
    return [r for r in touching if r.pattern != region.pattern]


def _starting_region(net: ReLUNet, box, interior_tol: float) -> Region:
    k = net.input_dim
    start = np.zeros(k) if box is None else (box[0] + box[1]) / 2
    scale = 1.0 if box is None else float(np.min(box[1] - box[0]))
    nudges = np.random.default_rng(0).uniform(-1e-3, 1e-3, size=(32, k)) * scale
    for point in np.vstack([start, start + nudges]):
        try:
            return Region.from_pattern(net, activation_pattern(net, point), box, interior_tol)
        except EmptyRegionError:
            continue
    raise EmptyRegionError(f"no region found near the starting point {start}")


@one_blas_thread
def enumerate_regions(net: ReLUNet, bounds=None, max_regions: int = 1_000_000,
                      interior_tol: float = DEFAULT_INTERIOR_TOL, method: str = "auto",
                      progress: bool | Callable[[int, int], None] = False, progress_every: int = 1000) -> RegionSet:
    r"""Every full-dimensional region of G, over all of :math:`\mathbb{R}^k` or inside a box.

    Breadth-first search over the facet-adjacency graph: crossing the facet of neuron g flips g's
    state, so each facet of a region names a neighbour. The graph of a polyhedral subdivision of a
    connected set is connected, so the search finds every region; facets come from the polar-dual
    hull (k <= 5) or one LP per row.

    Parameters
    ----------
    net : ReLUNet
    bounds : (lo, hi) or None
        A box (scalars or shape (k,) arrays); None for the whole space.
    max_regions : int
        Stop with :class:`TooManyRegionsError` (carrying the count so far) beyond this many.
    method : {"auto", "lp", "planar"}
        "lp": the search above, each region's facets from its Chebyshev LP, then the dual hull or one LP
        per row (any k). "planar" (k = 2 with bounds): the box carried through the network as a planar
        mesh whose faces are cut neuron by neuron (:mod:`landscape._mesh`; no LP, no per-region Python
        work); each region's half-spaces are built when first asked for. "auto" takes "planar" where it
        applies.
    progress : bool or callable
        True: a counter of regions found (and regions still to expand) on standard error. A callable is
        called as ``progress(found, waiting)`` every ``progress_every`` regions and once at the end; on the
        planar path after every neuron, as ``progress(faces, neurons still to cut)``.

    Examples
    --------
    >>> net = ReLUNet.random([2, 6], rng=0)
    >>> len(enumerate_regions(net))   # 6 lines in general position cut the plane into 1 + 6 + 15 pieces
    22
    """
    _validate.network(net)
    if not isinstance(net, ReLUNet):
        raise ValueError(f"net must be a ReLUNet; got {type(net).__name__}")
    max_regions = _validate.positive_int(max_regions, "max_regions")
    progress_every = _validate.positive_int(progress_every, "progress_every")
    interior_tol = _validate.nonnegative_scalar(interior_tol, "interior_tol")
    box = as_box(bounds, net.input_dim)
    if method not in ("auto", "lp", "planar"):
        raise ValueError(f"method must be 'auto', 'lp' or 'planar'; got {method!r}")
    planar = net.input_dim == 2 and box is not None
    if method == "planar" and not planar:
        raise ValueError("method 'planar' needs a 2-D input (k = 2) and bounds")
    if planar and method != "lp":
        return _regions_from_mesh(net, box, interior_tol, max_regions, progress)
    if callable(progress):
        report, bar = progress, SILENT
    else:
        report, bar = None, progress_bar(progress, None, "regions", "region")
    first = _starting_region(net, box, interior_tol)
    regions, index, queue, edges = [first], {first.pattern: 0}, deque([0]), set()
    while queue:
        a = queue.popleft()
        region = regions[a]
        for g in region.facets:
            g = int(g)
            known = index.get(region.pattern.flipped([g]))
            across = [regions[known]] if known is not None else _neighbours_across(net, region, g, interior_tol)
            for found in across:
                b = index.get(found.pattern)
                if b is None:
                    if len(regions) >= max_regions:
                        raise TooManyRegionsError(
                            f"enumeration stopped at max_regions = {max_regions}: {len(regions)} regions found so "
                            f"far and {len(queue) + 1} still to expand; raise max_regions or pass bounds", len(regions))
                    b = len(regions)
                    regions.append(found)
                    index[found.pattern] = b
                    queue.append(b)
                    if len(regions) % progress_every == 0:
                        if report is not None:
                            report(len(regions), len(queue))
                        bar.update(progress_every)
                        bar.set_postfix_str(f"{len(queue)} to expand")
                edges.add((min(a, b), max(a, b), g))
    bar.close()
    if report is not None:
        report(len(regions), 0)
    return RegionSet(net, regions, sorted(edges), box)
