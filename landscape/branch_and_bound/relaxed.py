r"""Lower bounds of :math:`f(x) = \tfrac12\|A G(x) - A y\|^2` over a box from bounds on G there: the relaxed QP

.. math:: \min \{\tfrac12\|A(g - y)\|^2 : Lx + a \le g \le Ux + b,\ lo \le x \le hi\}

of linear bounds :math:`Lx + a \le G(x) \le Ux + b` on the box (its value is at most f's minimum there), and
:math:`\min \{\tfrac12\|A(g - y)\|^2 : l \le g \le u\}` of interval bounds. Each bound returned is a certified lower
bound on the relaxed problem's value, not a solver's estimate of it: without A by the Frank–Wolfe inequality
(:func:`relaxed_bound`), with A by weak duality (:func:`dual_bound`) at a multiplier from an active-set solve
(:func:`measured_relaxed_bound`). The tighter triangle relaxation of the whole network, which :class:`LowerBound`
adds on request, is in :mod:`landscape.branch_and_bound.triangle`.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..objective import Objective
from .bounds import NetworkBounds
from .triangle import DAQP_INFINITY, UNSTABLE_LIMIT, WorkingSet, triangle_bound

VERTEX_LIMIT = 12
"""Up to this k the dual bound with A minimises over the box's :math:`2^k` vertices; above, the relaxed QP goes to
cvxpy (branch and bound at such k needs explicit limits anyway)."""


class LowerBound:
    """The lower bound of f over a sub-box from G's bounds there, for one search: the relaxed QP by
    :func:`relaxed_bound` without A, by :func:`measured_relaxed_bound` with A (its Hessian built once), by cvxpy where
    that cannot answer; with ``triangle``, where that bound stays below the level to prune at, also the triangle
    relaxation of the whole network (:func:`~landscape.branch_and_bound.triangle.triangle_bound`), the larger kept.

    Attributes
    ----------
    solved : int
        Relaxed QPs solved (with A, also the bounded least-squares problems of the interval bound).
    triangles : int
        Triangle relaxations solved.
    """

    def __init__(self, objective: Objective, k: int, triangle: bool = False):
        self.net = objective.net
        self.A = objective.A
        self.y = np.asarray(objective.y, dtype=float)
        self.k, self.n = k, objective.net.output_dim
        self.triangle = triangle
        self._problem = None
        self._hessian = None
        self.solved = 0
        self.triangles = 0

    def _compiled(self):
        """The relaxed QP with measurements A, parametrised by the bounds and the box (without A,
        :func:`relaxed_bound` answers in closed form)."""
        if self._problem is None:
            import cvxpy as cp

            x, g = cp.Variable(self.k), cp.Variable(self.n)
            L, U = cp.Parameter((self.n, self.k)), cp.Parameter((self.n, self.k))
            a, b = cp.Parameter(self.n), cp.Parameter(self.n)
            lo, hi = cp.Parameter(self.k), cp.Parameter(self.k)
            problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(self.A @ g - self.A @ self.y)),
                                 [L @ x + a <= g, g <= U @ x + b, lo <= x, x <= hi])
            self._problem = (problem, x, (L, a, U, b, lo, hi))
        return self._problem

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
           warm_start: WorkingSet | None = None) -> tuple[float, np.ndarray | None, WorkingSet | None]:
        """The lower bound over the sub-box [lo, hi] from ``bounds`` (linear where they have the affine ones, else
        interval), the x where it was reached (None for the interval bound) and the triangle relaxation's working
        set (None where it was not solved). With ``triangle``, a linear bound below ``level`` on a box with at most
        :data:`~landscape.branch_and_bound.triangle.UNSTABLE_LIMIT` unstable neurons is raised by the triangle
        relaxation where that is larger, its QP started from ``warm_start`` (an enclosing box's working set)."""
        if bounds.output_linear is None:
            return (*self.interval(bounds.output_lower, bounds.output_upper), None)
        value, x = self.linear(bounds, lo, hi)
        working_set = None
        if self.triangle and value < level and bounds.unstable <= UNSTABLE_LIMIT:
            self.triangles += 1
            tighter = triangle_bound(self.net, bounds, self.y, self.A, lo, hi, warm_start)
            if tighter is not None:
                working_set = tighter.working_set
                if tighter.value > value:
                    value, x = tighter.value, tighter.x
        return value, x, working_set

    def linear(self, bounds: NetworkBounds, lo: np.ndarray, hi: np.ndarray) -> tuple[float, np.ndarray]:
        """A lower bound on the relaxed QP's value, and the x where it was reached."""
        self.solved += 1
        if self.A is None:
            return relaxed_bound(*bounds.output_linear, self.y, lo, hi)
        if self.k <= VERTEX_LIMIT:
            if self._hessian is None:
                self._hessian = _measured_hessian(self.A, self.y, self.k)
            found = measured_relaxed_bound(*bounds.output_linear, self.A, self.y, lo, hi, self._hessian)
            if found is not None:
                return found
        return self._linear_by_cvxpy(bounds, lo, hi)

    def _linear_by_cvxpy(self, bounds: NetworkBounds, lo: np.ndarray, hi: np.ndarray) -> tuple[float, np.ndarray]:
        """The relaxed QP's value (a lower bound, less the solver's tolerance) and its x, by cvxpy/CLARABEL."""
        import cvxpy as cp

        problem, x, parameters = self._compiled()
        for parameter, value in zip(parameters, (*bounds.output_linear, lo, hi)):
            parameter.value = value
        try:
            problem.solve(solver=cp.CLARABEL)
        except cp.error.SolverError:
            problem.status = None
        if problem.status != cp.OPTIMAL:  # fall back on the interval bound, always valid
            return self.interval(bounds.output_lower, bounds.output_upper)
        value = float(problem.value)
        return max(value - 1e-8 * (1.0 + abs(value)), 0.0), np.clip(np.asarray(x.value), lo, hi)


def relaxed_bound(L: np.ndarray, a: np.ndarray, U: np.ndarray, b: np.ndarray, y: np.ndarray, lo: np.ndarray,
                  hi: np.ndarray, iterations: int = 50) -> tuple[float, np.ndarray]:
    r"""A lower bound on :math:`\min_{lo \le x \le hi} \varphi(x)`, :math:`\varphi(x) = \min \{\tfrac12\|g - y\|^2 :
    Lx + a \le g \le Ux + b\} = \tfrac12 \sum_i \big((L_i x + a_i - y_i)_+ + (y_i - U_i x - b_i)_+\big)^2` (the
    relaxed QP without A; the two parts cannot both be positive where Lx + a ≤ Ux + b, as on the box).

    φ is convex and differentiable, so at any point x̂ of the box
    :math:`\varphi \ge \varphi(\hat x) + \min_{x \in \text{box}} \nabla\varphi(\hat x)^\top (x - \hat x)` (the
    Frank–Wolfe bound, exact where x̂ is the minimiser); x̂ comes from projected Newton steps with backtracking.
    Returns (the bound, x̂)."""
    def parts(x):
        over = np.maximum(L @ x + a - y, 0.0)
        under = np.maximum(y - U @ x - b, 0.0)
        return over, under, 0.5 * float(over @ over + under @ under)

    def frank_wolfe(x, gradient, value):
        return value + float(np.sum(np.minimum(gradient * (lo - x), gradient * (hi - x))))

    x = (lo + hi) / 2
    over, under, value = parts(x)
    best = -np.inf
    for _ in range(iterations):
        gradient = L.T @ over - U.T @ under
        best = max(best, frank_wolfe(x, gradient, value))
        if value - best <= 1e-13 * (1.0 + value):
            break
        H = L[over > 0].T @ L[over > 0] + U[under > 0].T @ U[under > 0]
        free = ~(((x <= lo) & (gradient > 0)) | ((x >= hi) & (gradient < 0)))  # coordinates not held by the box
        step = np.zeros_like(x)
        if free.any():
            sub = H[np.ix_(free, free)] + 1e-12 * (1.0 + np.trace(H)) * np.eye(int(free.sum()))
            step[free] = -np.linalg.solve(sub, gradient[free])
        moved = False
        for length in 0.5 ** np.arange(30):
            trial = np.clip(x + length * step, lo, hi)
            trial_over, trial_under, trial_value = parts(trial)
            if trial_value <= value - 1e-4 * length * abs(float(gradient @ (trial - x))):
                x, over, under, value, moved = trial, trial_over, trial_under, trial_value, True
                break
        if not moved:
            break
    gradient = L.T @ over - U.T @ under
    best = max(best, frank_wolfe(x, gradient, value))
    return max(best, 0.0), x


def dual_bound(multiplier: np.ndarray, L: np.ndarray, a: np.ndarray, U: np.ndarray, b: np.ndarray, A: np.ndarray,
               y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    r"""A lower bound on the relaxed QP's value from any multiplier :math:`\lambda \in \mathbb R^m`.

    By :math:`\tfrac12\|r\|^2 \ge \lambda^\top r - \tfrac12\|\lambda\|^2` with :math:`r = A(g - y)`, then minimising
    :math:`c^\top g`, :math:`c = A^\top\lambda`, over :math:`g \in [Lx + a, Ux + b]`:

    .. math:: \tfrac12\|A(g - y)\|^2 \ge -\tfrac12\|\lambda\|^2 - \lambda^\top A y
              + \min_{lo \le x \le hi} \sum_i \min\big(c_i (L_i x + a_i),\ c_i (U_i x + b_i)\big)

    for every feasible (x, g). The sum is concave in x (a sum of minima of affine functions), so its minimum over the
    box is at one of the box's :math:`2^k` vertices. At :math:`\lambda = A(g^* - y)`, (x*, g*) the relaxed QP's
    minimiser, the bound equals its value (the QP's optimality conditions); near it, it is near."""
    k = len(lo)
    c = A.T @ multiplier
    corners = lo + np.array(list(itertools.product((0.0, 1.0), repeat=k))) * (hi - lo)
    lower, upper = corners @ L.T + a, corners @ U.T + b
    inner = float(np.min(np.sum(np.minimum(c * lower, c * upper), axis=1)))
    return -0.5 * float(multiplier @ multiplier) - float(multiplier @ (A @ y)) + inner


def _measured_hessian(A: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The relaxed QP's objective in z = (x, g) as :math:`\tfrac12 z^\top H z + q^\top z` (+ const):
    H = diag(0, AᵀA), q = (0, −AᵀAy)."""
    n = A.shape[1]
    H = np.zeros((k + n, k + n))
    H[k:, k:] = A.T @ A
    return H, np.concatenate([np.zeros(k), -A.T @ (A @ y)])


def measured_relaxed_bound(L: np.ndarray, a: np.ndarray, U: np.ndarray, b: np.ndarray, A: np.ndarray, y: np.ndarray,
                           lo: np.ndarray, hi: np.ndarray,
                           hessian: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, np.ndarray] | None:
    r"""A lower bound on the relaxed QP :math:`\min \{\tfrac12\|A(g - y)\|^2 : Lx + a \le g \le Ux + b,\ lo \le x \le
    hi\}` and the x where it is reached: DAQP (dense active set, its singular Hessian regularised by proximal steps)
    solves it in z = (x, g); the value returned is :func:`dual_bound` at the multiplier :math:`A(g - y)` of that
    solution (valid whatever the solver's accuracy, equal to the optimum to its precision). None where DAQP
    fails (the caller falls back on another solver). ``hessian`` is :func:`_measured_hessian`'s pair, built once
    per search."""
    import daqp

    k, n = L.shape[1], L.shape[0]
    H, q = _measured_hessian(A, y, k) if hessian is None else hessian
    identity = np.eye(n)
    rows = np.vstack([np.hstack([-L, identity]), np.hstack([-U, identity])])  # a ≤ g − Lx,  g − Ux ≤ b
    upper = np.concatenate([hi, np.full(n, DAQP_INFINITY), b])  # the first k entries bound x itself
    lower = np.concatenate([lo, a, np.full(n, -DAQP_INFINITY)])
    z, _, flag, _ = daqp.solve(H, q, rows, upper, lower)
    z = np.asarray(z)
    if flag not in (1, 2) or not np.all(np.isfinite(z)):
        return None
    bound = dual_bound(A @ (z[k:] - y), L, a, U, b, A, y, lo, hi)
    return max(bound, 0.0), np.clip(z[:k], lo, hi)


__all__ = ["LowerBound", "VERTEX_LIMIT", "dual_bound", "measured_relaxed_bound", "relaxed_bound"]
