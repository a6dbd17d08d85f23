r"""Algorithm 2 (projected-gradient surfing): :math:`x_0 = \operatorname{argmin} f_{\theta_0}`, then at each
snapshot the minimum of :math:`f_{\theta_t}` over every piece of :math:`\mathcal P(x_{t-1}, \theta_t, \tau)`, one
convex QP per piece (Theorem 3.3: exact global minimisers at every step when δ is small enough)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import validate
from ._progress import progress_bar
from ._threads import one_blas_thread
from .critical import global_minimizer
from .flows import NetworkFlow
from .objective import Objective
from .piece_search import pieces
from .qp import minimize_on_region, polytope_qp, region_least_squares


@dataclass(frozen=True)
class ProjectedSurfResult:
    """Outcome of :func:`projected_surf` (Algorithm 2).

    Attributes
    ----------
    iterates : ndarray (T + 1, k)
        :math:`x_0 = \\operatorname{argmin} f_{\\theta_0}` and the :math:`x_t` of each step.
    values : ndarray (T + 1,)
        :math:`f_{\\theta_t}(x_t)`.
    pieces : ndarray of int (T,)
        :math:`|\\mathcal P(x_{t-1}, \\theta_t, \\tau)|`: pieces examined at step t = 1..T.
    search_seconds, solve_seconds : ndarray (T,)
        Time spent finding the pieces and minimising over them, per step.
    converged : ndarray of bool (T,)
        Whether step t's minimisations all reached their optimum: always True for the exact QPs; for
        ``method="projected_gradient"``, whether every piece's iteration met ``tol`` within ``max_steps``.
    """

    iterates: np.ndarray
    values: np.ndarray
    pieces: np.ndarray
    search_seconds: np.ndarray
    solve_seconds: np.ndarray
    converged: np.ndarray

    @property
    def x(self) -> np.ndarray:
        return self.iterates[-1]


def _projected_gradient(M: np.ndarray, v: np.ndarray, G: np.ndarray, h: np.ndarray, x: np.ndarray, lr: float,
                        tol: float, max_steps: int, what: str) -> tuple[np.ndarray, bool]:
    """Iterate x <- Proj_P(x - lr grad) for f = |M x - v|^2 / 2 on P = {G x <= h}; Proj_P is itself a QP.
    Returns the last point and whether a step moved less than ``tol`` relative before ``max_steps``."""
    project = polytope_qp(G.shape[1], G.shape[0])
    identity = np.eye(len(x))
    x = project.solve(identity, x, G, h, what=f"{what}, projection of the start").x
    for step in range(max_steps):
        x_next = project.solve(identity, x - lr * (M.T @ (M @ x - v)), G, h, what=f"{what}, projection {step}").x
        if np.linalg.norm(x_next - x) <= tol * (1 + np.linalg.norm(x)):
            return x_next, True
        x = x_next
    return x, False


@one_blas_thread
def projected_surf(flow: NetworkFlow, y, tau, A=None, bounds=None, x0=None, method: str = "qp",
                   lr: float | None = None, tol: float = 1e-12, max_steps: int = 100_000,
                   progress: bool = False) -> ProjectedSurfResult:
    r"""Algorithm 2: :math:`x_0 = \operatorname{argmin}_x f(x, \theta_0)`; for t = 1..T, minimise
    :math:`f(\cdot, \theta_t)` over every piece of :math:`\mathcal P(x_{t-1}, \theta_t, \tau)` and keep the best.

    Parameters
    ----------
    flow : NetworkFlow
    y : array_like (n,)
    tau : float
        The slack τ > 0 of the near-zero sets :math:`S(x, \theta, \tau)`.
    A : array_like (m, n), optional
    bounds : (lo, hi), optional
        Restrict every piece (and the initial global minimisation) to a box; None: all of R^k.
    x0 : array_like (k,), optional
        Start here instead of at :math:`\operatorname{argmin} f(\cdot, \theta_0)`, which needs every region of
        :math:`\theta_0` (small k only). Theorem 3.3 assumes the global minimiser; with another start the
        iterates follow the piece-wise minima reachable from it. ``values[0]`` is then :math:`f_{\theta_0}(x_0)`.
    method : {"qp", "projected_gradient"}
        "qp" solves each piece's convex QP exactly; "projected_gradient" iterates
        :math:`x \leftarrow \mathrm{Proj}_{P_g}(x - \eta \nabla f)` from :math:`x_{t-1}` literally (step ``lr``,
        default 1/L of the piece's quadratic), to the same points.
    progress : bool
        A bar over the snapshots on standard error, with the pieces searched at the last one.
    """
    if not isinstance(flow, NetworkFlow):
        raise ValueError(f"flow must be a NetworkFlow; got {type(flow).__name__}")
    tau = validate.positive_scalar(tau, "tau", "tau (Algorithm 2's slack)")
    if method not in ("qp", "projected_gradient"):
        raise ValueError(f"method must be 'qp' or 'projected_gradient'; got {method!r}")
    if lr is not None:
        validate.positive_scalar(lr, "lr", "lr (the step size η)")
    tol = validate.nonnegative_scalar(tol, "tol")
    max_steps = validate.positive_int(max_steps, "max_steps")
    y = validate.vector(y, "y", flow[0].output_dim)
    if x0 is None:
        first = global_minimizer(Objective(flow[0], y, A), bounds=bounds, progress=progress, runner_up=False)
        iterates, values = [first.x], [first.value]
    else:
        x0 = validate.point(x0, "x0", flow[0].input_dim)
        iterates, values = [x0], [float(Objective(flow[0], y, A).value(x0))]
    counts, searching, solving, converged = [], [], [], []
    bar = progress_bar(progress, flow.T, "Algorithm 2", "snapshot")
    for t in range(1, flow.T + 1):
        f = Objective(flow[t], y, A)
        start = time.perf_counter()
        found = pieces(flow[t], iterates[-1], tau, bounds=bounds)
        searching.append(time.perf_counter() - start)
        start = time.perf_counter()
        best, all_converged = None, True
        for g, region in enumerate(found):
            what = f"Algorithm 2, step t={t}, piece {g} of {len(found)}"
            if method == "qp":
                x = minimize_on_region(f, region, what).x
            else:
                M, v = region_least_squares(f, region)
                curvature = float(np.linalg.norm(M, 2) ** 2)
                eta = lr if lr is not None else (1.0 / curvature if curvature > 0 else 1.0)
                x, done = _projected_gradient(M, v, *region.halfspaces(), iterates[-1], eta, tol, max_steps, what)
                all_converged &= done
            value = f.value(x)
            if best is None or value < best[1]:
                best = (x, value)
        solving.append(time.perf_counter() - start)
        counts.append(len(found))
        converged.append(all_converged)
        iterates.append(best[0])
        values.append(best[1])
        bar.set_postfix_str(f"{len(found)} pieces")
        bar.update()
    bar.close()
    return ProjectedSurfResult(np.array(iterates), np.array(values), np.array(counts, dtype=np.int64),
                               np.array(searching), np.array(solving), np.array(converged, dtype=bool))
