r"""The batched descent engine of Algorithm 1 and of regular descent: gradient descent or Adam on B inversions at
once, every row with its own step count and its own stopping rule, in NumPy or in one compiled JAX loop.

.. math:: m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
   x_t = x_{t-1} - \eta\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}.
"""

from __future__ import annotations

import numpy as np

from . import validate
from .network import ReLUNet
from .objective import Objective


class BatchedDescent:
    """Gradient descent or Adam on a batch of rows, with per-row step counts and stopping (NumPy, or the compiled
    JAX loop of :mod:`landscape._descent_jax`).

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

            taken, stalled, gradient_norm = _descent_jax.run(
                Objective(net, Y, A), self.X, self.m, self.v, self.t, self.total, self.hit, self.x_star, self.optimizer,
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
        if self.engine == "jax" and len(nets) and not nets[0].structured:  # one compiled scan over stacked snapshots
            from . import _descent_jax

            A = None if A is None else Objective(nets[0], Y, A).A  # validated
            return _descent_jax.run_schedule(nets, Y, A, self.X, self.m, self.v, self.t, self.total, self.hit,
                                             self.x_star, self.optimizer, self.lr, self.betas, self.eps, steps,
                                             reset_moments, self.radius)
        iterates = []
        for net, n in zip(nets, steps):  # one snapshot at a time (a lazy flow holds a few)
            if reset_moments:
                self.reset_moments()
            if n:
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


def stopping_options(stall_window, stall_tol, x_star, radius, B: int, k: int):
    """Validated stopping and tracking options."""
    if stall_window is not None:
        stall_window = validate.positive_int(stall_window, "stall_window")
    stall_tol = validate.nonnegative_scalar(stall_tol, "stall_tol")
    radius = validate.nonnegative_scalar(radius, "radius")
    if x_star is not None:
        x_star, _ = validate.points(x_star, "x_star", k)
        if len(x_star) == 1 and B > 1:
            x_star = np.repeat(x_star, B, axis=0)
        if len(x_star) != B:
            raise ValueError(f"x_star must hold one point per inversion ({B}); got {len(x_star)}")
    return stall_window, stall_tol, x_star, radius


def single_inversion(y, x0, x_star) -> bool:
    """One inversion asked for (one in, one out): a single target, and a single start and x* if given."""
    return all(a is None or np.ndim(a) == 1 for a in (x0, x_star)) and np.ndim(y) == 1


def paired_batch(k: int, n: int, y, x0) -> tuple[np.ndarray, np.ndarray]:
    """Targets and starting points as row-paired arrays (B, n) and (B, k)."""
    Y, single = validate.points(y, "y", n)
    if len(Y) == 0:
        raise ValueError(f"y must hold at least one target, shape ({n},) or (B, {n}); got {np.shape(y)}")
    if x0 is None:
        X0 = np.zeros((len(Y), k))  # the paper's x_{-1} = 0
    else:
        X0, _ = validate.points(x0, "x0", k)
        if len(X0) == 0:
            raise ValueError(f"x0 must hold at least one starting point; got shape {np.shape(x0)}")
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


def resolve_engine(engine: str, batch: int) -> str:
    """Where a descent over ``batch`` rows runs: ``engine``, or for "auto" the compiled JAX loop from
    :data:`JAX_MIN_BATCH` rows on. A network whose layers are operators runs in the compiled loop as well (its
    convolutions as XLA convolutions); only surfing's schedule over such snapshots goes one snapshot at a time."""
    if engine not in ("auto", "numpy", "jax"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'jax'; got {engine!r}")
    if engine == "auto":
        return "jax" if batch >= JAX_MIN_BATCH else "numpy"
    return engine


def optimizer_options(optimizer: str, lr, tol, max_steps, betas, eps) -> tuple[float, float, int]:
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam'; got {optimizer!r}")
    lr = validate.positive_scalar(lr, "lr", "lr (the step size η)")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(
            isinstance(b, (int, float, np.floating)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas):
        raise ValueError(f"betas must be two numbers (β1, β2) in [0, 1); got {betas!r}")
    validate.positive_scalar(eps, "eps", "eps (Adam's ε)")
    return lr, validate.nonnegative_scalar(tol, "tol"), validate.positive_int(max_steps, "max_steps")
