r"""The certified global minimum of :math:`f(x) = \tfrac12\|A G(x) - A y\|^2` over a box, by branch and bound.

Best-first over sub-boxes, as the neural-network verifiers search, with the library's exact machinery at the
leaves:

- *Upper bound* (the incumbent): the lowest f found, at the points the lower bounds try and the leaves' minimisers;
  every improvement is polished to a certified local minimum on the box (:func:`~landscape.polish_to_local_minimum`).
- *Lower bound* of a sub-box, from bounds on G over it (:mod:`.bounds`): with the linear relaxations of the ReLUs,
  the tangent bound :math:`f(x) \ge c^\top G(x) - c^\top y - \tfrac12\|\lambda\|^2`, :math:`c = A^\top\lambda`, its
  affine function of G bounded by one back-substitution (:func:`~landscape.branch_and_bound.relaxed.tangent_bound`);
  with interval bounds :math:`l \le G \le u`, :math:`\min \{\tfrac12\|A(g - y)\|^2 : l \le g \le u\}` (closed form
  without A).
- A sub-box whose lower bound is within the tolerance of the incumbent is discarded. One on which at most
  ``exact_unstable`` neurons can change sign holds at most :math:`2^{\text{that}}` linear regions: it is a leaf,
  solved exactly, one certified QP per sign choice of those neurons whose polytope in the sub-box has an interior
  (:func:`_minimum_on_leaf`); so is a sub-box narrower than :data:`LEAF_WIDTH` of the box, whose few regions are
  enumerated (:func:`~landscape.global_minimizer` on the sub-box) where more than :data:`LEAF_PATTERN_LIMIT`
  neurons can switch. Otherwise it is split in two across its widest side (relative to the box).

The search ends *certified* when no open sub-box can hold a value below incumbent − tol, tol =
``rtol``·(1 + incumbent); at ``max_nodes`` or ``time_limit`` it returns the bounds reached, marked uncertified.
Asked for a certificate without either limit, it first estimates the sub-boxes it would need
(:func:`estimated_boxes`) and refuses where they exceed :data:`DEFAULT_MAX_NODES`.
The lower bounds are certified (:mod:`.relaxed`), exact but for floating-point rounding, which is far below the
default ``rtol``.

*The runner-up* (``runner_up=True``): the best local minimum of f on the box at another point than the global
minimiser, as :func:`~landscape.global_minimizer` reports it. Every leaf then lists its local minima exactly
(:func:`~landscape.local_minima` on the sub-box; one QP where the sub-box lies in one region), and a minimum on a
face the splitting made (not one of the box's) is kept only where :func:`~landscape.is_local_minimum` confirms it on
the whole box. A sub-box is discarded only when its lower bound exceeds the second-lowest distinct minimum found
(by :data:`SEPARATION_SLACK`, which covers the bounds' rounding): so every local minimum below the runner-up lies
in a sub-box that is resolved into leaves, where it is found. ``runner_up_within`` = s caps that level at
f* + s·(1 + |f*|): enough to decide uniqueness at about the cost of f* itself, where the exact runner-up may need
every sub-box below its value.
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, replace

import numpy as np

from .. import validate
from .._progress import progress_bar
from .._threads import one_blas_thread
from ..activation import affine_map_of_preactivations, local_affine, preactivation_maps_of_gates
from ..box import as_box
from ..critical import LocalMinimum, flat_directions, global_minimizer, local_minima, on_box_face
from ..errors import PolishingLimitError, SearchTooLargeError, TooManyRegionsError
from ..objective import Objective, checked_objective
from ..polish import is_local_minimum, polish_to_local_minimum
from ..qp import QPSolveError, polytope_qp
from ..region import interior_ball
from ..touching import VALUE_RTOL, distance_slack, same_point
from .bounds import BOUNDS, NetworkBounds, propagation
from .relaxed import LowerBound

POLISH_MAX_PIECES = 256
"""Polishing an incumbent gives up (keeping the unpolished point) where more regions than this meet at it; so does
the local-minimum test of a leaf's minimum on a face the splitting made (the point then counts as undecided)."""
DEFAULT_MAX_NODES = 100_000
"""The node limit of a search given no limit; one estimated to need more sub-boxes is refused before it begins."""
DESCENT_STEPS = 500
"""Before exact polishing, a new incumbent first takes up to this many projected gradient steps on the box
(:func:`projected_descent`): polishing from a lower bound's point otherwise walks through dozens of regions, one set
of QPs each."""
LEAF_WIDTH = 2.0**-20
"""A sub-box narrower than this fraction of the box on every side is a leaf whatever its unstable neurons (its few
regions are enumerated): around a minimiser on a kink of several neurons no box is ever free of them."""
SEPARATION_SLACK = 1e-7
"""In the runner-up search a sub-box is discarded when its lower bound exceeds the runner-up level θ by
SEPARATION_SLACK·(1 + |θ|), which covers the lower bounds' floating-point rounding."""


