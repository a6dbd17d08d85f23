r"""Lower bounds of :math:`f(x) = \tfrac12\|A G(x) - A y\|^2` over a box from bounds on G there.

- From interval bounds :math:`l \le G \le u`: :math:`\min \{\tfrac12\|A(g - y)\|^2 : l \le g \le u\}` (closed form
  without A, bounded least squares with it).
- From the linear relaxations of the ReLUs (:func:`~landscape.branch_and_bound.bounds.relaxation_bounds`): the
  *tangent bound* (:func:`tangent_bound`). By :math:`\tfrac12\|r\|^2 \ge \lambda^\top r - \tfrac12\|\lambda\|^2`,
  f is at least an affine function of G, whose minimum over the box one back-substitution bounds; λ is the residual
  at the box's centre and at its Gauss–Newton point (:func:`gauss_newton_point`). It is the dual of the QP
  :math:`\min \{\tfrac12\|A(g - y)\|^2\}` over the polytope the relaxation encloses G's graph in, evaluated at a
  multiplier instead of solved, with the ReLUs' lower lines chosen for that one affine function rather than for each
  pixel: on the benchmark's trained 8×8 generators it prunes every sub-box the relaxed QP of the output's linear
  bounds :math:`Lx + a \le G \le Ux + b` prunes (the same boxes in every search, k = 2 and 3, with and without A),
  at a fraction of the cost (one row back-substituted instead of 2n).

The tighter triangle relaxation of the whole network, which :class:`LowerBound` adds on request, is in
:mod:`landscape.branch_and_bound.triangle`. Every bound returned is certified (exact but for floating-point rounding),
not a solver's estimate.
"""

from __future__ import annotations

import numpy as np

from ..objective import Objective
from .bounds import CompiledRelaxations, NetworkBounds, lower_linear_bound
from .triangle import UNSTABLE_LIMIT, WorkingSet, triangle_bound


class LowerBound:
    """The lower bound of f over a sub-box from G's bounds there, for one search: the interval bound, or the tangent
    bound (:func:`tangent_bound`); with ``triangle``, where that stays below the level to prune at, also the
    triangle relaxation of the whole network (:func:`~landscape.branch_and_bound.triangle.triangle_bound`), the
    larger kept.

    Attributes
    ----------
    solved : int
        Tangent bounds computed (with A, also the bounded least-squares problems of the interval bound).
    triangles : int
        Triangle relaxations solved.
    """

    def __init__(self, objective: Objective, triangle: bool = False):
        self.net = objective.net
        self.A = objective.A
        self.y = np.asarray(objective.y, dtype=float)
        self.triangle = triangle
        self.solved = 0
        self.triangles = 0

    def interval(self, low: np.ndarray, high: np.ndarray) -> tuple[float, None]:
        r""":math:`\min_{l \le g \le u} \tfrac12\|A(g - y)\|^2`."""
        if self.A is None:
            gap = np.maximum(low - self.y, 0.0) + np.maximum(self.y - high, 0.0)
            return 0.5 * float(gap @ gap), None
        from scipy.optimize import lsq_linear

        self.solved += 1
        fit = lsq_linear(self.A, self.A @ self.y, bounds=(low, high), method="bvls")
        return 0.5 * float(np.sum(fit.fun**2)), None

    def of(self, bounds: NetworkBounds, lo: np.ndarray, hi: np.ndarray, level: float = np.inf,
           warm_start: WorkingSet | None = None) -> tuple[float, np.ndarray | None, float | None, WorkingSet | None]:
        """The lower bound over the sub-box [lo, hi] from ``bounds`` (the tangent bound where they carry the linear
        relaxations, else the interval bound); a point of the box to offer as incumbent and f there (None, None for
        the interval bound; f None where the point is the triangle relaxation's); the triangle relaxation's working
        set (None where it was not solved). With ``triangle``, a tangent bound below ``level`` on a box with at most
        :data:`~landscape.branch_and_bound.triangle.UNSTABLE_LIMIT` unstable neurons is raised by the triangle
        relaxation where that is larger, its QP started from ``warm_start`` (an enclosing box's working set)."""
        if not bounds.relaxations:
            return (*self.interval(bounds.output_lower, bounds.output_upper), None, None)
        value, x, f_x = self.tangent(bounds, lo, hi)
        working_set = None
        if self.triangle and value < level and bounds.unstable <= UNSTABLE_LIMIT:
            self.triangles += 1
            tighter = triangle_bound(self.net, bounds, self.y, self.A, lo, hi, warm_start)
            if tighter is not None:
                working_set = tighter.working_set
                if tighter.value > value:
                    value, x, f_x = tighter.value, tighter.x, None
        return value, x, f_x, working_set

    def tangent(self, bounds: NetworkBounds, lo: np.ndarray, hi: np.ndarray) -> tuple[float, np.ndarray, float]:
        """:func:`tangent_bound` at the box's centre and at its Gauss–Newton point (:func:`gauss_newton_point`): the
        larger bound, the point of the two where f is lower and f there."""
        self.solved += 1
        if isinstance(bounds.relaxations, CompiledRelaxations):  # the same, in one compiled call
            return bounds.relaxations.centre_tangent(self.A, self.y, lo, hi)
        centre = (lo + hi) / 2
        newton = gauss_newton_point(self.net, self.A, self.y, centre, lo, hi)
        points = np.array([centre] if newton is None else [centre, newton])
        return tangent_bound(self.net, bounds, self.A, self.y, points, lo, hi)


