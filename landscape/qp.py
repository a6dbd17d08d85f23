r"""The per-polytope QP: f restricted to one linear piece is a convex quadratic.

On a region :math:`\{x : Gx \le h\}` where :math:`G(x) = Jx + c`,

.. math:: \min_x \tfrac12 \|M x - v\|^2 \quad \text{s.t.} \quad Gx \le h,
   \qquad M = AJ,\; v = A(y - c).

cvxpy models this family: one DPP problem per shape ``(k, rows)`` (parameters
:math:`R, w` with :math:`\|Mx - v\|^2 = \|Rx - w\|^2 + \mathrm{const}`, and :math:`G, h`), compiled
once and re-solved with new parameter values. Re-solving through cvxpy still costs about a
millisecond of parameter handling per QP, many times the solve itself, so the hot path hands the
same condensed matrices (:math:`H = M^\top M`, :math:`f = -M^\top v`, G, h) straight to DAQP, an exact
dual active-set solver, and certifies its answer by the KKT conditions. An answer that fails the
certificate is re-solved with the compiled cvxpy problem and Clarabel and certified again; if that
fails too, :class:`QPSolveError` names the polytope. No value is returned uncertified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import validate

FEASIBILITY_TOL = 1e-7
"""Largest constraint violation accepted, relative to the polytope's length scale (see :func:`_certify`)."""
STATIONARITY_TOL = 1e-6
"""Largest KKT stationarity / complementarity residual accepted, relative to the problem's own scale."""
DAQP_PRIMAL_TOL = 1e-10


class QPSolveError(RuntimeError):
    """Neither DAQP nor the cvxpy fallback produced a certified optimum."""


@dataclass(frozen=True)
class QPSolution:
    r"""A certified minimiser of :math:`\tfrac12\|Mx - v\|^2` over :math:`\{Gx \le h\}`.

    Attributes
    ----------
    x : ndarray (k,)
    value : float
        :math:`\tfrac12\|Mx - v\|^2`, evaluated from the residual (no cancellation).
    multipliers : ndarray (rows,)
        KKT multipliers :math:`\lambda \ge 0` with :math:`M^\top(Mx - v) + G^\top\lambda = 0`.
    solver : str
        ``"DAQP"`` or ``"cvxpy/CLARABEL"``.
    flat_dimension : int
        0, or d > 0 when the minimisers form a d-dimensional set reaching the polytope's interior (M has a
        d-dimensional null space and x is a point of that set inside the polytope; see
        :func:`landscape.local_minima`).
    """

    x: np.ndarray
    value: float
    multipliers: np.ndarray
    solver: str
    flat_dimension: int = 0

    def active(self, G: np.ndarray, h: np.ndarray, tol: float = 1e-7) -> np.ndarray:
        """Indices of the constraints that hold with equality at x: distance to the hyperplane at most
        ``tol`` times the length scale ``max(|x|, max_r |h_r| / |G_r|)``."""
        norms = np.linalg.norm(G, axis=1)
        moving = norms > 0
        distance = np.where(moving, (h - G @ self.x) / np.where(moving, norms, 1.0), np.inf)
        scale = max(float(np.linalg.norm(self.x)), float(np.max(np.abs(h[moving]) / norms[moving], initial=0.0)))
        return np.flatnonzero(distance <= tol * max(scale, np.finfo(float).tiny))


@dataclass(frozen=True)
class _Normalised:
    """The QP with unit-norm constraint rows and an objective divided by its curvature scale σ: the same
    minimiser, and tolerances that mean the same at any scale of A, y or the weights. ``curvature`` is the
    normalised H's spectral norm: 1, or 0 where H = 0."""

    H: np.ndarray
    f: np.ndarray
    G: np.ndarray
    h: np.ndarray
    row_norms: np.ndarray
    sigma: float
    constant: bool
    curvature: float

    def multipliers(self, lam: np.ndarray) -> np.ndarray:
        """The multipliers of the original problem: H x + f + Gᵀλ = 0 with λ_r = σ λ'_r / ‖G_r‖."""
        return self.sigma * lam / self.row_norms