@dataclass(frozen=True)
class CertifiedMinimum:
    r"""The global minimum of f over a box, with the bounds that certify it.

    Attributes
    ----------
    x, value : the best point found and :math:`f(x)` (an upper bound on :math:`f^*`).
    lower_bound : float
        No point of the box has f below it.
    certified : bool
        ``value − lower_bound`` ≤ ``tolerance``: x is a global minimiser on the box to within it. False when a node or
        time limit stopped the search first (the bounds are still valid).
    tolerance : float
        rtol·(1 + value).
    nodes : int
        Sub-boxes bounded (the box itself included).
    pruned : int
        Sub-boxes discarded by their lower bound.
    leaves : int
        Sub-boxes solved exactly (few unstable neurons).
    qps : int
        Certified QPs of the leaves and of polishing.
    relaxations : int
        Lower bounds computed from the linear relaxations (tangent bounds), or with A the interval bound's bounded
        least-squares problems.
    bound : str
        ``"linear"``, ``"interval"`` or ``"triangle"``.
    seconds : float
    stopped_by : str
        ``"gap"`` where the search completed (certified; with ``runner_up``, the runner-up settled as well), else the
        limit that stopped it: ``"nodes"`` or ``"time"``.
    runner_up : LocalMinimum or None
        With ``runner_up=True``: the best local minimum of f on the box at another point than x (``regions`` empty:
        no region set is built), where the search proved that none lies lower; None where there is none below the
        level searched, or a limit stopped the search before it was certain.
    separation : float
        With ``runner_up=True``: a lower bound on f(runner-up) − f*, equal to it where ``runner_up`` is given (inf
        where f has no other local minimum on the box); 0 where x stands for a flat set of minimisers. NaN without
        ``runner_up``. The counterpart of :attr:`GlobalMinimum.gap <landscape.GlobalMinimum>`.
    flat_dimension : int
        d > 0 where x is found as a point of a d-dimensional set of global minimisers (with ``runner_up=True``).
    x0_minimum : LocalMinimum or None
        Where ``x0`` was given: the certified local minimum of f on the box that exact descent from it reached (the
        first incumbent; ``regions`` empty); None without ``x0`` or where polishing gave up.
    triangles : int
        With ``bound="triangle"``: triangle relaxations solved (beside the ``relaxations``).
    """

    x: np.ndarray
    value: float
    lower_bound: float
    certified: bool
    tolerance: float
    nodes: int
    pruned: int
    leaves: int
    qps: int
    relaxations: int
    bound: str
    seconds: float
    stopped_by: str
    runner_up: LocalMinimum | None = None
    separation: float = np.nan
    flat_dimension: int = 0
    x0_minimum: LocalMinimum | None = None
    triangles: int = 0

    @property
    def gap(self) -> float:
        """``value − lower_bound`` (≥ 0)."""
        return max(self.value - self.lower_bound, 0.0)

    @property
    def unique(self) -> bool | None:
        """True where no other local minimum comes within VALUE_RTOL·(1 + |f*|) of f* (``separation`` above it),
        False where one does (a certified tie, or a flat set of minimisers), None where the runner-up was not asked
        for or a limit stopped the search before deciding."""
        tolerance = VALUE_RTOL * (1.0 + abs(self.value))
        if np.isnan(self.separation):
            return None
        if self.separation > tolerance:
            return True
        if self.flat_dimension > 0 or (self.runner_up is not None and self.separation <= tolerance):
            return False
        return None


