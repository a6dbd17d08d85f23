r"""Algorithm 1 (surfing): warm-started descent on :math:`f_{\theta_0}, f_{\theta_1}, \ldots, f_{\theta_T}`.

.. math:: x_{-1} = 0; \quad x_t = \text{descent on } f_{\theta_t} \text{ started at } x_{t-1}, \quad t = 0, \ldots, T.

Batched: B inversions (targets and/or starting points) run together and share each network pass;
every row keeps its own step count and stops on its own when it converges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import _validate
from ._progress import progress_bar
from ._threads import one_blas_thread
from .critical import global_minimizer
from .flows import NetworkFlow
from .network import ReLUNet
from .objective import Objective
from .qp import minimize_on_region, polytope_qp, region_least_squares
from .regions import pieces


@dataclass(frozen=True)
class SurfResult:
    """Outcome of :func:`surf` or :func:`regular_descent` for a batch of B inversions.

    Attributes
    ----------
    x : ndarray (B, k)
        The final points :math:`\\hat x_T`.
    iterates : ndarray (T + 1, B, k)
        The point reached on each snapshot, :math:`x_0, \\ldots, x_T`.
    steps : ndarray (T + 1, B)
        Descent steps taken on each snapshot.
    converged : ndarray of bool (B,)
        Whether the last snapshot's run reached the gradient tolerance.
    stalled : ndarray of bool (B,)
        Whether the last snapshot's run ended because the iterate stopped moving (``stall_window``).
    steps_to_target : ndarray of int (B,) or None
        With ``x_star``: the total number of steps (over all snapshots) after which the iterate first lay
        within ``radius`` of x* — the paper's iteration count — or −1 where it never did; 0 when the start
        already did.

    For a single inversion (y of shape (n,), and x0 and x_star, if given, of shape (k,)) the batch axis is
    dropped: x has shape (k,), iterates (T + 1, k), steps (T + 1,), and the flags and count are scalars.
    """

    x: np.ndarray
    iterates: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    stalled: np.ndarray
    steps_to_target: np.ndarray | None = None

    @property
    def total_steps(self) -> np.ndarray:
        """Steps over all snapshots, per inversion (Table 1's iteration counts)."""
        return self.steps.sum(axis=0)

    def _one(self) -> SurfResult:
        """The result of a single inversion without its batch axis: x (k,), iterates (T + 1, k), steps (T + 1,),
        scalar flags and count."""
        return SurfResult(self.x[0], self.iterates[:, 0], self.steps[:, 0], self.converged[0], self.stalled[0],
                          None if self.steps_to_target is None else self.steps_to_target[0])


SCHEDULES = ("harmonic", "uniform", "geometric")
"""The shapes :func:`budget_schedule` can split a budget by."""


def budget_schedule(budget: int, T: int, shape: str = "harmonic") -> np.ndarray:
    r"""Split ``budget`` steps over :math:`\theta_0, \ldots, \theta_{T-1}` in proportion to weights :math:`w_t`.

    .. math:: w_t = \frac{1}{t + 1} \ (\text{harmonic}), \qquad w_t = 1 \ (\text{uniform}), \qquad
       w_t = q^t,\ q = T^{-1/(T-1)} \ (\text{geometric}).

    The paper (§4) allots more steps to the early networks, "where the landscape of G(x) changes more rapidly",
    without naming the schedule; harmonic is this toolkit's default. The geometric shape has the same ratio
    :math:`w_0 / w_{T-1} = T` as the harmonic one, spent faster. The counts are integers summing to ``budget``
    exactly (largest remainders).
    """
    T = _validate.positive_int(T, "T")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 0:
        raise ValueError(f"budget must be an integer >= 0; got {budget!r}")
    if shape not in SCHEDULES:
        raise ValueError(f"shape (the schedule) must be one of {', '.join(SCHEDULES)}; got {shape!r}")
    t = np.arange(T, dtype=float)
    if shape == "harmonic":
        weights = 1.0 / (t + 1)
    elif shape == "uniform" or T == 1:
        weights = np.ones(T)
    else:
        weights = float(T) ** (-t / (T - 1))
    exact = budget * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: budget - counts.sum()]] += 1
    return counts


