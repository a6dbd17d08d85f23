r"""Exact local and global minimisers of :math:`f(x) = \tfrac12\|AG(x) - Ay\|^2` (small k).

On each region f is a convex quadratic, so its minimum over the region is one QP. A point is a local
minimum of f exactly when it minimises f over every region whose closure contains it: near the point,
f agrees on each of those regions with that region's convex quadratic. Enumerating the regions
and solving one QP per region therefore gives every local minimum and the global one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import _face_minima, _polytope, validate
from ._progress import SILENT, progress_bar
from ._threads import one_blas_thread
from .activation import activation_pattern
from .enumeration import RegionSet, enumerate_regions
from .objective import Objective, checked_objective
from .piece_search import pieces_by_flips
from .qp import QPSolution, minimize_on_region, region_least_squares
from .touching import POINT_RTOL, VALUE_RTOL, distance_slack, neurons_through, same_point

RANK_RTOL = 1e-9
"""Singular values of AJ below RANK_RTOL times the largest count as zero: f is flat along their directions."""
MESH_MARGIN_RTOL = 1e-8
"""On the planar path a face's estimated minimum (:mod:`landscape._face_minima`) is trusted to within
MESH_MARGIN_RTOL times (1 + the largest f at a mesh vertex): a face goes without its QP, or its minimiser is
refuted, only by a wider margin. The estimates' rounding is about 1e-13 of that scale."""
FLAT_GUARD = 1e-6
"""A face whose estimated Jacobian of r has a smaller singular-value ratio (or cannot be resolved that finely) may
be flat: its minimiser is refuted from the estimates only once its exact M = AJ is seen to have full rank."""
TOUCHING_SEARCH_MAX = 16
"""Neurons through a point above which the regions touching it are found by testing every region (see ``_touching``)."""
LEAST_SQUARES_MARGIN = 1e-12
"""A region's least-squares bound is lowered by LEAST_SQUARES_MARGIN times (1 + ½‖v‖²) to cover its rounding."""
RESIDUAL_CHUNK = 16_384
"""Mesh vertices per forward pass when the planar path evaluates r at every vertex."""


@dataclass(frozen=True)
class LocalMinimum:
    """A local minimum of f: the point, its value, and the regions (indices) whose closures contain it.

    ``on_box_face`` is True when the search was restricted to a box and the point lies on one of its faces:
    it is then a minimum of f on the box only, which f may continue to decrease beyond."""

    x: np.ndarray
    value: float
    regions: tuple[int, ...]
    on_box_face: bool = False
    flat_dimension: int = 0
    """d > 0 when x stands for a d-dimensional set of (non-strict) local minima inside its region, along which f
    is constant; 0 otherwise."""


@dataclass(frozen=True)
class GlobalMinimum:
    r"""The global minimiser and how isolated it is.

    Attributes
    ----------
    x, value : the minimiser and :math:`f^* = f(x)`.
    on_box_face : bool
        With a box: x lies on one of its faces, so it minimises f on the box, not necessarily on
        :math:`\mathbb{R}^k`.
    region : int
        Index in ``regions`` of a region whose QP attains it.
    gap : float
        Value of the best local minimum elsewhere minus :math:`f^*` (``inf`` if there is none; a lower bound on it
        from ``global_minimizer(..., runner_up=False)``). A gap of about 0 means the minimiser is not unique, which
        Assumption 3.2 rules out; it is 0 when the minimisers form a flat set (``flat_dimension`` > 0).
    flat_dimension : int
        d > 0 when x is a point of a d-dimensional set of global minimisers inside its region (f flat there).
    runner_up : LocalMinimum or None
    local_minima : tuple of LocalMinimum
        The local minima found, sorted by value: every one up to the runner-up's value, since the search stops once
        the runner-up is certain (:func:`local_minima` lists them all).
    regions : RegionSet
    qps : int
        Certified QPs solved: only for the regions whose lower bound could hold the global minimum or the runner-up,
        or a local minimum below it, and the neighbours a certificate needs.
    """

    x: np.ndarray
    value: float
    on_box_face: bool
    region: int
    gap: float
    runner_up: LocalMinimum | None
    local_minima: tuple[LocalMinimum, ...]
    regions: RegionSet
    flat_dimension: int = 0
    qps: int = 0

    @property
    def qp_fraction(self) -> float:
        """``qps / len(regions)``: the share of regions that needed a QP."""
        return self.qps / len(self.regions)

    @property
    def unique(self) -> bool:
        """Whether no other local minimum comes within VALUE_RTOL of the global value."""
        return self.gap > VALUE_RTOL * (1.0 + abs(self.value))