class _Minima:
    """The local minima of f on the box found so far, one per point (:func:`~landscape.touching.same_point`),
    sorted by value; ``decided`` is False for a point whose local-minimum test gave up."""

    def __init__(self):
        self.found: list[tuple[LocalMinimum, bool]] = []

    def add(self, minimum: LocalMinimum, decided: bool = True) -> None:
        for i, (known, known_decided) in enumerate(self.found):
            if same_point(minimum.x, known.x):
                if (decided and not known_decided) or minimum.flat_dimension > known.flat_dimension:
                    self.found[i] = (minimum, decided or known_decided)
                return
        self.found.append((minimum, decided))
        self.found.sort(key=lambda entry: entry[0].value)

    def lowest(self) -> LocalMinimum | None:
        return self.found[0][0] if self.found else None

    def second(self) -> tuple[LocalMinimum, bool] | None:
        """The lowest minimum at another point than the lowest one, and whether it is decided."""
        return self.found[1] if len(self.found) > 1 else None


def projected_descent(f: Objective, x: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                      steps: int = DESCENT_STEPS) -> tuple[np.ndarray, float]:
    r"""Projected gradient descent on the box: :math:`x \leftarrow \Pi_{[lo, hi]}(x - t \nabla f(x))` with the step
    t halved until f drops by at least :math:`10^{-4} \nabla f(x)^\top (x - x_{\text{new}})` (Armijo) and doubled
    after each accepted step; stops after ``steps`` steps, or where f drops by less than 1e-12 relative.
    Returns (x, f(x)) with f(x) ≤ f(start)."""
    value, gradient = f.value_and_grad(x)
    value, length = float(value), 1.0
    for _ in range(steps):
        while True:
            trial = np.clip(x - length * gradient, lo, hi)
            decrease = float(gradient @ (x - trial))
            if decrease <= 0.0:  # a stationary point of the box-constrained problem on this piece
                return x, value
            trial_value, trial_gradient = f.value_and_grad(trial)
            if trial_value <= value - 1e-4 * decrease:
                break
            length /= 2
            if length < 1e-14:
                return x, value
        done = value - trial_value <= 1e-12 * (1.0 + value)
        x, value, gradient, length = trial, float(trial_value), trial_gradient, 2 * length
        if done:
            break
    return x, value


def estimated_boxes(objective: Objective, bounds, level: float, bound: str = "linear",
                    max_nodes: float = np.inf) -> tuple[float, bool]:
    r"""About how many sub-boxes a branch and bound over the box bounds before it prunes every one whose f stays above
    ``level`` (the incumbent's value), from probes.

    At each probe point p — the box's centre c and :math:`c \pm r_i e_i / 2` for each axis i (r the box's
    half-widths), 2k + 1 in all — where f(p) lies above ``level``, the largest w among 1, 1/2, 1/4, … for which the
    lower bound of f over the box :math:`[p - w r, p + w r]` (clipped to the box) reaches ``level``. With w̃ the median
    over the probes, the box holds :math:`(1/\tilde w)^k` boxes of that size: the estimate. On the benchmark's trained
    8×8 generators it was 0.33–2.7 times the boxes the search bounded at k = 2 and 3. A probe stops halving once
    the estimate would exceed ``max_nodes`` (then it is a lower bound). ``bound`` is the search's, as in
    :func:`branch_and_bound`.

    Returns (estimate, whether it is exact as defined or only a lower bound); (0, True) where no probe lies above
    ``level``."""
    f = checked_objective(objective)
    lo0, hi0 = (np.asarray(b, dtype=float) for b in as_box(bounds, f.net.input_dim))
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer, np.floating)) \
            or np.isnan(level):
        raise ValueError(f"level must be a number (f's value to prune above); got {level!r}")
    if bound not in BOUNDS:
        raise ValueError(f"bound must be one of {', '.join(BOUNDS)}; got {bound!r}")
    return _probed_estimate(f, lo0, hi0, level, propagation(f.net, bound), LowerBound(f, bound == "triangle"),
                            max_nodes)