def _affine_at(net, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G(x) and the matrix J of G's affine map :math:`Jx' + c` on the piece of x (the gates z > 0 at x), in one
    pass of the k + 1 rows x, e_1, …, e_k through the layers (the bias added to the first row only)."""
    rows = np.vstack([x, np.eye(len(x))])
    for layer, bias in zip(net.layers, net.effective_biases):
        rows = layer.linear(rows)
        rows[0] += bias
        rows *= rows[0] > 0.0
    if net.readout_layer is not None:
        rows = net.readout_layer.linear(rows)
    value = rows[0] if net.readout_bias is None else rows[0] + net.readout_bias
    return value, rows[1:].T


def gauss_newton_point(net, A: np.ndarray | None, y: np.ndarray, x: np.ndarray, lo: np.ndarray,
                       hi: np.ndarray) -> np.ndarray | None:
    r"""The minimiser over the box of f with G replaced by its affine map :math:`Jx + c` on the piece of x
    (as :func:`~landscape.local_affine` gives it): :math:`\arg\min_{lo \le x' \le hi} \tfrac12\|A(Jx' + c - y)\|^2`, by DAQP;
    None where DAQP fails. (For a dense network the search computes it in :func:`._crown.centre_tangent`.)"""
    import daqp

    value, J = _affine_at(net, x)
    target = y - value + J @ x  # y − c
    M, v = (J, target) if A is None else (A @ J, A @ target)
    point, _, flag, _ = daqp.solve(M.T @ M, -(M.T @ v), np.zeros((0, len(x))), hi.copy(), lo.copy())
    point = np.asarray(point)
    if flag not in (1, 2) or not np.all(np.isfinite(point)):
        return None
    return np.clip(point, lo, hi)


def tangent_bound(net, bounds: NetworkBounds, A: np.ndarray | None, y: np.ndarray, points: np.ndarray,
                  lo: np.ndarray, hi: np.ndarray) -> tuple[float, np.ndarray]:
    r"""A lower bound on f over the box from the tangents of :math:`\tfrac12\|r\|^2` at the residuals
    :math:`\lambda_j = A(G(p_j) - y)` of the ``points`` :math:`p_j`.

    For every λ, :math:`\tfrac12\|r\|^2 \ge \lambda^\top r - \tfrac12\|\lambda\|^2`, so with :math:`c = A^\top\lambda`

    .. math:: f(x) \ge c^\top G(x) - c^\top y - \tfrac12\|\lambda\|^2
              \ge \min_{lo \le x \le hi} \ell_c(x) - c^\top y - \tfrac12\|\lambda\|^2

    where :math:`\ell_c \le c^\top G` is the linear bound of that one affine function of G
    (:func:`~landscape.branch_and_bound.bounds.lower_linear_bound`: one back-substitution, not the 2n of the
    output's bounds). The linear bound scales with λ (:math:`\ell_{tc} = t\,\ell_c` for t ≥ 0: each ReLU's line is
    chosen by the sign of its coefficient), so along the ray tλ the bound is :math:`t a - \tfrac12 t^2\|\lambda\|^2`,
    :math:`a = \min \ell_c - c^\top y`, largest at :math:`t = a/\|\lambda\|^2`: the bound returned is
    :math:`a^2 / (2\|\lambda\|^2)` where a > 0 (at least the bound at t = 1, equal to it where
    :math:`a = \|\lambda\|^2`), else 0. On a box inside one linear region the bound at the residual of f's
    minimiser there is f's minimum (the minimiser's optimality conditions); near it, near.

    Returns (the largest bound over the points, at least 0; the point where f is lowest; f there)."""
    if isinstance(bounds.relaxations, CompiledRelaxations):
        values, f_values = bounds.relaxations.tangent_values(A, y, points, lo, hi)
    else:
        residuals = net.forward(points) - y
        multipliers = residuals if A is None else residuals @ A.T
        rows = multipliers if A is None else multipliers @ A
        inner = lower_linear_bound(net, bounds, rows, np.zeros(len(rows)), lo, hi)
        f_values = 0.5 * np.sum(multipliers**2, axis=1)
        slopes = inner - rows @ y  # the bound's derivative along t at t = 0
        values = np.where(slopes > 0, slopes**2 / np.where(f_values > 0, 4 * f_values, 1.0), 0.0)
    lowest = int(np.argmin(f_values))
    return max(float(np.max(values)), 0.0), points[lowest], float(f_values[lowest])


__all__ = ["LowerBound", "gauss_newton_point", "tangent_bound"]