class _RegionMinima:
    """The certified minimum of f over each region (one QP and the flat-set step), solved on first use, with a
    lower bound on it (``lower``, or -inf) for the regions not solved."""

    def __init__(self, objective: Objective, regions: RegionSet, lower: np.ndarray | None = None):
        self._objective, self._regions, self._lower = objective, regions, lower
        self._solved: dict[int, QPSolution] = {}

    def __getitem__(self, a: int) -> QPSolution:
        solution = self._solved.get(a)
        if solution is None:
            region = self._regions[a]
            solution = self._solved[a] = _deepest_in_flat_set(self._objective, region,
                                                              minimize_on_region(self._objective, region))
        return solution

    @property
    def solved(self) -> dict[int, QPSolution]:
        return self._solved

    def prior_bound(self, a: int) -> float:
        """The lower bound known before any QP (the candidates' sort key): -inf when there is none."""
        return -np.inf if self._lower is None else float(self._lower[a])

    def lower_bound(self, a: int) -> float:
        if a in self._solved:
            return self._solved[a].value
        return -np.inf if self._lower is None else float(self._lower[a])

    def at_least(self, a: int, threshold: float) -> bool:
        """Whether region a's minimum is >= threshold; its QP is solved only when the bound cannot tell."""
        return self.lower_bound(a) >= threshold or self[a].value >= threshold


def _regions_and_minima(objective: Objective, bounds, regions, max_regions, progress: bool, ordered: bool = False
                        ) -> tuple[RegionSet, _RegionMinima, np.ndarray | None, bool]:
    """The regions, their minima, the regions that may hold a local minimum in increasing order of a lower bound on
    their minimum, and whether that order came from the planar mesh.

    On the planar path the bounds and candidates are the mesh's estimates, every other region's QP left unsolved.
    On the LP path, with ``ordered``, every region is a candidate, ordered by its least-squares bound
    (:func:`_least_squares_bounds`) with its QP solved on first use; without, candidates is None and every QP is
    solved here."""
    checked_objective(objective)
    if objective.y.ndim != 1:
        raise ValueError(f"objective must hold one target y of shape (n,); got y of shape {objective.y.shape}")
    if regions is None:
        regions = enumerate_regions(objective.net, bounds, max_regions=max_regions, progress=progress)
    elif not isinstance(regions, RegionSet):
        raise ValueError(f"regions must be a RegionSet from enumerate_regions; got {type(regions).__name__}")
    else:
        regions.check_network(objective.net)
    planar = _mesh_candidates(objective, regions)
    if planar is not None:
        lower, candidates = planar
        return regions, _RegionMinima(objective, regions, lower), candidates, True
    if ordered:
        lower = _least_squares_bounds(objective, regions)
        return regions, _RegionMinima(objective, regions, lower), np.argsort(lower, kind="stable"), False
    minima = _RegionMinima(objective, regions)
    with progress_bar(progress, len(regions), "one QP per region", "QP") as bar:
        for a in range(len(regions)):
            minima[a]
            bar.update()
    return regions, minima, None, False


def _least_squares_bounds(objective: Objective, regions: RegionSet) -> np.ndarray:
    r"""Per region, :math:`\min_{x \in \mathbb R^k} \tfrac12\|Mx - v\|^2 = \tfrac12\|(I - MM^+)v\|^2` (its quadratic
    without the region's constraints), less a rounding margin: a lower bound on f's minimum over the region."""
    lower = np.empty(len(regions))
    for a, region in enumerate(regions):
        M, v = region_least_squares(objective, region)
        z = np.linalg.lstsq(M, v, rcond=None)[0]
        residual = M @ z - v
        lower[a] = 0.5 * float(residual @ residual) - LEAST_SQUARES_MARGIN * (1.0 + 0.5 * float(v @ v))
    return lower


