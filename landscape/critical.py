r"""Exact local and global minimisers of :math:`f(x) = \tfrac12\|AG(x) - Ay\|^2` (small k).

On each region f is a convex quadratic, so its minimum over the region is one QP. A point is a local
minimum of f exactly when it minimises f over every region whose closure contains it: near the point,
f agrees on each of those regions with that region's convex quadratic. Enumerating the regions
and solving one QP per region therefore gives every local minimum and the global one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
from ._progress import progress_bar
from ._threads import one_blas_thread
from .activation import activation_pattern, on_switching_hyperplanes
from .objective import Objective
from .qp import QPSolution, minimize_on_region
from .regions import RegionSet, _pieces_by_flips, as_box, enumerate_regions

VALUE_RTOL = 1e-9
"""f(x) counts as equal to a region's minimum when within VALUE_RTOL * (1 + |f|)."""
POINT_RTOL = 1e-6
"""Two minimisers closer than POINT_RTOL * (1 + |x|) are the same point."""
THROUGH_RTOL = 1e-7
"""Rounding slack (see on_switching_hyperplanes) for deciding which regions a QP solution touches."""


@dataclass(frozen=True)
class LocalMinimum:
    """A local minimum of f: the point, its value, and the regions (indices) whose closures contain it.

    ``on_box_face`` is True when the search was restricted to a box and the point lies on one of its faces:
    it is then a minimum of f on the box only, which f may continue to decrease beyond."""

    x: np.ndarray
    value: float
    regions: tuple[int, ...]
    on_box_face: bool = False


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
        Value of the best local minimum elsewhere minus :math:`f^*` (``inf`` if there is none). A gap of
        about 0 means the minimiser is not unique, which Assumption 3.2 rules out.
    runner_up : LocalMinimum or None
    local_minima : tuple of LocalMinimum
    regions : RegionSet
    """

    x: np.ndarray
    value: float
    on_box_face: bool
    region: int
    gap: float
    runner_up: LocalMinimum | None
    local_minima: tuple[LocalMinimum, ...]
    regions: RegionSet

    @property
    def unique(self) -> bool:
        """Whether no other local minimum comes within VALUE_RTOL of the global value."""
        return self.gap > VALUE_RTOL * (1.0 + abs(self.value))


def _regions_and_minima(objective: Objective, bounds, regions, max_regions,
                        progress: bool) -> tuple[RegionSet, list[QPSolution]]:
    if not isinstance(objective, Objective):
        raise ValueError(f"objective must be an Objective; got {type(objective).__name__}")
    if regions is None:
        regions = enumerate_regions(objective.net, bounds, max_regions=max_regions, progress=progress)
    elif not isinstance(regions, RegionSet):
        raise ValueError(f"regions must be a RegionSet from enumerate_regions; got {type(regions).__name__}")
    else:
        regions.check_network(objective.net)
    minima = []
    with progress_bar(progress, len(regions), "one QP per region", "QP") as bar:
        for region in regions:
            minima.append(minimize_on_region(objective, region))
            bar.update()
    return regions, minima


def _touching(objective: Objective, regions: RegionSet, x: np.ndarray) -> list[int]:
    """Indices of the regions whose closure contains x."""
    net = objective.net
    through = np.flatnonzero(on_switching_hyperplanes(net, x, THROUGH_RTOL))
    base = activation_pattern(net, x).unpack()
    found = _pieces_by_flips(net, base, through, regions.bounds, 1e-12, f"regions touching {x}")
    indices = []
    for region in found:
        try:
            indices.append(regions.index(region.pattern))
        except KeyError:  # thinner than the enumeration's interior tolerance
            continue
    return indices


def _refuted_across_active_facets(regions: RegionSet, minima: list[QPSolution], a: int, threshold: float) -> bool:
    """A quick sufficient test that region a's minimiser is no local minimum: a region across one of the
    facets it lies on has a lower minimum (and contains the point, since the facet's neuron alone flips)."""
    region = regions[a]
    G, h = region.halfspaces()
    for g in minima[a].active(G, h):
        if g >= len(region.h):
            continue
        try:
            b = regions.index(region.pattern.flipped([int(g)]))
        except KeyError:
            continue
        if minima[b].value < threshold and regions[b].contains(minima[a].x, atol=1e-7):
            return True
    return False


def same_point(x: np.ndarray, reference: np.ndarray) -> bool:
    r"""Whether x is ``reference`` to the point tolerance: :math:`\|x - r\| \le` POINT_RTOL·(1 + ‖r‖)."""
    return bool(np.linalg.norm(x - reference) <= POINT_RTOL * (1 + np.linalg.norm(reference)))


def _on_box_face(x: np.ndarray, bounds) -> bool:
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
    Where f is flat along a set of minimisers (a singular quadratic on a region), one point of the set
    per region stands for it.
    """
    regions, minima = _regions_and_minima(objective, bounds, regions, max_regions, progress)
    return _local_minima(objective, regions, minima)


def _local_minima(objective: Objective, regions: RegionSet, minima: list[QPSolution]) -> list[LocalMinimum]:
    """The local-minimum test applied to every region's QP solution (see :func:`local_minima`)."""
    found: list[LocalMinimum] = []
    for a, solution in enumerate(minima):
        x, value = solution.x, solution.value
        tolerance = VALUE_RTOL * (1 + abs(value))
        if _refuted_across_active_facets(regions, minima, a, value - tolerance):
            continue
        if any(same_point(x, m.x) for m in found):
            continue
        touching = _touching(objective, regions, x)
        if a not in touching:
            touching.append(a)
        if all(value <= minima[b].value + tolerance for b in touching):
            found.append(LocalMinimum(x, value, tuple(sorted(touching)), _on_box_face(x, regions.bounds)))
    return sorted(found, key=lambda m: m.value)


@one_blas_thread
def global_minimizer(objective: Objective, bounds=None, regions: RegionSet | None = None,
                     max_regions: int = 1_000_000, progress: bool = False) -> GlobalMinimum:
    r"""The global minimiser :math:`x^* = \operatorname{argmin} f` (over a box, or all of :math:`\mathbb{R}^k`),
    its value, and the gap to the best local minimum elsewhere. Parameters as :func:`local_minima`.

    Examples
    --------
    >>> from landscape import ReLUNet, Objective
    >>> net = ReLUNet.random([2, 12, 24], rng=0)
    >>> best = global_minimizer(Objective(net, net.forward([0.4, -0.7])))
    >>> np.round(best.x, 6), best.value < 1e-20
    (array([ 0.4, -0.7]), True)
    """
    regions, minima = _regions_and_minima(objective, bounds, regions, max_regions, progress)
    best = int(np.argmin([s.value for s in minima]))
    x, value = minima[best].x, minima[best].value
    local = _local_minima(objective, regions, minima)
    others = [m for m in local if not same_point(m.x, x)]
    runner_up = others[0] if others else None
    gap = runner_up.value - value if runner_up is not None else np.inf
    return GlobalMinimum(x, value, _on_box_face(x, regions.bounds), best, gap, runner_up, tuple(local), regions)


@dataclass(frozen=True)
class PolishedMinimum:
    """A certified local minimum of f reached from a starting point by exact descent over linear pieces.

    Attributes
    ----------
    x, value : the local minimum and f there.
    start, start_value : where the polishing began and f there.
    moves : int
        Pieces descended through: 0 when the start already was a local minimum.
    patterns : tuple of ActivationPattern
        The regions whose closures contain x; x minimises f over each of them, which certifies it.
    """

    x: np.ndarray
    value: float
    start: np.ndarray
    start_value: float
    moves: int
    patterns: tuple

    @property
    def distance(self) -> float:
        """How far the certified minimum lies from the start."""
        return float(np.linalg.norm(self.x - self.start))


def polish_to_local_minimum(objective: Objective, x, bounds=None, max_moves: int = 10_000,
                            max_pieces: int | None = None) -> PolishedMinimum:
    r"""Turn a point (a descent end point, say) into a certified local minimum of f, exactly.

    Repeat: take every region whose closure contains x and minimise f over each (one QP each); if one
    of those minima is lower than f(x), move there; otherwise x minimises f over every region around it,
    which is exactly the condition for a local minimum. f drops at every move and there are finitely many
    regions, so this ends. No region enumeration is needed, so it works for any k.

    Parameters
    ----------
    objective : Objective
    x : array_like (k,)
    bounds : (lo, hi), optional
        Polish within a box (then the result is a local minimum of f on the box).
    max_moves : int
        Give up (ValueError) after this many moves.
    max_pieces : int, optional
        Give up (:class:`TooManyRegionsError`) when more regions than this meet at one point. Where m
        neurons switch at x, up to :math:`2^m` regions meet there (all of them when the m hyperplanes are
        independent and m ≤ k), and certifying a minimum on such a kink needs every one: at large k this
        bounds the cost.
    """
    if not isinstance(objective, Objective):
        raise ValueError(f"objective must be an Objective; got {type(objective).__name__}")
    net = objective.net
    start = _validate.point(x, "x", net.input_dim)
    max_moves = _validate.positive_int(max_moves, "max_moves")
    if max_pieces is not None:
        max_pieces = _validate.positive_int(max_pieces, "max_pieces")
    box = as_box(bounds, net.input_dim)
    if box is not None and (np.any(start < box[0]) or np.any(start > box[1])):
        raise ValueError(f"x = {start} lies outside bounds lo={box[0]}, hi={box[1]}")
    x, value = start.copy(), float(objective.value(start))
    start_value, settled = value, False
    for moves in range(max_moves + 1):
        through = np.flatnonzero(on_switching_hyperplanes(net, x, THROUGH_RTOL))
        around = _pieces_by_flips(net, activation_pattern(net, x).unpack(), through, box, 1e-12,
                                  f"regions around {x}", max_pieces)
        if not around:
            raise ValueError(f"no region with an interior contains x = {x}")
        solutions = [minimize_on_region(objective, region, f"polishing from {start}") for region in around]
        best = min(range(len(solutions)), key=lambda i: solutions[i].value)
        lower = solutions[best].value < value - VALUE_RTOL * (1 + abs(value))
        if not lower and (settled or solutions[best].value >= value):
            return PolishedMinimum(x, value, start, start_value, moves, tuple(r.pattern for r in around))
        # Lower: descend. Level to the tolerance but lower: x is already a minimum in value; move once to the
        # QP's minimiser (the exact point, not Adam's approximation of it) and certify there.
        settled = settled or not lower
        x, value = solutions[best].x, solutions[best].value
    raise ValueError(f"polishing from {start} did not reach a local minimum within max_moves = {max_moves} moves")