def _probed_estimate(f: Objective, lo0: np.ndarray, hi0: np.ndarray, level: float, propagate,
                     lower_bound: LowerBound, max_nodes: float) -> tuple[float, bool]:
    """:func:`estimated_boxes` on checked arguments, with the search's own bound propagation and lower bound."""
    k = len(lo0)
    centre, half = (lo0 + hi0) / 2, (hi0 - lo0) / 2
    smallest = 0.5 * max_nodes ** (-1.0 / k) if np.isfinite(max_nodes) else 2.0**-30
    widths, capped = [], 0
    for p in [centre] + [centre + side * half[i] / 2 * np.eye(k)[i] for i in range(k) for side in (-1, 1)]:
        if f.value(p) <= level:
            continue
        w = 1.0
        while True:
            lo, hi = np.maximum(p - w * half, lo0), np.minimum(p + w * half, hi0)
            if lower_bound.of(propagate(lo, hi, None), lo, hi, level)[0] >= level:
                break
            if w < smallest:
                capped += 1
                break
            w /= 2
        widths.append(w)
    if not widths:
        return 0.0, True
    return float(np.median(widths) ** -k), capped <= len(widths) // 2


def _minimum_on_stable_box(f: Objective, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minimiser of f over a box inside one region: G = Jx + c there (the affine map at the box's centre), so
    one certified QP of the quadratic over the box; returned with the quadratic's M = AJ (f is flat along its null
    space, where the minimiser stands for a set of them)."""
    J, c = local_affine(f.net, (lo + hi) / 2)
    M, v = (J, f.y - c) if f.A is None else (f.A @ J, f.A @ (f.y - c))
    k = len(lo)
    rows = np.vstack([np.eye(k), -np.eye(k)])
    return polytope_qp(k, 2 * k).solve(M, v, rows, np.concatenate([hi, -lo]), what="a stable sub-box").x, M


LEAF_PATTERN_LIMIT = 3
"""A leaf with at most this many neurons of unfixed sign (2^that sign choices) is solved pattern by pattern
(:func:`_minimum_on_leaf`); one with more, a sub-box narrower than :data:`LEAF_WIDTH`, by enumerating its regions."""


def _minimum_on_leaf(f: Objective, bounds: NetworkBounds, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray | None,
                                                                                                       int]:
    r"""The minimiser of f over a sub-box on which only the neurons U (of open sign by ``bounds``) can switch.

    Every other neuron keeps one sign on the whole box (active where l ≥ 0), so the box is the union of the closed
    polytopes :math:`P_s = \{x \in [lo, hi] : \operatorname{sign} z_U(x) = s\}`, one per sign choice s of U, and on
    :math:`P_s` G is the affine map of that pattern (where a neuron of U is 0 its gate does not matter). The minimum
    of f is the least of the QPs over the :math:`P_s` with an interior (the others lie in the closures of these):
    one has where U's pre-activations have the signs s strictly at the box's centre or (k ≤ 8) a corner (near that
    point, inside the box, they keep them), else a Chebyshev LP decides. Returns (the minimiser, QPs solved);
    (None, QPs) where no choice was found with an interior, which the caller meets by enumerating the box's
    regions."""
    lower, upper = np.concatenate(bounds.lower), np.concatenate(bounds.upper)
    unstable = np.flatnonzero((lower < 0) & (upper > 0))
    base = lower >= 0
    k = len(lo)
    box_rows, box_rhs = np.vstack([np.eye(k), -np.eye(k)]), np.concatenate([hi, -lo])
    corners = np.array(list(itertools.product((False, True), repeat=k))) if k <= 8 else np.zeros((0, k), dtype=bool)
    probes = np.vstack([(lo + hi) / 2, np.where(corners, hi, lo)])
    best, best_value, qps = None, np.inf, 0
    for signs in itertools.product((False, True), repeat=len(unstable)):
        gates = base.copy()
        gates[unstable] = signs
        M, m = preactivation_maps_of_gates(f.net, gates)
        side = np.where(gates[unstable], -1.0, 1.0)  # active: −(Mx + m) ≤ 0; inactive: Mx + m ≤ 0
        G = np.vstack([side[:, None] * M[unstable], box_rows])
        h = np.concatenate([-side * m[unstable], box_rhs])
        strictly = np.any(np.all(probes @ G[:len(unstable)].T < h[:len(unstable)], axis=1))
        if len(unstable) and not strictly and interior_ball(G, h, 1e-12, "a leaf's sign choice", (lo, hi)) is None:
            continue
        J, c = affine_map_of_preactivations(f.net, M, m, gates)
        Mq, v = (J, f.y - c) if f.A is None else (f.A @ J, f.A @ (f.y - c))
        x = polytope_qp(k, len(h)).solve(Mq, v, G, h, what="a leaf's sign choice").x
        qps += 1
        value = float(f.value(x))
        if value < best_value:
            best, best_value = x, value
    return best, qps


def _on_inner_face(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, lo0: np.ndarray, hi0: np.ndarray) -> bool:
    """Whether x lies on a face of the sub-box [lo, hi] that is not a face of the box [lo0, hi0]."""
    slack = distance_slack(x)
    return bool(np.any((x - lo <= slack) & (lo > lo0 + slack)) or np.any((hi - x <= slack) & (hi < hi0 - slack)))


def _split(lo: np.ndarray, hi: np.ndarray, scale: np.ndarray):
    axis = int(np.argmax((hi - lo) / scale))
    middle = (lo[axis] + hi[axis]) / 2
    left_hi, right_lo = hi.copy(), lo.copy()
    left_hi[axis], right_lo[axis] = middle, middle
    return (lo, left_hi), (right_lo, hi)


@one_blas_thread
def branch_and_bound(objective: Objective, bounds, rtol: float = 1e-6, bound: str = "linear",
                     exact_unstable: int = 2, max_nodes: int | None = None, time_limit: float | None = None,
                     x0=None, runner_up: bool = False, runner_up_within: float | None = None,
                     progress: bool = False) -> CertifiedMinimum:
    r"""The global minimum of f over the box ``bounds = (lo, hi)``, certified to ``rtol``·(1 + f*) by branch and bound.

    Parameters
    ----------
    objective : Objective
        A network with convolutions kept as operators is searched on its dense form
        (:meth:`~landscape.ReLUNet.densified`), which the exact leaves need; refused where that form is too large.
    bounds : (lo, hi)
        A bounded box with an interior (scalars or arrays of shape (k,)).
    rtol : float
        Relative tolerance of the certificate: stop when incumbent − lower bound ≤ rtol·(1 + incumbent).
    bound : {"linear", "interval", "triangle"}
        How G is bounded over a sub-box (see :mod:`landscape.branch_and_bound.bounds`): ``"linear"``, the linear
        relaxations of the ReLUs, with the tangent bound of f (:mod:`landscape.branch_and_bound.relaxed`);
        ``"triangle"`` also solves, where the tangent bound does not prune a sub-box with at most
        :data:`~landscape.branch_and_bound.triangle.UNSTABLE_LIMIT` unstable neurons, the triangle relaxation of the
        whole network (:mod:`landscape.branch_and_bound.triangle`): fewer sub-boxes, each dearer.
    exact_unstable : int
        A sub-box with at most this many neurons of unfixed sign is solved exactly (at most 2^that regions).
    max_nodes, time_limit : int, float or None
        Stop uncertified after this many sub-boxes or seconds, returning the bounds reached. With neither, the
        search stops at :data:`DEFAULT_MAX_NODES` sub-boxes, and one whose estimated number of sub-boxes
        (:func:`estimated_boxes`, from the first incumbent) exceeds that is refused before it begins
        (:class:`~landscape.SearchTooLargeError`, with the estimate): at large k no certificate comes within it.
    x0 : array_like (k,), optional
        A point of the box to start the incumbent from (polished first): e.g. the previous snapshot's minimiser
        along a flow, or a descent's end point. Without it the incumbent starts from the box's centre (projected
        descent, then polishing).
    runner_up : bool
        Also find the runner-up, the best local minimum of f on the box at another point (``runner_up``,
        ``separation`` and ``unique`` of the result). The global minimiser is then exact, not just within ``rtol``:
        the lowest of the local minima the leaves list.
    runner_up_within : float, optional
        With ``runner_up``: look for other minima only up to f* + runner_up_within·(1 + |f*|); ``separation`` is then at
        least that much where none is found. A value at or above VALUE_RTOL (1e-9) decides ``unique``; None looks
        for the runner-up however high it lies (every sub-box below its value is resolved into leaves).
    progress : bool
        A progress bar over nodes, with the gap as it closes.

    Examples
    --------
    Two minima of f that differ by 5e-10 in value, at x = 1 and x ≈ −1 (G(x) = (|x|, δ·relu(−x)), y = (1, 0)): a tie
    at the 1e-9 that ``unique`` resolves, reported as one.

    >>> import numpy as np, landscape as L
    >>> delta = np.sqrt(1e-9)
    >>> net = L.ReLUNet([np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0], [0.0, delta]])], [np.zeros(2), np.zeros(2)])
    >>> found = L.branch_and_bound(L.Objective(net, np.array([1.0, 0.0])), (-2, 2), runner_up=True)
    >>> found.x.round(6), found.runner_up.x.round(6), found.unique
    (array([1.]), array([-1.]), False)
    """
    f = checked_objective(objective)
    f = f.densified("branch and bound solves its leaves exactly")  # the bounds are the same either way
    net = f.net
    k = net.input_dim
    if bounds is None:
        raise ValueError("bounds must be a bounded box (lo, hi): branch and bound searches a box, not all of R^k")
    box = as_box(bounds, k)
    rtol = validate.positive_scalar(rtol, "rtol", "rtol (the certificate's relative tolerance)")
    if bound not in BOUNDS:
        raise ValueError(f"bound must be one of {', '.join(BOUNDS)}; got {bound!r}")
    if isinstance(exact_unstable, (bool, np.bool_)) or not isinstance(exact_unstable, (int, np.integer)) \
            or exact_unstable < 0:
        raise ValueError(f"exact_unstable must be an integer >= 0; got {exact_unstable!r}")
    refuse_large = max_nodes is None and time_limit is None
    max_nodes = DEFAULT_MAX_NODES if max_nodes is None else validate.positive_int(max_nodes, "max_nodes")
    if time_limit is not None:
        time_limit = validate.positive_scalar(time_limit, "time_limit", "time_limit (seconds)")
    validate.boolean(runner_up, "runner_up")
    if runner_up_within is not None:
        if not runner_up:
            raise ValueError("runner_up_within needs runner_up=True")
        runner_up_within = validate.positive_scalar(runner_up_within, "runner_up_within",
                                                    "runner_up_within (relative to 1 + |f*|)")
    propagate = propagation(net, bound)
    lower_bound = LowerBound(f, bound == "triangle")
    lo0, hi0 = (np.asarray(b, dtype=float) for b in box)
    scale = hi0 - lo0
    start = time.perf_counter()
    counts = {"nodes": 0, "pruned": 0, "leaves": 0, "qps": 0}
    best = {"x": (lo0 + hi0) / 2, "value": np.inf}
    minima = _Minima()
    start_point = None if x0 is None else validate.point(x0, "x0", k)
    if start_point is not None:
        slack = 1e-9 * (1.0 + np.maximum(np.abs(lo0), np.abs(hi0)))  # a solver's point on a face, up to rounding
        if not (np.all(start_point >= lo0 - slack) and np.all(start_point <= hi0 + slack)):
            raise ValueError(f"x0 must lie in the box [{lo0}, {hi0}]; got {start_point}")
        start_point = np.clip(start_point, lo0, hi0)

    def offer(x: np.ndarray, value: float | None = None, polish: bool = False) -> LocalMinimum | None:
        """Make x the incumbent if f(x) is lower; where it is lower by more than the tolerance, first descend from it
        (:func:`projected_descent`) and polish the end point; ``polish`` polishes x itself, whatever its value.
        Returns the certified local minimum polishing reached, if it ran and did not give up."""
        value = float(f.value(x)) if value is None else value
        if not polish and value >= best["value"] - rtol * (1.0 + best["value"]):
            if value < best["value"]:
                best["x"], best["value"] = x, value
            return None
        reached = None
        if not polish:
            x, value = projected_descent(f, x, lo0, hi0)
        try:
            polished = polish_to_local_minimum(f, x, bounds=(lo0, hi0), max_pieces=POLISH_MAX_PIECES)
            counts["qps"] += len(polished.patterns) + polished.moves
            x, value = polished.x, polished.value
            reached = LocalMinimum(x, value, (), on_box_face(x, (lo0, hi0)))
            if runner_up:
                minima.add(reached)
        except (TooManyRegionsError, PolishingLimitError):
            pass
        if value < best["value"]:
            best["x"], best["value"] = x, value
        return reached

    def keep(x: np.ndarray, value: float, lo: np.ndarray, hi: np.ndarray, flat_dimension: int = 0) -> None:
        """Record a local minimum of f on the leaf [lo, hi]: a local minimum of f on the box unless it lies on a face
        the splitting made, where the exact test decides. One above the search's level cannot be the runner-up."""
        if value >= level():
            return
        decided = True
        if _on_inner_face(x, lo, hi, lo0, hi0):
            try:
                if not is_local_minimum(f, x, bounds=(lo0, hi0), max_pieces=POLISH_MAX_PIECES):
                    return
            except TooManyRegionsError:
                decided = False
        minima.add(LocalMinimum(x, value, (), on_box_face(x, (lo0, hi0)), flat_dimension), decided)

    def solve_leaf(lo: np.ndarray, hi: np.ndarray, bounds: NetworkBounds) -> None:
        counts["leaves"] += 1
        if bounds.stable and runner_up:
            counts["qps"] += 1
            x, M = _minimum_on_stable_box(f, lo, hi)
            value = float(f.value(x))
            offer(x, value)
            if flat_directions(M).shape[1] == 0:  # a strict minimum; a flat set is listed by local_minima below
                keep(x, value, lo, hi)
                return
        if not runner_up:
            if bounds.unstable <= LEAF_PATTERN_LIMIT:
                try:
                    x, qps = _minimum_on_leaf(f, bounds, lo, hi)
                except QPSolveError:  # a degenerate sign choice: the regions' own QPs below
                    x, qps = None, 0
                counts["qps"] += qps
                if x is not None:
                    offer(x, float(f.value(x)))
                    return
            exact = global_minimizer(f, bounds=(lo, hi), runner_up=False)
            counts["qps"] += exact.qps
            offer(np.asarray(exact.x), float(f.value(exact.x)))
            return
        for m in local_minima(f, bounds=(lo, hi)):
            counts["qps"] += 1
            offer(np.asarray(m.x), m.value)
            keep(np.asarray(m.x), m.value, lo, hi, m.flat_dimension)

    def level() -> float:
        """Discard a sub-box whose lower bound reaches this."""
        if not runner_up:
            return best["value"] - rtol * (1.0 + best["value"])
        lowest = minima.lowest()
        value = min(best["value"], np.inf if lowest is None else lowest.value)
        theta = np.inf if runner_up_within is None else value + runner_up_within * (1.0 + abs(value))
        second = minima.second()
        if second is not None:
            theta = min(theta, second[0].value)
        return theta + SEPARATION_SLACK * (1.0 + abs(theta)) if np.isfinite(theta) else np.inf

    def evaluate(lo: np.ndarray, hi: np.ndarray, known: NetworkBounds | None, warm_start=None):
        """(lower bound, bounds, triangle working set) of a sub-box, from its parent's bounds and working set; a
        leaf is solved here and returns None."""
        counts["nodes"] += 1
        found = propagate(lo, hi, known)
        if found.unstable <= exact_unstable or np.all(hi - lo <= LEAF_WIDTH * scale):
            solve_leaf(lo, hi, found)
            return None
        value, x, f_x, working_set = lower_bound.of(found, lo, hi, level(), warm_start)
        offer((lo + hi) / 2 if x is None else x, f_x)
        return value, replace(found, relaxations=()), working_set  # an open box keeps its neuron bounds only

    x0_minimum = None if start_point is None else offer(start_point, polish=True)
    if start_point is None:
        offer(best["x"])
    if refuse_large:
        start_level = level()  # with runner_up_within the search resolves every sub-box up to f* + within·(1 + |f*|)
        if not np.isfinite(start_level):  # the exact runner-up's level is unknown: f*'s gives the least it needs
            start_level = best["value"] - rtol * (1.0 + best["value"])
        estimate, exact = _probed_estimate(f, lo0, hi0, start_level, propagate, lower_bound, max_nodes)
        if estimate > max_nodes:
            raise SearchTooLargeError(
                f"branch and bound at k = {k} would need {'about' if exact else 'at least'} {estimate:.2g} sub-boxes "
                f"(the lower bound reaches the level {start_level:.6g} of the first incumbent's f = "
                f"{best['value']:.6g} only on boxes "
                f"{'of about' if exact else 'smaller than'} {estimate ** (-1 / k):.2g} of the box's width), above "
                f"the default limit of {max_nodes:,} sub-boxes: pass max_nodes= or time_limit= for the bounds reached "
                "within that limit, or search a smaller box", estimate, max_nodes)
    heap: list = []
    order = 0
    latest_working_set = None  # the last triangle QP's working set: the start of one whose parent has none
    root = evaluate(lo0, hi0, None)
    if root is not None:
        heap.append((root[0], order, lo0, hi0, root[1], root[2]))
    stopped_by = "gap"  # until a limit stops the loop
    bar = progress_bar(progress, max_nodes, "branch and bound", "boxes")
    with bar:
        while heap:
            if heap[0][0] >= level():
                break
            if counts["nodes"] >= max_nodes:
                stopped_by = "nodes"
                break
            if time_limit is not None and time.perf_counter() - start > time_limit:
                stopped_by = "time"
                break
            value, _, lo, hi, known, working_set = heapq.heappop(heap)
            for child_lo, child_hi in _split(lo, hi, scale):
                child = evaluate(child_lo, child_hi, known, working_set or latest_working_set)
                bar.update(1)
                if child is None:
                    continue
                if child[2] is not None:
                    latest_working_set = child[2]
                if child[0] >= level():
                    counts["pruned"] += 1
                    continue
                order += 1
                heapq.heappush(heap, (max(child[0], value), order, child_lo, child_hi, child[1],
                                      working_set if child[2] is None else child[2]))
            if heap:
                gap = best["value"] - heap[0][0]
                bar.set_postfix_str(f"separation ≥ {max(-gap, 0.0):.3g}" if runner_up and gap <= 0 else f"gap {gap:.3g}")
    x, value = np.asarray(best["x"], dtype=float), best["value"]
    lowest = minima.lowest()
    if runner_up and lowest is not None and lowest.value <= value:
        x, value = np.asarray(lowest.x, dtype=float), lowest.value
    open_bound = heap[0][0] if heap else np.inf
    floor = min(open_bound, value)
    tolerance = rtol * (1.0 + value)
    certified = value - floor <= tolerance
    result = CertifiedMinimum(x, value, float(floor), bool(certified), tolerance, counts["nodes"], counts["pruned"],
                              counts["leaves"], counts["qps"], lower_bound.solved, bound,
                              time.perf_counter() - start, "gap" if certified and not runner_up else stopped_by,
                              x0_minimum=x0_minimum, triangles=lower_bound.triangles)
    if not runner_up:
        return result
    return _with_runner_up(result, minima, open_bound, runner_up_within)


def _with_runner_up(result: CertifiedMinimum, minima: _Minima, open_bound: float,
                    within: float | None) -> CertifiedMinimum:
    """The result with its runner-up: the lowest minimum found at another point than x, where nothing left open (no
    sub-box below ``open_bound``, no level beyond ``within``) can hold a lower one."""
    value = result.value
    searched = min(open_bound, np.inf if within is None else value + within * (1.0 + abs(value)))
    others = [(m, decided) for m, decided in minima.found if not same_point(m.x, result.x)]
    here = [m for m, _ in minima.found if same_point(m.x, result.x)]
    flat = max((m.flat_dimension for m in here), default=0)
    second, decided = others[0] if others else (None, True)
    reached = searched if second is None else min(second.value, searched)
    separation = 0.0 if flat else max(reached - value, 0.0)
    certain = second is not None and decided and second.value <= searched
    return replace(result, runner_up=second if certain else None, separation=float(separation), flat_dimension=flat)


__all__ = ["CertifiedMinimum", "POLISH_MAX_PIECES", "branch_and_bound", "estimated_boxes", "projected_descent"]