class _Descent:
    """Gradient descent or Adam on a batch of rows, with per-row step counts and stopping.

    With ``x_star`` it also records, per row, the total steps after which the iterate first came within
    ``radius`` of x*."""

    def __init__(self, X: np.ndarray, optimizer: str, lr: float, betas: tuple[float, float], eps: float,
                 x_star: np.ndarray | None = None, radius: float = 0.0, engine: str = "numpy"):
        self.X = X.copy()
        self.engine = engine
        self.optimizer, self.lr, self.betas, self.eps = optimizer, lr, betas, eps
        self.reset_moments()
        self.total = np.zeros(len(self.X), dtype=np.int64)
        self.x_star, self.radius = x_star, radius
        self.hit = None
        if x_star is not None:
            self.hit = np.where(np.linalg.norm(self.X - x_star, axis=1) < radius, 0, -1).astype(np.int64)

    def reset_moments(self) -> None:
        self.m = np.zeros_like(self.X)
        self.v = np.zeros_like(self.X)
        self.t = np.zeros(len(self.X), dtype=np.int64)

    def run(self, net: ReLUNet, Y: np.ndarray, A, steps: int | None, tol: float, max_steps: int,
            stall_window: int | None = None, stall_tol: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``steps`` updates of every row, or (``steps=None``) until ``|grad| <= tol`` per row, or (with
        ``stall_window``) until the row's best value of f improved by at most ``stall_tol * |f|`` over
        its last ``stall_window`` steps, at most ``max_steps``. Rows that stop leave the batch, so the work is
        the sum of the rows' steps, not the batch size times the slowest row's. Returns the steps taken,
        whether each row met the gradient tolerance, and whether it stopped by the stall rule."""
        if self.engine == "jax":
            from . import _descent_jax

            f = Objective(net, Y, A)
            taken, stalled, gradient_norm = _descent_jax.run(
                net, f._B, f._Ay, self.X, self.m, self.v, self.t, self.total, self.hit, self.x_star, self.optimizer,
                self.lr, self.betas, self.eps, steps, tol, max_steps, stall_window, stall_tol, self.radius)
            return taken, gradient_norm <= tol, stalled
        limit = max_steps if steps is None else steps
        taken = np.zeros(len(self.X), dtype=np.int64)
        stalled = np.zeros(len(self.X), dtype=bool)
        rows = np.arange(len(self.X))
        best, best_before, since = np.full(len(self.X), np.inf), np.full(len(self.X), np.inf), 0
        f = Objective(net, Y, A)
        for _ in range(limit):
            values, g = f.value_and_grad(self.X[rows])
            if steps is None:
                moving = np.linalg.norm(g, axis=1) > tol
                if stall_window is not None:
                    best[rows] = np.minimum(best[rows], values)
                    if since == stall_window:
                        gained = best_before[rows] - best[rows]
                        still = gained <= stall_tol * np.abs(best[rows])
                        stalled[rows[still & moving]] = True
                        moving &= ~still
                        best_before[rows], since = best[rows], 0
                if not moving.all():
                    rows, g = rows[moving], g[moving]
                    if len(rows) == 0:
                        break
                    f = Objective(net, Y[rows], A)
            self._update(g, rows)
            taken[rows] += 1
            self.total[rows] += 1
            since += 1
            if self.hit is not None:
                fresh = rows[self.hit[rows] < 0]
                arrived = fresh[np.linalg.norm(self.X[fresh] - self.x_star[fresh], axis=1) < self.radius]
                self.hit[arrived] = self.total[arrived]
        converged = np.linalg.norm(Objective(net, Y, A).grad(self.X), axis=1) <= tol
        return taken, converged, stalled

    def run_schedule(self, nets, Y: np.ndarray, A, steps: np.ndarray, reset_moments: bool) -> np.ndarray:
        """Exactly ``steps[t]`` updates of every row on ``nets[t]``, t = 0, 1, ...; returns the iterates after
        each network, shape (len(nets), B, k)."""
        if self.engine == "jax" and len(nets):
            from . import _descent_jax

            A = None if A is None else Objective(nets[0], Y, A).A  # validated
            return _descent_jax.run_schedule(nets, Y, A, self.X, self.m, self.v, self.t, self.total, self.hit,
                                             self.x_star, self.optimizer, self.lr, self.betas, self.eps, steps,
                                             reset_moments, self.radius)
        iterates = []
        for net, n in zip(nets, steps):
            if reset_moments:
                self.reset_moments()
            self.run(net, Y, A, int(n), 0.0, int(n))
            iterates.append(self.X.copy())
        return np.array(iterates).reshape(len(nets), *self.X.shape)

    def _update(self, g: np.ndarray, rows: np.ndarray) -> None:
        if self.optimizer == "gd":
            self.X[rows] -= self.lr * g
            return
        beta1, beta2 = self.betas
        self.t[rows] += 1
        self.m[rows] = beta1 * self.m[rows] + (1 - beta1) * g
        self.v[rows] = beta2 * self.v[rows] + (1 - beta2) * g * g
        t = self.t[rows][:, None]
        self.X[rows] -= self.lr * (self.m[rows] / (1 - beta1**t)) / (np.sqrt(self.v[rows] / (1 - beta2**t)) + self.eps)


def _stopping(stall_window, stall_tol, x_star, radius, B: int, k: int):
    """Validated stopping and tracking options."""
    if stall_window is not None:
        stall_window = _validate.positive_int(stall_window, "stall_window")
    stall_tol = _validate.nonnegative_scalar(stall_tol, "stall_tol")
    radius = _validate.nonnegative_scalar(radius, "radius")
    if x_star is not None:
        x_star, _ = _validate.points(x_star, "x_star", k)
        if len(x_star) == 1 and B > 1:
            x_star = np.repeat(x_star, B, axis=0)
        if len(x_star) != B:
            raise ValueError(f"x_star must hold one point per inversion ({B}); got {len(x_star)}")
    return stall_window, stall_tol, x_star, radius


def _single(y, x0, x_star) -> bool:
    """One inversion asked for (one in, one out): a single target, and a single start and x* if given."""
    return all(a is None or np.ndim(a) == 1 for a in (x0, x_star)) and np.ndim(y) == 1


def _batch(k: int, n: int, y, x0) -> tuple[np.ndarray, np.ndarray]:
    """Targets and starting points as row-paired arrays (B, n) and (B, k)."""
    y = np.asarray(y, dtype=float)
    if y.ndim not in (1, 2) or y.shape[-1] != n:
        raise ValueError(f"y must have shape ({n},) or (B, {n}); got {y.shape}")
    if x0 is None:
        X0 = np.zeros((1 if y.ndim == 1 else len(y), k))  # the paper's x_{-1} = 0
    else:
        X0, _ = _validate.points(x0, "x0", k)
    Y = np.atleast_2d(y)
    if len(Y) == 1 and len(X0) > 1:
        Y = np.repeat(Y, len(X0), axis=0)
    elif len(X0) == 1 and len(Y) > 1:
        X0 = np.repeat(X0, len(Y), axis=0)
    if len(Y) != len(X0):
        raise ValueError(f"y holds {len(Y)} targets but x0 holds {len(X0)} starting points; give one of each "
                         "per inversion, or a single one to share")
    return Y, X0


JAX_MIN_BATCH = 64
"""``engine="auto"`` runs batches of at least this many inversions with the compiled JAX loop (compiling it
costs about a second per network shape, which smaller batches would not win back), smaller ones with NumPy."""


def _engine(engine: str, batch: int) -> str:
    if engine not in ("auto", "numpy", "jax"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'jax'; got {engine!r}")
    if engine == "auto":
        return "jax" if batch >= JAX_MIN_BATCH else "numpy"
    return engine


def _check_optimizer(optimizer: str, lr, tol, max_steps, betas, eps) -> tuple[float, float, int]:
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam'; got {optimizer!r}")
    lr = _validate.positive_scalar(lr, "lr", "lr (the step size η)")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(
            isinstance(b, (int, float, np.floating)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas):
        raise ValueError(f"betas must be two numbers (β1, β2) in [0, 1); got {betas!r}")
    _validate.positive_scalar(eps, "eps", "eps (Adam's ε)")
    return lr, _validate.nonnegative_scalar(tol, "tol"), _validate.positive_int(max_steps, "max_steps")


@one_blas_thread
def surf(flow: NetworkFlow, y, A=None, x0=None, optimizer: str = "adam", lr: float = 0.01, steps=None,
         budget: int | None = None, schedule: str = "harmonic", tol: float = 1e-6, max_steps: int = 20_000,
         betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, stall_window: int | None = None,
         stall_tol: float = 1e-6, reset_moments: bool = False, x_star=None, radius: float = 0.01,
         engine: str = "auto") -> SurfResult:
    r"""Algorithm 1: descend on each :math:`f_{\theta_t}` from the point reached on :math:`f_{\theta_{t-1}}`.

    Parameters
    ----------
    flow : NetworkFlow
    y : array_like, shape (n,) or (B, n)
        One target, or one per inversion.
    A : array_like (m, n), optional
        Measurement matrix (None: identity).
    x0 : array_like, shape (k,) or (B, k), optional
        Starting points; default the paper's :math:`x_{-1} = 0`.
    optimizer : {"adam", "gd"}
    lr : float
        Step size η (Adam's α).
    steps : sequence of T ints, optional
        Steps on :math:`\theta_0, \ldots, \theta_{T-1}`; or give ``budget`` to split a total with
        :func:`budget_schedule` of shape ``schedule`` (§4). With neither, every snapshot runs to convergence.
    schedule : {"harmonic", "uniform", "geometric"}
        The shape of the split of ``budget`` (:func:`budget_schedule`).
    tol : float
        Convergence: :math:`\|\nabla f_{\theta_t}(x)\| \le` tol, per inversion.
    max_steps : int
        Cap on each run to convergence.
    stall_window, stall_tol
        Also end a run to convergence when the best value of f reached improved by at most
        ``stall_tol * |f|`` (relative) over the last ``stall_window`` steps: at a spurious minimum on a kink
        the gradient never becomes small and Adam oscillates across the kink, and without this rule such
        runs last ``max_steps``. The test is relative to f itself, so a run still closing in on a minimum
        of value 0 (f falling geometrically) is never stopped by it. None (default) stops on the gradient
        alone.
    reset_moments : bool
        Restart Adam's moments on every snapshot; by default (False) they carry over from one snapshot
        to the next (the paper does not say which it used).
    x_star : array_like, shape (k,) or (B, k), optional
        Record in ``steps_to_target`` the total steps until the iterate first lies within ``radius`` of x*
        (§4: success is :math:`\|\hat x_T - x_*\| < 0.01`).
    engine : {"auto", "numpy", "jax"}
        Where the descent loop runs: NumPy (one Python iteration per step), or one compiled JAX/XLA loop
        (float64; on the GPU when JAX has one), which is several times faster for large batches. Both run
        the same iteration and agree to rounding. "auto" takes JAX for batches of ``JAX_MIN_BATCH`` or more.

    Returns
    -------
    SurfResult
    """
    if not isinstance(flow, NetworkFlow):
        raise ValueError(f"flow must be a NetworkFlow; got {type(flow).__name__}")
    lr, tol, max_steps = _check_optimizer(optimizer, lr, tol, max_steps, betas, eps)
    if steps is not None and budget is not None:
        raise ValueError("give steps or budget, not both")
    if budget is not None:
        steps = budget_schedule(budget, flow.T, schedule)
    if steps is not None:
        steps = np.asarray(steps)
        if steps.shape != (flow.T,) or not np.issubdtype(steps.dtype, np.integer) or np.any(steps < 0):
            raise ValueError(f"steps must be {flow.T} integers >= 0 (one per snapshot before the last); got {steps}")
    reset_moments = _validate.boolean(reset_moments, "reset_moments")
    single = _single(y, x0, x_star)
    net0 = flow[0]
    Y, X0 = _batch(net0.input_dim, net0.output_dim, y, x0)
    stall_window, stall_tol, x_star, radius = _stopping(stall_window, stall_tol, x_star, radius, len(Y), net0.input_dim)
    descent = _Descent(X0, optimizer, lr, betas, eps, x_star, radius, _engine(engine, len(Y)))
    iterates, counts = [], []
    if steps is not None:
        iterates = list(descent.run_schedule(flow.snapshots[:-1], Y, A, steps, reset_moments))
        counts = [np.full(len(Y), n, dtype=np.int64) for n in steps]
    for net in flow.snapshots[len(iterates):]:
        if reset_moments:
            descent.reset_moments()
        taken, converged, stalled = descent.run(net, Y, A, None, tol, max_steps, stall_window, stall_tol)
        iterates.append(descent.X.copy())
        counts.append(taken)
    result = SurfResult(descent.X.copy(), np.array(iterates), np.array(counts), converged, stalled, descent.hit)
    return result._one() if single else result


@one_blas_thread
def regular_descent(net: ReLUNet, y, A=None, x0=None, optimizer: str = "adam", lr: float = 0.01,
                    tol: float = 1e-6, max_steps: int = 20_000, betas: tuple[float, float] = (0.9, 0.999),
                    eps: float = 1e-8, stall_window: int | None = None, stall_tol: float = 1e-6, x_star=None,
                    radius: float = 0.01, engine: str = "auto") -> SurfResult:
    """The baseline of Table 1: the same optimiser, to convergence, on the final network only (the options
    are those of :func:`surf`)."""
    if not isinstance(net, ReLUNet):
        raise ValueError(f"net must be a ReLUNet; got {type(net).__name__}")
    lr, tol, max_steps = _check_optimizer(optimizer, lr, tol, max_steps, betas, eps)
    single = _single(y, x0, x_star)
    Y, X0 = _batch(net.input_dim, net.output_dim, y, x0)
    stall_window, stall_tol, x_star, radius = _stopping(stall_window, stall_tol, x_star, radius, len(Y), net.input_dim)
    descent = _Descent(X0, optimizer, lr, betas, eps, x_star, radius, _engine(engine, len(Y)))
    taken, converged, stalled = descent.run(net, Y, A, None, tol, max_steps, stall_window, stall_tol)
    result = SurfResult(descent.X.copy(), descent.X.copy()[None], taken[None], converged, stalled, descent.hit)
    return result._one() if single else result


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
    tau = _validate.positive_scalar(tau, "tau", "tau (Algorithm 2's slack)")
    if method not in ("qp", "projected_gradient"):
        raise ValueError(f"method must be 'qp' or 'projected_gradient'; got {method!r}")
    if lr is not None:
        _validate.positive_scalar(lr, "lr", "lr (the step size η)")
    tol = _validate.nonnegative_scalar(tol, "tol")
    max_steps = _validate.positive_int(max_steps, "max_steps")
    y = _validate.vector(y, "y", flow[0].output_dim)
    if x0 is None:
        first = global_minimizer(Objective(flow[0], y, A), bounds=bounds, progress=progress)
        iterates, values = [first.x], [first.value]
    else:
        x0 = _validate.point(x0, "x0", flow[0].input_dim)
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
