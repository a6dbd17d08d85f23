r"""Geometry of one H-polytope :math:`\{x : Gx \le h\}`: Chebyshev ball, facets, boundedness, volume.

Facets come from polar duality: with an interior point c and slacks :math:`s = h - Gc > 0`, row r
is irredundant exactly when :math:`p_r = G_r / s_r` is a vertex of :math:`\operatorname{conv}(\{0\} \cup \{p_j\})`,
and the polytope is bounded exactly when 0 lies strictly inside that hull. Qhull computes the hull
fast in low dimension; above ``QHULL_MAX_DIM`` (or when Qhull reports a degenerate input) one LP
per row decides instead.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
from scipy.spatial import ConvexHull, HalfspaceIntersection, QhullError

QHULL_MAX_DIM = 5
_ZERO_ROW = 1e-13


class SolverError(RuntimeError):
    """An LP that should have solved did not; the message names the problem and the solver's status."""


@dataclass(frozen=True)
class _LPResult:
    status: int  # 0 optimal, 2 infeasible, 3 unbounded
    x: np.ndarray | None
    fun: float


def _dense_rows(A: np.ndarray) -> highspy.HighsSparseMatrix:
    matrix = highspy.HighsSparseMatrix()
    matrix.format_ = highspy.MatrixFormat.kRowwise
    m, n = A.shape
    matrix.num_row_, matrix.num_col_ = m, n
    matrix.start_ = np.arange(0, m * n + 1, n, dtype=np.int32)
    matrix.index_ = np.tile(np.arange(n, dtype=np.int32), m)
    matrix.value_ = np.ascontiguousarray(A, dtype=np.float64).ravel()
    return matrix