def _normalise(M, v, G, h, what: str) -> _Normalised:
    if not (np.all(np.isfinite(M)) and np.all(np.isfinite(v)) and np.all(np.isfinite(G)) and np.all(np.isfinite(h))):
        raise QPSolveError(f"{what}: the QP data hold NaN or inf values")
    norms = np.sqrt(np.einsum("ij,ij->i", G, G))
    zero = norms == 0
    if np.any(h[zero] < 0):
        raise QPSolveError(f"{what}: the polytope is empty (a constraint 0 <= {h[zero].min():.3g})")
    norms = np.where(zero, 1.0, norms)
    H, f = M.T @ M, -(M.T @ v)
    sigma = max(float(np.linalg.eigvalsh(H)[-1]), 0.0)  # ‖H‖₂ of the positive semidefinite H
    constant = sigma == 0.0 and not np.any(f)
    curvature = 1.0 if sigma > 0.0 else 0.0
    if sigma == 0.0:
        sigma = _norm(f) or 1.0
    return _Normalised(H / sigma, f / sigma, G / norms[:, None], h / norms, norms, sigma, constant, curvature)


def _norm(v: np.ndarray) -> float:
    """The Euclidean norm of a vector (np.linalg.norm's value without its overhead, which dominates at small k)."""
    return math.sqrt(float(v @ v))


def _certify(problem: _Normalised, x, lam) -> str | None:
    """None when (x, λ) satisfies the KKT conditions of the normalised problem to tolerance, else what failed.

    Every tolerance is relative to the problem's own scale. With unit rows and ‖H‖ = 1, both |h_r| (the
    distance of hyperplane r from 0) and ‖f‖ (the distance of the unconstrained minimiser from 0, along
    H's range) are lengths in x: ℓ = max(‖x‖, max_r |h_r|, ‖f‖); the stationarity scale is ℓ + ‖f‖ + ‖Gᵀλ‖.
    """
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(lam))):
        return "non-finite answer"
    H, f, G, h = problem.H, problem.f, problem.G, problem.h
    length = max(_norm(x), float(np.max(np.abs(h), initial=0.0)), _norm(f), np.finfo(float).tiny)
    slack = h - G @ x
    if np.min(slack, initial=np.inf) < -FEASIBILITY_TOL * length:
        return f"infeasible by {-np.min(slack):.2e} (length scale {length:.2e})"
    pull = G.T @ lam
    scale = length * problem.curvature + _norm(f) + _norm(pull)
    if np.min(lam, initial=0.0) < -STATIONARITY_TOL * scale / max(np.sqrt(len(lam)), 1.0):
        return f"negative multiplier {np.min(lam):.2e}"
    residual = _norm(H @ x + f + pull)
    if residual > STATIONARITY_TOL * scale:
        return f"stationarity residual {residual:.2e} (scale {scale:.2e})"
    if np.max(np.abs(lam * slack), initial=0.0) > STATIONARITY_TOL * scale * length:
        return f"complementarity {np.max(np.abs(lam * slack)):.2e}"
    return None


