r"""The exact path of global minimisers :math:`x_*(s_t)` along a flow (Assumption 3.2), found snapshot by snapshot.

.. math:: x_*(s_t) = \operatorname{argmin}_x \tfrac12\|A G(x, \theta_t) - A y\|^2, \qquad
   L = \max_t \|x_*(s_{t+1}) - x_*(s_t)\| / (s_{t+1} - s_t).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import validate
from ._progress import progress_bar
from .box import as_box
from .branch_and_bound import branch_and_bound
from .branch_and_bound.search import DEFAULT_MAX_NODES
from .critical import global_minimizer, on_box_face
from .flows import NetworkFlow
from .objective import Objective
from .polish import polish_to_local_minimum
from .touching import VALUE_RTOL


@dataclass(frozen=True)
class MinimizerPath:
    r"""The exact global minimisers :math:`x_*(s_t)` of :math:`f(\cdot, \theta_t)` along a flow (Assumption 3.2).

    Attributes
    ----------
    times : ndarray (T + 1,)
    minimizers : ndarray (T + 1, k)
    values : ndarray (T + 1,)
    gaps : ndarray (T + 1,)
        Value of the best other local minimum minus the global one; about 0 where the minimiser is not unique.
        With ``method="branch_and_bound"``: NaN without ``runner_up``; with it, the certified separation
        (:attr:`CertifiedMinimum.separation <landscape.CertifiedMinimum>`: a lower bound where the runner-up was not
        reached).
    unique : ndarray of bool (T + 1,) or None
        With ``method="branch_and_bound"``: None without ``runner_up``; with it, True where uniqueness is certified
        (False where a tie is, or where a time or node limit left it undecided, with a warning).
    speeds : ndarray (T,)
        :math:`\|x_*(s_{t+1}) - x_*(s_t)\| / (s_{t+1} - s_t)`.
    L : float
        ``speeds.max()``: the Lipschitz constant of Assumption 3.2.2 as far as this grid can see.
    jumps : ndarray of int
        Steps t at which the global minimum changes basin: exact descent over the pieces of
        :math:`f(\cdot, \theta_{t+1})` from :math:`x_*(s_t)` (:func:`~landscape.polish_to_local_minimum`) ends at a
        local minimum above the global one.
    on_box_face : ndarray of bool (T + 1,)
        With ``bounds``: the minimiser lies on a face of the box, so it is the minimiser on the box only
        (f may go lower outside it); a warning says so.
    qp_fractions : ndarray (T + 1,)
        The share of each snapshot's regions whose QP was solved (:attr:`GlobalMinimum.qp_fraction`); NaN with
        ``method="branch_and_bound"``, which does not list the regions.
    lower_bounds : ndarray (T + 1,)
        A certified lower bound on each :math:`f^*` (the value itself where the regions were enumerated).
    certified : ndarray of bool (T + 1,)
        Whether each minimum is certified: always with enumeration; with branch and bound, where its gap
        value − lower bound closed to ``rtol``·(1 + value) within the time or node limit.
    method : str
    """

    times: np.ndarray
    minimizers: np.ndarray
    values: np.ndarray
    gaps: np.ndarray
    unique: np.ndarray
    speeds: np.ndarray
    L: float
    jumps: np.ndarray
    on_box_face: np.ndarray
    qp_fractions: np.ndarray
    lower_bounds: np.ndarray
    certified: np.ndarray
    method: str = "enumeration"


METHODS = ("enumeration", "branch_and_bound")


def minimizer_path(flow: NetworkFlow, y, A=None, bounds=None, progress: bool = False, method: str = "enumeration",
                   rtol: float = 1e-6, time_limit: float | None = None, runner_up: bool = False,
                   runner_up_within: float | None = None) -> MinimizerPath:
    r"""Exact global minimisers of :math:`f(x, \theta_t) = \tfrac12\|AG(x, \theta_t) - Ay\|^2` at every
    snapshot, with Assumption 3.2's L and the basin jumps (exact descent from each minimiser on the next snapshot).
    ``progress=True`` draws a bar over the snapshots on standard error.

    Parameters
    ----------
    method : {"enumeration", "branch_and_bound"}
        ``"enumeration"``: one region enumeration and :func:`~landscape.global_minimizer` per snapshot (small k; with
        k = 2 and ``bounds``, the planar mesh and its pruned QPs): the minimiser, its uniqueness and the gap to the
        runner-up. ``"branch_and_bound"`` (needs ``bounds``): :func:`~landscape.branch_and_bound` per snapshot, the
        previous snapshot's minimiser its first incumbent: f* certified to ``rtol``·(1 + f*) without enumerating the
        regions, for any small k; ``gaps`` and ``unique`` only with ``runner_up``. Without ``time_limit`` the first
        snapshot's search is refused where its estimated size is too large (:class:`~landscape.SearchTooLargeError`);
        the later ones, which start from a nearby minimiser, are not estimated again but stop at the same default
        node limit, uncertified (with a warning).
    rtol, time_limit, runner_up, runner_up_within
        Branch and bound only: the certificate's tolerance, a time limit per snapshot (a snapshot stopped by it
        is marked uncertified, with a warning), and the runner-up search (:func:`~landscape.branch_and_bound`).
    """
    if not isinstance(flow, NetworkFlow):
        raise ValueError(f"flow must be a NetworkFlow; got {type(flow).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "branch_and_bound" and bounds is None:
        raise ValueError("method='branch_and_bound' needs bounds: a box (lo, hi) to search")
    rtol = validate.positive_scalar(rtol, "rtol", "rtol (the certificate's relative tolerance)")
    if time_limit is not None:
        time_limit = validate.positive_scalar(time_limit, "time_limit", "time_limit (seconds per snapshot)")
    validate.boolean(runner_up, "runner_up")
    if method == "enumeration" and (runner_up or runner_up_within is not None):
        raise ValueError("runner_up and runner_up_within are options of method='branch_and_bound' (enumeration "
                         "always finds the runner-up)")
    found, jumps = [], []
    with progress_bar(progress, len(flow.snapshots), "exact minimiser path", "snapshot") as bar:
        for t, net in enumerate(flow.snapshots):
            objective = Objective(net, y, A)
            if method == "enumeration":
                found.append(global_minimizer(objective, bounds=bounds))
            else:
                limit = None if t == 0 or time_limit is not None else DEFAULT_MAX_NODES
                found.append(branch_and_bound(objective, bounds, rtol=rtol, time_limit=time_limit, max_nodes=limit,
                                              x0=None if t == 0 else found[t - 1].x, runner_up=runner_up,
                                              runner_up_within=runner_up_within))
            if t > 0:
                # branch and bound polished from x_*(s_{t-1}) already, as its first incumbent
                reached = found[t].x0_minimum if method == "branch_and_bound" else None
                if reached is None:
                    reached = polish_to_local_minimum(objective, found[t - 1].x, bounds=bounds)
                if reached.value > found[t].value + VALUE_RTOL * (1.0 + abs(found[t].value)):
                    jumps.append(t - 1)
            bar.update()
    minimizers = np.array([g.x for g in found])
    speeds = np.linalg.norm(np.diff(minimizers, axis=0), axis=1) / np.diff(flow.times)
    values = np.array([g.value for g in found])
    if method == "enumeration":
        on_face = np.array([g.on_box_face for g in found])
        gaps, unique = np.array([g.gap for g in found]), np.array([g.unique for g in found])
        qp_fractions = np.array([g.qp_fraction for g in found])
        lower_bounds, certified = values, np.ones(len(found), dtype=bool)
    else:
        box = as_box(bounds, flow[0].input_dim)
        on_face = np.array([on_box_face(g.x, box) for g in found])
        gaps, unique, qp_fractions = np.full(len(found), np.nan), None, np.full(len(found), np.nan)
        lower_bounds, certified = np.array([g.lower_bound for g in found]), np.array([g.certified for g in found])
        if runner_up:
            gaps = np.array([g.separation for g in found])
            decided = np.array([g.unique is not None for g in found])
            unique = np.array([g.unique is True for g in found])
            if not decided.all():
                warnings.warn(f"branch and bound stopped at its time or node limit before deciding uniqueness at "
                              f"{int((~decided).sum())} of {len(found)} snapshots (first t = {int(np.argmin(decided))}): "
                              "unique is False there, gaps the separation reached", stacklevel=2)
        if not certified.all():
            warnings.warn(f"branch and bound stopped at its time or node limit before certifying {int((~certified).sum())} of "
                          f"{len(found)} snapshots (first t = {int(np.argmin(certified))}): their minimisers are the "
                          "best found, with the lower bounds reached", stacklevel=2)
    if on_face.any():
        warnings.warn(f"the minimiser lies on the face of bounds={bounds} at {int(on_face.sum())} of {len(found)} "
                      f"snapshots (first t = {int(np.argmax(on_face))}): there it minimises f on the box only; "
                      "widen the box to get the global minimiser", stacklevel=2)
    return MinimizerPath(
        times=flow.times, minimizers=minimizers, values=values, gaps=gaps, unique=unique, speeds=speeds,
        L=float(speeds.max()), jumps=np.array(jumps, dtype=np.int64), on_box_face=on_face, qp_fractions=qp_fractions,
        lower_bounds=lower_bounds, certified=certified, method=method)
