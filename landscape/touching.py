r"""When a solver's point is a point: which neurons pass through it, and when two points or two values of f are the
same. Shared by the exact minimisers (:mod:`landscape.critical`) and exact descent (:mod:`landscape.polish`)."""

from __future__ import annotations

import numpy as np

from .activation import on_switching_hyperplanes, preactivation_maps_of_gates

VALUE_RTOL = 1e-9
"""f(x) counts as equal to a region's minimum when within VALUE_RTOL * (1 + |f|)."""
POINT_RTOL = 1e-6
"""Two minimisers closer than POINT_RTOL * (1 + |x|) are the same point."""
THROUGH_RTOL = 1e-7
"""Slack for deciding which regions a QP solution touches: relative rounding (see on_switching_hyperplanes), and
THROUGH_RTOL·(1 + ‖x‖) as a distance from x (see :func:`distance_slack`)."""


def distance_slack(x: np.ndarray) -> float:
    """THROUGH_RTOL·(1 + ‖x‖): how far from a solver's point x a neuron's line or a region may lie and still pass
    through or touch it."""
    return THROUGH_RTOL * (1.0 + float(np.linalg.norm(x)))


def neurons_through(net, x: np.ndarray, gates: np.ndarray) -> np.ndarray:
    r"""Which neurons pass through a solver's point x (flat gate vector ``gates``): to the rounding slack
    THROUGH_RTOL of :func:`on_switching_hyperplanes`, or within the distance slack of x,
    :math:`|z_g(x)| \le` that distance times :math:`\|\nabla z_g\|` on x's piece (the relative slack alone vanishes
    at the origin of a bias-free network, where a solver's point is 0 only to its tolerance)."""
    M, m = preactivation_maps_of_gates(net, gates)
    near = np.abs(M @ x + m) <= distance_slack(x) * np.linalg.norm(M, axis=1)
    return np.flatnonzero(on_switching_hyperplanes(net, x, THROUGH_RTOL) | near)


def same_point(x: np.ndarray, reference: np.ndarray) -> bool:
    r"""Whether x is ``reference`` to the point tolerance: :math:`\|x - r\| \le` POINT_RTOL·(1 + ‖r‖)."""
    return bool(np.linalg.norm(x - reference) <= POINT_RTOL * (1 + np.linalg.norm(reference)))
