r"""The paper's pieces :math:`\mathcal{P}(x, \theta, \tau)` and the region of a point: regions found by deciding the
neurons that may switch, not by enumerating the whole space."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable

import numpy as np

from . import validate
from ._progress import SILENT, progress_bar
from ._threads import one_blas_thread
from .activation import (
    DEFAULT_BOUNDARY_RTOL,
    ActivationPattern,
    activation_pattern,
    affine_map_of_preactivations,
    near_zero_mask,
    on_switching_hyperplanes,
    preactivation_maps_of_gates,
)
from .box import inside_box
from .errors import BoundaryPointError, EmptyRegionError, TooManyRegionsError
from .network import ReLUNet, checked_network
from .region import DEFAULT_INTERIOR_TOL, Region, interior_ball, sign_halfspaces, with_box


def _row_norms(G: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each row."""
    return np.sqrt(np.einsum("ij,ij->i", G, G))


def _radius_around(G: np.ndarray, h: np.ndarray, norms: np.ndarray, center: np.ndarray) -> float:
    """The radius of the largest ball around ``center`` inside {Gx <= h} (-inf when it is outside); ``norms`` are
    the rows' norms."""
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


def _signs_from_origin(M: np.ndarray, gates: np.ndarray, decided: list[int], origin: np.ndarray, margin: float):
    r"""A point near ``origin`` — through which the ``decided`` neurons pass — on the side of each that ``gates``
    asks for: origin + τd with :math:`M_D d = \pm 1` (the least-norm d; none where those rows are dependent), a
    quarter of ``margin`` (at most of 1 + ‖origin‖) from it, so inside the other neurons' rows. Where several
    neurons cross at the origin this reaches the cells that the steps across one hyperplane at a time miss."""
    rows = M[decided]
    wanted = np.where(gates[decided], 1.0, -1.0)
    try:
        direction = rows.T @ np.linalg.solve(rows @ rows.T, wanted)
    except np.linalg.LinAlgError:
        return
    length = math.sqrt(direction @ direction)
    if np.isfinite(length) and length > 0:  # an unbounded margin (no box) is capped at the origin's scale
        yield origin + (0.25 * min(margin, 1.0 + math.sqrt(origin @ origin)) / length) * direction


def pieces_by_flips(net: ReLUNet, base: np.ndarray, flips: Iterable[int], box, interior_tol: float,
                     what: str, max_regions: int | None = None, bar=None, point: np.ndarray | None = None
                     ) -> list[Region]:
    """Every region whose flat gate vector equals ``base`` outside ``flips`` (TooManyRegionsError beyond
    ``max_regions`` of them).

    A depth-first search decides the flipped neurons in layer order. A neuron's row is known once every
    earlier layer is decided, so each node keeps the rows known so far and is pruned as soon as they leave
    no interior: the search visits feasible partial patterns only, not all 2^|flips| of them.

    Each node carries a witness, a point strictly inside its known rows. A child is feasible without an LP
    when the witness, its mirror image across the decided neuron's hyperplane, a point just across that
    hyperplane, or (with ``point``) a point next to ``point`` on the child's side of every neuron decided so far
    (:func:`_signs_from_origin`) stays a ball's width inside the child's rows; only when all fail does an LP decide.
    Complete patterns keep their witness, and compute their Chebyshev ball only when asked. ``bar``
    (a progress bar) is advanced once per region found. ``point``, a point of the box where every neuron outside
    ``flips`` has the sign ``base`` gives it (the x the regions are sought around), is the first witness where it
    lies strictly inside those neurons' rows: then the first flip needs no LP either.
    """
    bar = SILENT if bar is None else bar
    flips = sorted(int(g) for g in flips)
    layer_of = np.repeat(np.arange(net.depth), net.hidden_widths)
    undecided = np.zeros(net.n_hidden, dtype=bool)
    witness, margin = None, 0.0
    origin = None  # the point and its margin, where it is the first witness
    if point is not None:
        # the slack in the base pattern's rows: every child's the same where the flipped neurons pass through the
        # point (their outputs 0 whatever their gates), a guess otherwise (each witness is checked on its own rows)
        others = np.ones(net.n_hidden, dtype=bool)
        others[flips] = False
        G, h = with_box(*(a[others] for a in sign_halfspaces(*preactivation_maps_of_gates(net, base), base,
                                                                net.hidden_widths)), box)
        radius = _radius_around(G, h, _row_norms(G), point)
        if radius > interior_tol * (1.0 + math.sqrt(point @ point)):
            witness, margin = point, radius
            origin = (point, radius)
    regions, stack = [], [(base.copy(), 0, witness, margin, None)]
    while stack:
        gates, t, witness, margin, rows = stack.pop()
        if t == len(flips):
            if rows is None:
                M, m = preactivation_maps_of_gates(net, gates)
                rows = (M, m, sign_halfspaces(M, m, gates, net.hidden_widths))
            M, m, (G, h) = rows
            pattern = ActivationPattern(np.packbits(gates).tobytes(), net.hidden_widths)
            affine = affine_map_of_preactivations(net, M, m, gates)
            if witness is not None:
                regions.append(Region(net, pattern, G, h, box, affine=affine))
                bar.update()
            else:
                ball = interior_ball(*with_box(G, h, box), interior_tol, what, box)
                if ball is not None:
                    regions.append(Region(net, pattern, G, h, box, *ball, affine=affine))
                    bar.update()
            if max_regions is not None and len(regions) > max_regions:
                raise TooManyRegionsError(f"{what}: more than {max_regions} regions ({len(flips)} neurons to "
                                          "decide)", len(regions), len(flips))
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
            signs = sign_halfspaces(M, m, child, net.hidden_widths)
            complete = (M, m, signs) if t + 1 == len(flips) else None  # every row known: the region's, kept for it
            G, h = with_box(*(a[known] for a in signs), box)
            candidates = [] if witness is None else [witness, *_crossing_candidates(M[g], m[g], state, witness, margin)]
            norms = _row_norms(G)
            if origin is not None:
                candidates = itertools.chain(candidates, _signs_from_origin(M, child, flips[:t + 1], *origin))
            for point in candidates:
                radius = _radius_around(G, h, norms, point)
                if radius > interior_tol * (1.0 + math.sqrt(point @ point)):
                    stack.append((child, t + 1, point, radius, complete))
                    break
            else:
                ball = interior_ball(G, h, interior_tol, what, box)
                if ball is not None:
                    stack.append((child, t + 1, ball[0], min(ball[1], 1.0), complete))
    return regions