class PolytopeQP:
    """The QP family of one shape: ``k`` variables and ``rows`` inequalities.

    Use :func:`polytope_qp` to get the shared instance of a shape.
    """

    def __init__(self, k: int, rows: int):
        self.k, self.rows = k, rows
        self._problem = None

    def _cvxpy_problem(self):
        if self._problem is None:
            import cvxpy as cp

            x = cp.Variable(self.k)
            R, w = cp.Parameter((self.k, self.k)), cp.Parameter(self.k)
            G, h = cp.Parameter((self.rows, self.k)), cp.Parameter(self.rows)
            constraint = G @ x <= h
            problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(R @ x - w)), [constraint])
            assert problem.is_dpp()
            self._problem = (problem, x, R, w, G, h, constraint)
        return self._problem

    def solve(self, M, v, G, h, what: str = "polytope") -> QPSolution:
        r"""Minimise :math:`\tfrac12\|Mx - v\|^2` subject to :math:`Gx \le h`.

        Parameters
        ----------
        M : ndarray (m, k)
        v : ndarray (m,)
        G : ndarray (rows, k)
        h : ndarray (rows,)
        what : str
            Names the polytope in error messages.
        """
        if G.shape != (self.rows, self.k) or h.shape != (self.rows,) or M.shape[1] != self.k or v.shape != M.shape[:1]:
            raise ValueError(f"{what}: expected M (m, {self.k}), v (m,), G ({self.rows}, {self.k}), h ({self.rows},); "
                             f"got {M.shape}, {v.shape}, {G.shape}, {h.shape}")
        problem = _normalise(M, v, G, h, what)
        import daqp

        x, _, flag, info = daqp.solve(problem.H, problem.f, np.require(problem.G, np.float64, ["C", "W"]),
                                      np.require(problem.h, np.float64, ["C", "W"]), primal_tol=DAQP_PRIMAL_TOL)
        failure = f"DAQP exit flag {flag}"
        if flag in (1, 2):
            lam = np.asarray(info["lam"])[-self.rows:] if self.rows else np.zeros(0)
            if problem.constant:  # f is constant on the polytope: every feasible point is a minimiser, with λ = 0
                lam = np.zeros(self.rows)
            failure = _certify(problem, x, lam)
            if failure is None:
                return QPSolution(np.asarray(x), 0.5 * float(np.sum((M @ x - v) ** 2)), problem.multipliers(lam), "DAQP")
        return self._solve_with_cvxpy(M, v, problem, f"{what}: DAQP failed ({failure})")

    def _solve_with_cvxpy(self, M, v, problem: _Normalised, context: str) -> QPSolution:
        import cvxpy as cp

        cvx, x, R, w, G_par, h_par, constraint = self._cvxpy_problem()
        root = np.sqrt(problem.sigma)
        Q, R_full = np.linalg.qr(M / root, mode="reduced")
        R_square = np.zeros((self.k, self.k))
        R_square[: R_full.shape[0]] = R_full
        w_square = np.zeros(self.k)
        w_square[: R_full.shape[0]] = Q.T @ (v / root)
        R.value, w.value, G_par.value, h_par.value = R_square, w_square, problem.G, problem.h
        try:
            cvx.solve(solver=cp.CLARABEL)
        except cp.error.SolverError as error:
            raise QPSolveError(f"{context}; cvxpy/CLARABEL raised {error}") from None
        if cvx.status != cp.OPTIMAL:
            raise QPSolveError(f"{context}; cvxpy/CLARABEL status {cvx.status}")
        lam = np.zeros(self.rows) if problem.constant else np.maximum(np.asarray(constraint.dual_value), 0.0)
        failure = _certify(problem, x.value, lam)
        if failure is not None:
            raise QPSolveError(f"{context}; cvxpy/CLARABEL answer not certified ({failure})")
        return QPSolution(np.asarray(x.value), 0.5 * float(np.sum((M @ x.value - v) ** 2)), problem.multipliers(lam),
                          "cvxpy/CLARABEL")


_FAMILIES: dict[tuple[int, int], PolytopeQP] = {}


def polytope_qp(k: int, rows: int) -> PolytopeQP:
    """The shared :class:`PolytopeQP` of shape ``(k, rows)`` (its cvxpy problem is compiled once)."""
    k, rows = validate.positive_int(k, "k"), int(rows)
    if (k, rows) not in _FAMILIES:
        _FAMILIES[(k, rows)] = PolytopeQP(k, rows)
    return _FAMILIES[(k, rows)]


def region_least_squares(objective, region) -> tuple[np.ndarray, np.ndarray]:
    r"""``(M, v)`` with :math:`f(x) = \tfrac12\|Mx - v\|^2` on the region: :math:`M = AJ`, :math:`v = A(y - c)`."""
    J, c = region.affine
    A = objective.A
    return (J, objective.y - c) if A is None else (A @ J, A @ (objective.y - c))


def minimize_on_region(objective, region, what: str = "") -> QPSolution:
    r"""The exact minimiser of :math:`f(x) = \tfrac12\|AG(x) - Ay\|^2` over a region (box included).

    ``what`` is prefixed to the region's pattern in the message of a :class:`QPSolveError`."""
    if region.net is not objective.net and region.net != objective.net:
        raise ValueError(f"region belongs to another network ({region.net!r}) than the objective's ({objective.net!r})")
    M, v = region_least_squares(objective, region)
    G, h = region.halfspaces()
    name = f"{what + ': ' if what else ''}region {region.pattern.bits.hex()}"
    return polytope_qp(G.shape[1], G.shape[0]).solve(M, v, G, h, what=name)