def _mesh_candidates(objective: Objective, regions: RegionSet) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lower, candidates)`` from the planar mesh: a lower bound on each region's minimum (its estimate less the
    margin; -inf where the face's polygon is not trusted) and the regions whose estimated minimiser is not refuted
    (:mod:`landscape._face_minima`), in increasing order of that bound. None without a mesh, or where f is flat on
    every region (the readout A V has rank < k), which leaves nothing to refute."""
    mesh, k = regions.mesh, objective.net.input_dim
    readout = objective.residual_map[0]
    if mesh is None or (readout is not None and np.linalg.matrix_rank(readout) < k):
        return None
    vertices = mesh.vertices
    R = np.concatenate([objective.residual(vertices[i:i + RESIDUAL_CHUNK])
                        for i in range(0, len(vertices), RESIDUAL_CHUNK)])
    size = float(np.sqrt(np.max(np.einsum("ij,ij->i", R, R))))
    value, _, kind, ends, conditioning = _face_minima.face_minima(vertices, R, mesh.cycles, mesh.starts, mesh.faces,
                                                                  1e-14 * size)
    margin = MESH_MARGIN_RTOL * (1.0 + 0.5 * size**2)
    widths = np.asarray(objective.net.hidden_widths)
    active = np.add.reduceat(regions.patterns.unpack(), np.cumsum(widths) - widths, axis=1)  # per region and layer
    bottleneck = active.min(axis=1) < k  # fewer than k active neurons in a layer: J has rank < k
    testable = ~mesh.decided_by_lp & ~bottleneck
    out = _face_minima.refuted(mesh.cycles, mesh.starts, mesh.faces, value, kind, ends, testable, margin,
                               len(vertices))
    for i in np.flatnonzero(out & (conditioning < FLAT_GUARD)):  # maybe flat: refuted only at full rank
        M, _ = region_least_squares(objective, regions[int(i)])
        out[i] = flat_directions(M).shape[1] == 0
    lower = np.where(mesh.decided_by_lp, -np.inf, value - margin)
    candidates = np.flatnonzero(~out)
    return lower, candidates[np.argsort(lower[candidates], kind="stable")]


def flat_directions(M: np.ndarray) -> np.ndarray:
    """An orthonormal basis (k, d) of the directions along which ½‖Mx − v‖² is constant: null(M)."""
    _, singular, right = np.linalg.svd(M)
    rank = int(np.sum(singular > RANK_RTOL * max(float(singular.max(initial=0.0)), np.finfo(float).tiny)))
    return right[rank:].T


def _deepest_in_flat_set(objective: Objective, region, solution: QPSolution) -> QPSolution:
    r"""Where f is flat on a region (AJ rank-deficient), its minimisers over the region form the set
    :math:`R \cap (x + \operatorname{null}(AJ))`. The solver returns some point of it, often one on a face the
    region shares with a lower region, where the local-minimum test then rejects it although the rest of the set
    consists of local minima. Move to the point of the set farthest inside the region (one LP: maximise the
    distance t to every face, :math:`G(x + Nz) + t\,\|G_r\| \le h`); when t > 0 that point meets no other
    region, so it is a local minimum, and it stands for the set.

    A set lying on a face of the region (a row with :math:`G_r N = 0` tight at x: the whole set is on it) is kept
    off the other faces only, so the point is in the set's relative interior. There the test of the regions
    touching it holds for the whole relative interior: each such region's f equals f(x) along the set, so its
    gradient is constant there, and the faces the point lies on are those of every point of the interior."""
    M, v = region_least_squares(objective, region)
    flat = flat_directions(M)
    if flat.shape[1] == 0:
        return solution
    G, h = region.halfspaces()
    norms = np.linalg.norm(G, axis=1)
    scale = 1.0 + float(np.linalg.norm(solution.x))
    d = flat.shape[1]
    slack = h - G @ solution.x
    along = G @ flat
    on_face = (np.abs(along).max(axis=1) <= RANK_RTOL * norms) & (slack <= distance_slack(solution.x) * norms)
    rows = ~on_face
    found = _polytope.linprog(np.r_[np.zeros(d), -1.0], np.c_[along[rows], norms[rows]], slack[rows],
                               [(None, None)] * d + [(None, scale)], f"flat minimiser set of {region.pattern!r}")
    if found.status != 0 or -found.fun <= RANK_RTOL * scale:
        return solution  # the set is pinned by faces it crosses: keep the solver's point
    x = solution.x + flat @ found.x[:d]
    residual = M @ x - v
    return replace(solution, x=x, value=0.5 * float(residual @ residual), multipliers=np.zeros_like(solution.multipliers),
                   flat_dimension=d)


def _touching(objective: Objective, regions: RegionSet, x: np.ndarray) -> list[int]:
    """Indices of the regions whose closure contains x: by flipping the neurons through x, or, where more than
    TOUCHING_SEARCH_MAX pass through it (the origin of a bias-free network meets every region), by testing each
    region of the set for x within THROUGH_RTOL·(1 + ‖x‖)."""
    net = objective.net
    base = activation_pattern(net, x).unpack()
    through = neurons_through(net, x, base)
    if len(through) > TOUCHING_SEARCH_MAX:
        return [i for i in range(len(regions)) if regions[i].contains(x, atol=distance_slack(x))]
    found = pieces_by_flips(net, base, through, regions.bounds, 1e-12, f"regions touching {x}", point=x)
    indices = []
    for region in found:
        try:
            indices.append(regions.index(region.pattern))
        except KeyError:  # thinner than the enumeration's interior tolerance
            continue
    return indices


def _refuted_across_active_facets(regions: RegionSet, minima: _RegionMinima, a: int, threshold: float) -> bool:
    """A quick sufficient test that region a's minimiser is no local minimum: a region across one of the
    facets it lies on has a lower minimum (and contains the point, since the facet's neuron alone flips)."""
    region = regions[a]
    G, h = region.halfspaces()
    for g in minima[a].active(G, h):
        if g >= region.pattern.n_hidden:
            continue
        try:
            b = regions.index(region.pattern.flipped([int(g)]))
        except KeyError:
            continue
        if minima[b].value < threshold and regions[b].contains(minima[a].x, atol=1e-7):
            return True
    return False


def on_box_face(x: np.ndarray, bounds) -> bool:
    """Whether x lies on a face of the box ``bounds`` (None: there is none), to rounding."""
    if bounds is None:
        return False
    slack = POINT_RTOL * (1 + np.abs(x))
    return bool(np.any(np.abs(x - bounds[0]) <= slack) or np.any(np.abs(x - bounds[1]) <= slack))


@one_blas_thread
def local_minima(objective: Objective, bounds=None, regions: RegionSet | None = None,
                 max_regions: int = 1_000_000, progress: bool = False) -> list[LocalMinimum]:
    r"""Every local minimum of f, exactly, sorted by value.

    Parameters
    ----------
    objective : Objective
    bounds : (lo, hi) or None
        Restrict to a box: then these are the local minima of f on the box (a minimum may sit on its
        boundary). None searches all of :math:`\mathbb{R}^k`.
    regions : RegionSet, optional
        A previous :func:`enumerate_regions` result for the same network, to reuse; its bounds then
        replace ``bounds``.
    max_regions : int
        Passed to :func:`enumerate_regions`.
    progress : bool
        Progress bars for the enumeration and the QPs on standard error.

    Notes
    -----
    Where f is flat along a set of minimisers (AJ rank-deficient on a region), one point of the set per
    region stands for it: the point farthest inside the region, so that a set whose interior holds
    (non-strict) local minima is found even when its end touches a lower region. ``flat_dimension`` says
    how many directions the set spans. A set lying on a face of the region (between two regions) stands by the
    point of its relative interior farthest from the region's other faces; one set shared by two regions is listed
    once. Only a set pinned by faces it crosses (lower-dimensional than its flat directions) is tested at the
    solver's point alone.

    On a planar region set (k = 2 with a box) each face's minimum is first estimated from its polygon
    (:mod:`landscape._face_minima`); a QP is solved only for the faces whose estimated minimiser no neighbour
    refutes, and for the neighbours a certificate needs. The answer is the same as with one QP per region.
    """
    objective = checked_objective(objective).densified("local_minima enumerates the regions")
    regions, minima, candidates, planar = _regions_and_minima(objective, bounds, regions, max_regions, progress)
    return _local_minima(objective, regions, minima, candidates, planar, progress)[0]


def _local_minima(objective: Objective, regions: RegionSet, minima: _RegionMinima, candidates: np.ndarray | None,
                  planar: bool, progress: bool, stop_at_runner_up: bool = False) -> tuple[list[LocalMinimum], int]:
    """The local-minimum test applied to the QP solution of every candidate region (every region when
    ``candidates`` is None), in their order. With ``stop_at_runner_up`` and candidates (sorted by lower bound) the
    search ends once two distinct local minima are known and the next candidate's lower bound exceeds the second's
    value.

    Returns the local minima found, sorted by value, and a region whose QP attains the lowest value seen."""
    found: list[LocalMinimum] = []
    sources: list[int] = []
    tested: list[np.ndarray] = []  # points whose test has run: it is the point's, whichever region reached it
    order = range(len(regions)) if candidates is None else candidates
    bar = SILENT if candidates is None else progress_bar(progress, len(order), "QPs in order of their bound", "region")
    with bar:
        for a in order:
            a = int(a)
            if stop_at_runner_up and candidates is not None:
                kept = sorted(_merge_flat_sets(found, sources), key=lambda m: m.value)
                # The sort key, not a QP value solved on the way: the candidates after a are bounded by it alone.
                if len(kept) >= 2 and minima.prior_bound(a) > kept[1].value + VALUE_RTOL * (1 + abs(kept[1].value)):
                    break
            bar.update()
            solution = minima[a]
            x, value = solution.x, solution.value
            tolerance = VALUE_RTOL * (1 + abs(value))
            if not planar and _refuted_across_active_facets(regions, minima, a, value - tolerance):
                continue
            if any(same_point(x, t) for t in tested):
                continue
            tested.append(x)
            touching = _regions_touching(objective, regions, minima, a)
            if all(minima.at_least(b, value - tolerance) for b in touching):
                found.append(LocalMinimum(x, value, tuple(sorted(touching)), on_box_face(x, regions.bounds),
                                          solution.flat_dimension))
                sources.append(a)
    best = min(minima.solved, key=lambda b: minima.solved[b].value)
    return sorted(_merge_flat_sets(found, sources), key=lambda m: m.value), best


def _regions_touching(objective: Objective, regions: RegionSet, minima: _RegionMinima, a: int) -> list[int]:
    """The regions whose closure contains region a's QP minimiser, a included."""
    touching = _touching(objective, regions, minima[a].x)
    return touching if a in touching else [*touching, a]


def _lowest_by_bound(objective: Objective, regions: RegionSet, minima: _RegionMinima, candidates: np.ndarray
                     ) -> tuple[int, float]:
    r"""Branch and bound for :math:`f^*` alone: solve the candidates' QPs in increasing order of their bound until the
    next bound exceeds the lowest value by VALUE_RTOL. Returns the region attaining it and a lower bound on the gap
    to any local minimum elsewhere.

    f is convex on each region, so a local minimum in a region's closure attains that region's minimum: every local
    minimum other than :math:`x^*` has the value of a solved region whose minimiser is another point, or of a
    region not solved, whose bound exceeds the last one tested. A solved minimiser within VALUE_RTOL of
    :math:`f^*` (a tie, or a point near :math:`x^*` on a neighbour's boundary) counts only once the local-minimum
    test confirms it."""
    best, untested = None, np.inf
    for a in candidates:
        a = int(a)
        if best is not None:
            level = minima[best].value
            if minima.prior_bound(a) > level + VALUE_RTOL * (1 + abs(level)):
                untested = minima.prior_bound(a)
                break
        if best is None or minima[a].value < minima[best].value:
            best = a
    x, value = minima[best].x, minima[best].value
    tolerance = VALUE_RTOL * (1 + abs(value))
    elsewhere = [untested]
    for a, solution in list(minima.solved.items()):
        if same_point(solution.x, x):
            continue
        if solution.value > value + tolerance or all(
                minima.at_least(b, solution.value - tolerance) for b in _regions_touching(objective, regions, minima, a)):
            elsewhere.append(solution.value)
    return best, min(elsewhere) - value


def _merge_flat_sets(found: list[LocalMinimum], sources: list[int]) -> list[LocalMinimum]:
    """Drop a minimum that lies in the closure of a flat region whose own minimum was kept at the same value: it is
    a point of that region's set of minima, which the region's point already stands for. Larger flat sets come first,
    so of one set shared by two regions (on their common face) the first region's point stays."""
    kept: list[tuple[LocalMinimum, int]] = []
    for i in sorted(range(len(found)), key=lambda i: -found[i].flat_dimension):
        m = found[i]
        tolerance = VALUE_RTOL * (1 + abs(m.value))
        if not any(o.flat_dimension > 0 and source in m.regions and abs(o.value - m.value) <= tolerance
                   for o, source in kept):
            kept.append((m, sources[i]))
    return [m for m, _ in kept]


@one_blas_thread
def global_minimizer(objective: Objective, bounds=None, regions: RegionSet | None = None,
                     max_regions: int = 1_000_000, progress: bool = False, runner_up: bool = True) -> GlobalMinimum:
    r"""The global minimiser :math:`x^* = \operatorname{argmin} f` (over a box, or all of :math:`\mathbb{R}^k`),
    its value, and the gap to the best local minimum elsewhere. Parameters as :func:`local_minima`, and:

    runner_up : bool
        True (default): find the runner-up, the best local minimum elsewhere, so that ``gap`` is exact. False:
        branch and bound for :math:`f^*` alone, which stops as soon as no region left can hold a value within
        VALUE_RTOL of it and runs the local-minimum test only on ties; ``runner_up`` is then None, ``local_minima``
        empty, and ``gap`` a lower bound on the gap (so ``unique`` is exact). Much faster where the runner-up is far
        above :math:`f^*` or does not exist (every region must then be tested for it).

    Regions are solved in increasing order of a lower bound on their minimum — on a planar region set (k = 2 with a
    box) the mesh's estimate of each candidate face, elsewhere the minimum of the region's quadratic over all of
    :math:`\mathbb R^k` — and the search stops once no region left can hold a local minimum below the runner-up
    (or near :math:`f^*`): ``qps`` says how many QPs that took.

    Examples
    --------
    >>> from landscape import ReLUNet, Objective
    >>> net = ReLUNet.random([2, 12, 24], rng=0)
    >>> best = global_minimizer(Objective(net, net.forward([0.4, -0.7])))
    >>> np.round(best.x, 6), best.value < 1e-20
    (array([ 0.4, -0.7]), True)
    """
    validate.boolean(runner_up, "runner_up")
    objective = checked_objective(objective).densified("global_minimizer enumerates the regions")
    regions, minima, candidates, planar = _regions_and_minima(objective, bounds, regions, max_regions, progress,
                                                              ordered=True)
    if runner_up:
        local, best = _local_minima(objective, regions, minima, candidates, planar, progress, stop_at_runner_up=True)
        x, value, flat = minima[best].x, minima[best].value, minima[best].flat_dimension
        if local and local[0].value <= value + VALUE_RTOL * (1 + abs(value)):
            x, flat = local[0].x, local[0].flat_dimension  # f*'s set as the list has it: one flat set, one point
        others = [m for m in local if not same_point(m.x, x)]
        second = others[0] if others else None
        gap = second.value - value if second is not None else np.inf
    else:
        best, gap = _lowest_by_bound(objective, regions, minima, candidates)
        local, second = [], None
        x, value, flat = minima[best].x, minima[best].value, minima[best].flat_dimension
    return GlobalMinimum(x, value, on_box_face(x, regions.bounds), best, 0.0 if flat else gap, second, tuple(local),
                         regions, flat, len(minima.solved))
