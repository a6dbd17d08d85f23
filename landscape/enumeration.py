r"""Every region of G over :math:`\mathbb{R}^k` or a box, with their facet adjacency: a breadth-first search over
facets (any k), or the planar mesh (k = 2 with a box)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import cached_property

import numpy as np

from . import _polytope, validate
from ._progress import SILENT, progress_bar
from ._threads import one_blas_thread
from .activation import ActivationPattern, ActivationPatterns, activation_pattern, on_switching_hyperplanes
from .box import as_box
from .errors import EmptyRegionError, TooManyRegionsError
from .network import ReLUNet, checked_network
from .piece_search import pieces_by_flips
from .region import DEFAULT_INTERIOR_TOL, Region


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
        self.adjacency = validate.frozen(np.asarray(adjacency, dtype=np.int64).reshape(-1, 3))
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
        return validate.frozen(np.array([r.interior_point for r in self]).reshape(len(self), self._net.input_dim))

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
        X, _ = validate.points(X, "X", self._net.input_dim)
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
    result.__dict__["interior_points"] = validate.frozen(centres[faces])
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
    touching = pieces_by_flips(net, region.pattern.unpack(), zero, region.bounds, interior_tol,
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
    checked_network(net)
    max_regions = validate.positive_int(max_regions, "max_regions")
    progress_every = validate.positive_int(progress_every, "progress_every")
    interior_tol = validate.nonnegative_scalar(interior_tol, "interior_tol")
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
