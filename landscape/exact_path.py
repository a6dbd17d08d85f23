r"""The exact path of global minimisers :math:`x_*(s_t)` along a flow (Assumption 3.2), found snapshot by snapshot.

.. math:: x_*(s_t) = \operatorname{argmin}_x \tfrac12\|A G(x, \theta_t) - A y\|^2, \qquad
   L = \max_t \|x_*(s_{t+1}) - x_*(s_t)\| / (s_{t+1} - s_t).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._progress import progress_bar
from .critical import global_minimizer
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
    unique : ndarray of bool (T + 1,)
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
        The share of each snapshot's regions whose QP was solved (:attr:`GlobalMinimum.qp_fraction`).
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



def minimizer_path(flow: NetworkFlow, y, A=None, bounds=None, progress: bool = False) -> MinimizerPath:
    r"""Exact global minimisers of :math:`f(x, \theta_t) = \tfrac12\|AG(x, \theta_t) - Ay\|^2` at every
    snapshot (small k: one region enumeration and :func:`~landscape.global_minimizer` per snapshot; with k = 2
    and ``bounds``, the planar mesh and its pruned QPs), with Assumption 3.2's L and the basin jumps (exact
    descent from each minimiser on the next snapshot). ``progress=True`` draws a bar over the snapshots on
    standard error.
    """
    if not isinstance(flow, NetworkFlow):
        raise ValueError(f"flow must be a NetworkFlow; got {type(flow).__name__}")
    found, jumps = [], []
    with progress_bar(progress, len(flow.snapshots), "exact minimiser path", "snapshot") as bar:
        for t, net in enumerate(flow.snapshots):
            objective = Objective(net, y, A)
            found.append(global_minimizer(objective, bounds=bounds))
            if t > 0:
                reached = polish_to_local_minimum(objective, found[t - 1].x, bounds=bounds)
                if reached.value > found[t].value + VALUE_RTOL * (1.0 + abs(found[t].value)):
                    jumps.append(t - 1)
            bar.update()
    minimizers = np.array([g.x for g in found])
    speeds = np.linalg.norm(np.diff(minimizers, axis=0), axis=1) / np.diff(flow.times)
    on_face = np.array([g.on_box_face for g in found])
    if on_face.any():
        warnings.warn(f"the minimiser lies on the face of bounds={bounds} at {int(on_face.sum())} of {len(found)} "
                      f"snapshots (first t = {int(np.argmax(on_face))}): there it minimises f on the box only; "
                      "widen the box to get the global minimiser", stacklevel=2)
    return MinimizerPath(
        times=flow.times, minimizers=minimizers, values=np.array([g.value for g in found]),
        gaps=np.array([g.gap for g in found]), unique=np.array([g.unique for g in found]),
        speeds=speeds, L=float(speeds.max()), jumps=np.array(jumps, dtype=np.int64), on_box_face=on_face,
        qp_fractions=np.array([g.qp_fraction for g in found]),
    )
