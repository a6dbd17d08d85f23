r"""Exact descent over the linear pieces of G: from any point to a certified local minimum of
:math:`f(x) = \tfrac12\|AG(x) - Ay\|^2`, for any k (no region enumeration)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .activation import (
    ActivationPattern,
    activation_pattern,
    affine_map_of_preactivations,
    preactivation_maps_of_gates,
)
from .box import inside_box
from .errors import PolishingLimitError
from .objective import Objective, checked_objective
from .piece_search import pieces_by_flips
from .qp import minimize_on_region
from .region import Region, sign_halfspaces
from .touching import VALUE_RTOL, neurons_through

ZERO_RTOL = 1e-20
r""":math:`f(x) \le` ZERO_RTOL·(1 + ½‖b‖²) counts as f(x) = 0, b the target of :math:`r = B x_d - b`: rounding of a
sum of squares whose residuals are exact to 1e-10 relative. Since f ≥ 0, such a point is a global minimum."""


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
        The regions whose closures contain x; x minimises f over each of them, which certifies it. Where f(x) = 0
        (to :data:`ZERO_RTOL`) only x's own region: f ≥ 0 certifies a global minimum without the others.
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
    regions, so this ends. No region enumeration is needed, so it works for any k. First, and after every
    move, f is minimised over x's own region alone (one QP, no search for the regions around x): where that
    reaches f = 0 the point is a global minimum and the search is skipped, which is what makes polishing a
    successful run cheap on a wide network.

    Parameters
    ----------
    objective : Objective
    x : array_like (k,)
    bounds : (lo, hi), optional
        Polish within a box (then the result is a local minimum of f on the box).
    max_moves : int
        Give up (:class:`PolishingLimitError`) after this many moves.
    max_pieces : int, optional
        Give up (:class:`TooManyRegionsError`) when more regions than this meet at one point. Where m
        neurons switch at x, up to :math:`2^m` regions meet there (all of them when the m hyperplanes are
        independent and m ≤ k), and certifying a minimum on such a kink needs every one: at large k this
        bounds the cost.
    """
    checked_objective(objective)
    net = objective.net
    start = validate.point(x, "x", net.input_dim)
    max_moves = validate.positive_int(max_moves, "max_moves")
    if max_pieces is not None:
        max_pieces = validate.positive_int(max_pieces, "max_pieces")
    box = inside_box(start, bounds, net.input_dim)  # on its faces up to rounding, as a QP's answer may be
    if box is not None:
        start = np.clip(start, box[0], box[1])
    x, value = start.copy(), float(objective.value(start))
    zero = _zero_level(objective)
    start_value, settled = value, False
    context = f"polishing from {start.tolist()}"
    for moves in range(max_moves + 1):
        gates = activation_pattern(net, x).unpack()
        pattern = ActivationPattern(np.packbits(gates).tobytes(), net.hidden_widths)
        if value <= zero:
            return PolishedMinimum(x, value, start, start_value, moves, (pattern,))
        M, m = preactivation_maps_of_gates(net, gates)
        own = Region(net, pattern, *sign_halfspaces(M, m, gates, net.hidden_widths), box,
                     affine=affine_map_of_preactivations(net, M, m, gates))
        solution = minimize_on_region(objective, own, context)
        if solution.value <= zero:  # confirmed by f itself, not by the QP's value on the region's affine map
            at_solution = float(objective.value(solution.x))
            if at_solution <= zero:
                return PolishedMinimum(solution.x, at_solution, start, start_value, moves + 1,
                                       (activation_pattern(net, solution.x),))
        around, solutions = _minima_around(objective, x, gates, box, max_pieces, context, (pattern, solution))
        best = min(range(len(solutions)), key=lambda i: solutions[i].value)
        lower = solutions[best].value < value - VALUE_RTOL * (1 + abs(value))
        if not lower and (settled or solutions[best].value >= value):
            return PolishedMinimum(x, value, start, start_value, moves, tuple(r.pattern for r in around))
        # Lower: descend. Level to the tolerance but lower: x is already a minimum in value; move once to the
        # QP's minimiser (the exact point, not Adam's approximation of it) and certify there.
        settled = settled or not lower
        x, value = solutions[best].x, solutions[best].value
    raise PolishingLimitError(f"polishing from {start} did not reach a local minimum within max_moves = {max_moves} "
                              "moves")


def _zero_level(objective: Objective) -> float:
    """The value at or below which f counts as 0: ZERO_RTOL·(1 + ½‖b‖²)."""
    return ZERO_RTOL * (1.0 + 0.5 * float(np.sum(np.square(objective.residual_operator[2]))))


def _minima_around(objective: Objective, x: np.ndarray, gates: np.ndarray, box, max_pieces, context: str,
                   known: tuple | None = None):
    """Every region whose closure contains x (within ``box``) and the minimum of f over each (one QP each, but for
    the region of ``known`` = (pattern, its QP's solution))."""
    net = objective.net
    around = pieces_by_flips(net, gates, neurons_through(net, x, gates), box, 1e-12, f"regions around {x.tolist()}",
                             max_pieces, point=x)
    if not around:
        raise ValueError(f"no region with an interior contains x = {x}")
    return around, [known[1] if known is not None and region.pattern == known[0]
                    else minimize_on_region(objective, region, context) for region in around]


def is_local_minimum(objective: Objective, x, bounds=None, max_pieces: int | None = None) -> bool:
    r"""Whether x is a local minimum of f (on the box ``bounds``, if given), exactly.

    x is a local minimum iff it minimises f over every region whose closure contains it: one QP per such region,
    :math:`\min_{R \ni x} f \ge f(x) - \epsilon`, with ε = VALUE_RTOL·(1 + |f(x)|) (:mod:`landscape.touching`).
    This is :func:`polish_to_local_minimum`'s certificate without its descent: a point that is not a minimum is
    answered after the same QPs, however far its basin's minimum lies. ``max_pieces`` as there.
    """
    checked_objective(objective)
    net = objective.net
    x = validate.point(x, "x", net.input_dim)
    if max_pieces is not None:
        max_pieces = validate.positive_int(max_pieces, "max_pieces")
    box = inside_box(x, bounds, net.input_dim)
    if box is not None:
        x = np.clip(x, box[0], box[1])
    value = float(objective.value(x))
    if value <= _zero_level(objective):
        return True
    _, solutions = _minima_around(objective, x, activation_pattern(net, x).unpack(), box, max_pieces,
                                  f"testing x = {x} for a local minimum")
    return min(s.value for s in solutions) >= value - VALUE_RTOL * (1 + abs(value))