@functools.cache
def _solver() -> highspy.Highs:
    """One HiGHS instance per process, reused: building one per LP costs about as much as solving these
    small LPs. (Presolve stays on: without it HiGHS ends some degenerate LPs with status "unknown".)

    HiGHS >= 1.13 prints a banner on standard output when an instance is built, before any option can be
    set; the banner is discarded at the file-descriptor level so that a CLI's standard output stays its own."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            solver = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    solver.setOptionValue("output_flag", False)
    return solver


def linprog(c, A_ub, b_ub, bounds, what: str, A_eq=None, b_eq=None) -> _LPResult:
    """min c x s.t. A_ub x <= b_ub, A_eq x = b_eq, bounds, by HiGHS through highspy (no scipy overhead).

    Every LP in this module has a bounded objective on its feasible set, so HiGHS's "unbounded or
    infeasible" can only mean infeasible.
    """
    inf = highspy.kHighsInf
    n = len(c)
    blocks = [(A_ub, np.full(len(b_ub), -inf), b_ub)] if A_ub is not None and len(A_ub) else []
    if A_eq is not None:
        blocks.append((A_eq, b_eq, b_eq))
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_ = np.array([-inf if lo is None else lo for lo, _ in bounds], dtype=np.float64)
    lp.col_upper_ = np.array([inf if hi is None else hi for _, hi in bounds], dtype=np.float64)
    if blocks:
        A = np.vstack([b[0] for b in blocks])
        lp.num_row_ = A.shape[0]
        lp.row_lower_ = np.concatenate([b[1] for b in blocks]).astype(np.float64)
        lp.row_upper_ = np.concatenate([b[2] for b in blocks]).astype(np.float64)
        lp.a_matrix_ = _dense_rows(A)
    solver = _solver()
    solver.clearModel()
    solver.passModel(lp)
    solver.run()
    status = solver.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        x = np.array(solver.getSolution().col_value)
        return _LPResult(0, x, float(np.dot(c, x)))
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return _LPResult(2, None, np.nan)
    if status == highspy.HighsModelStatus.kUnbounded:
        return _LPResult(3, None, -np.inf)
    raise SolverError(f"{what}: HiGHS ended with model status {solver.modelStatusToString(status)}")


def nonzero_rows(G: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(G, axis=1)
    return norms > _ZERO_ROW * max(1.0, float(norms.max(initial=0.0)))


def chebyshev_ball(G: np.ndarray, h: np.ndarray, cap: float | None, what: str):
    r"""The largest ball in :math:`\{Gx \le h\}`: max r s.t. :math:`G_i x + r\|G_i\| \le h_i`, :math:`0 \le r \le` cap.

    Returns ``(center, radius)``, or None when the polytope is empty. With ``cap=None`` the caller
    must know the radius is finite (see :func:`recession_cone_has_interior`). Rows with ``G_i = 0``
    only test ``0 <= h_i``.
    """
    k = G.shape[1]
    keep = nonzero_rows(G)
    if np.any(h[~keep] < 0):
        return None
    G, h = G[keep], h[keep]
    if len(G) == 0:
        return np.zeros(k), (np.inf if cap is None else float(cap))
    norms = np.linalg.norm(G, axis=1)
    objective = np.zeros(k + 1)
    objective[-1] = -1.0
    result = linprog(objective, np.column_stack([G, norms]), h, [(None, None)] * k + [(0, cap)], what)
    if result.status == 2:
        return None
    if result.status == 3:
        raise SolverError(f"{what}: the Chebyshev LP is unbounded although the caller expected a finite radius")
    return result.x[:k], float(result.x[-1])


def facet_point(G: np.ndarray, h: np.ndarray, r: int, what: str) -> np.ndarray:
    """A point in the relative interior of facet r: the centre of the largest (k-1)-ball on it.

    Rows describing the same hyperplane as row r (coincident neurons) are held to equality too.
    """
    k = G.shape[1]
    keep = nonzero_rows(G)
    norms = np.where(keep, np.linalg.norm(G, axis=1), 1.0)
    unit, offset = G / norms[:, None], h / norms
    same = keep & np.all(np.abs(unit - unit[r]) < 1e-9, axis=1) & (np.abs(offset - offset[r]) < 1e-9 * (1 + abs(offset[r])))
    others = keep & ~same
    objective = np.zeros(k + 1)
    objective[-1] = -1.0
    result = linprog(objective, np.column_stack([G[others], norms[others]]), h[others],
                      [(None, None)] * k + [(0, 1)], f"{what}, facet {r} centre",
                      A_eq=np.append(G[r], 0.0)[None, :], b_eq=h[r:r + 1])
    if result.status != 0:
        raise SolverError(f"{what}: no relative-interior point found on facet {r} (status {result.status})")
    return result.x[:k]


def recession_cone_has_interior(G: np.ndarray, what: str) -> bool:
    r"""Whether :math:`\{d : Gd \le 0\}` has an interior, i.e. the polytope holds balls of every radius.

    Decided by the bounded LP: max s s.t. :math:`G_i d + s\|G_i\| \le 0`, :math:`-1 \le d \le 1`, :math:`0 \le s \le 1`.
    """
    G = G[nonzero_rows(G)]
    k = G.shape[1]
    if len(G) == 0:
        return True
    norms = np.linalg.norm(G, axis=1)
    objective = np.zeros(k + 1)
    objective[-1] = -1.0
    result = linprog(objective, np.column_stack([G, norms]), np.zeros(len(G)), [(-1, 1)] * k + [(0, 1)],
                      f"{what}, recession cone")
    return result.status == 0 and result.x[-1] > 1e-9


def facets_and_boundedness(G: np.ndarray, h: np.ndarray, center: np.ndarray, what: str) -> tuple[np.ndarray, bool]:
    """Indices of the irredundant rows of ``G x <= h`` and whether the polytope is bounded.

    ``center`` must be an interior point (every nonzero row strictly slack).
    """
    k = G.shape[1]
    rows = np.flatnonzero(nonzero_rows(G))
    slack = h[rows] - G[rows] @ center
    if np.any(slack <= 0):
        raise ValueError(f"{what}: center is not an interior point")
    if len(rows) == 0:
        return rows, False
    if k == 1:
        g = G[rows, 0]
        up, down = rows[g > 0], rows[g < 0]
        facets = []
        if len(up):
            facets.append(up[np.argmin(h[up] / G[up, 0])])
        if len(down):
            facets.append(down[np.argmax(h[down] / G[down, 0])])
        return np.sort(np.array(facets, dtype=np.int64)), bool(len(up) and len(down))
    if k <= QHULL_MAX_DIM and len(rows) >= k:
        dual = np.vstack([np.zeros(k), G[rows] / slack[:, None]])
        try:
            hull = ConvexHull(dual)
        except QhullError:
            pass
        else:
            vertices = hull.vertices[hull.vertices > 0] - 1
            scale = float(np.abs(dual).max())
            bounded = bool(np.all(hull.equations[:, -1] < -1e-12 * scale))
            return np.sort(rows[vertices]), bounded
    return _facets_by_lp(G, h, rows, what), _bounded_by_lp(G[rows], what)


def _facets_by_lp(G, h, rows, what) -> np.ndarray:
    """Row r is a facet when relaxing it to ``h_r + 1`` lets ``G_r x`` exceed ``h_r``."""
    k = G.shape[1]
    facets = []
    for r in rows:
        relaxed = h[rows].copy()
        relaxed[rows == r] += 1.0
        result = linprog(-G[r], G[rows], relaxed, [(None, None)] * k, f"{what}, facet test of row {r}")
        if result.status == 0 and -result.fun > h[r] + 1e-9 * (1 + abs(h[r])):
            facets.append(r)
    return np.array(facets, dtype=np.int64)


def _bounded_by_lp(G, what) -> bool:
    """Bounded iff the rows span R^k and some strictly positive combination of them is zero."""
    if np.linalg.matrix_rank(G) < G.shape[1]:
        return False
    m = len(G)
    result = linprog(np.zeros(m), None, None, [(1, None)] * m, f"{what}, boundedness test",
                      A_eq=G.T, b_eq=np.zeros(G.shape[1]))
    return result.status == 0


def vertices(G: np.ndarray, h: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Vertices of a bounded polytope with interior point ``center``; ``[[lower], [upper]]`` for k = 1,
    counter-clockwise for k = 2."""
    k = G.shape[1]
    if k == 1:
        g = G[:, 0]
        return np.array([[np.max(h[g < 0] / g[g < 0])], [np.min(h[g > 0] / g[g > 0])]])
    keep = nonzero_rows(G)
    points = HalfspaceIntersection(np.column_stack([G[keep], -h[keep]]), center).intersections
    hull = ConvexHull(points)
    return points[hull.vertices]  # Qhull orders 2-D hull vertices counter-clockwise


def volume(G: np.ndarray, h: np.ndarray, center: np.ndarray) -> float:
    """Volume (length, area, ...) of a bounded polytope with interior point ``center``."""
    corners = vertices(G, h, center)
    if G.shape[1] == 1:
        return float(corners[1, 0] - corners[0, 0])
    return float(ConvexHull(corners).volume)