LARGE_NEAR_ZERO_SET = 24
"""|S(x, θ, τ)| above which :func:`pieces` warns that P(x, θ, τ) may be huge."""


@one_blas_thread
def pieces(net: ReLUNet, x, tau, bounds=None, interior_tol: float = DEFAULT_INTERIOR_TOL,
           progress: bool = False) -> list[Region]:
    r"""The paper's :math:`\mathcal{P}(x, \theta, \tau)`: every region whose pattern differs from x's only in
    neurons of :math:`S(x, \theta, \tau) = \{(i, j) : |w_{ij}^\top x_{i-1} + b_{ij}| \le \tau\}`.

    Exhaustive by definition (not only the pieces reachable from x's own), without enumerating all
    :math:`2^{|S|}` sign choices: see :func:`pieces_by_flips`. x's own region comes first when it is one.
    ``progress=True`` counts the pieces found on standard error (a large S can take minutes).

    Examples
    --------
    >>> net = ReLUNet.random([2, 20, 20], rng=0)
    >>> len(pieces(net, [0.3, 0.1], 0.0))
    1
    """
    checked_network(net)
    x = validate.point(x, "x", net.input_dim)
    tau = validate.nonnegative_scalar(tau, "tau")
    box = inside_box(x, bounds, net.input_dim)
    base = activation_pattern(net, x).unpack()
    flips = np.flatnonzero(near_zero_mask(net, x, tau))
    interior_tol = validate.nonnegative_scalar(interior_tol, "interior_tol")
    if len(flips) > LARGE_NEAR_ZERO_SET:
        bound = sum(math.comb(len(flips), i) for i in range(net.input_dim + 1))
        warnings.warn(f"|S(x, θ, τ)| = {len(flips)} neurons at τ = {tau}: P(x, θ, τ) may hold up to about "
                      f"{bound:,} pieces (the cells of {len(flips)} hyperplanes in R^{net.input_dim}) and take long "
                      "to find; a smaller τ shrinks S", stacklevel=3)  # 3: past one_blas_thread
    with progress_bar(progress, None, f"pieces P(x, θ, τ) with |S| = {len(flips)}", "piece") as bar:
        found = pieces_by_flips(net, base, flips, box, interior_tol, f"pieces P(x, θ, τ={tau}) at x={x}", bar=bar,
                                point=x)
    found.sort(key=lambda r: np.count_nonzero(r.pattern.unpack() != base))
    return found


def region_of(net: ReLUNet, x, bounds=None, rtol: float = DEFAULT_BOUNDARY_RTOL,
              interior_tol: float = DEFAULT_INTERIOR_TOL) -> Region:
    r"""The region containing x.

    A neuron whose pre-activation is 0 up to its rounding slack (see
    :func:`~landscape.on_switching_hyperplanes`) counts as passing through x. When x lies on the common boundary of two or more regions this raises
    :class:`BoundaryPointError`, whose ``regions`` attribute lists them, instead of picking one.
    """
    checked_network(net)
    point = validate.point(x, "x", net.input_dim)
    interior_tol = validate.nonnegative_scalar(interior_tol, "interior_tol")
    rtol = validate.nonnegative_scalar(rtol, "rtol")
    box = inside_box(point, bounds, net.input_dim)
    pattern = activation_pattern(net, point)
    zero = np.flatnonzero(on_switching_hyperplanes(net, point, rtol))
    what = f"regions touching x={point}"
    touching = pieces_by_flips(net, pattern.unpack(), zero, box, interior_tol, what, point=point)
    if len(touching) == 1:
        return touching[0]
    if not touching:
        raise EmptyRegionError(f"no full-dimensional region contains x = {point}")
    neurons = [net.neuron(int(g)) for g in zero]
    raise BoundaryPointError(
        f"x = {point} lies on the boundary between {len(touching)} regions (neurons {neurons} pass through it); "
        "their list is in this error's .regions", touching)
