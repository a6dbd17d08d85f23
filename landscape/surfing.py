r"""Algorithm 1 (surfing): warm-started descent on :math:`f_{\theta_0}, f_{\theta_1}, \ldots, f_{\theta_T}`.

.. math:: x_{-1} = 0; \quad x_t = \text{descent on } f_{\theta_t} \text{ started at } x_{t-1}, \quad t = 0, \ldots, T.

Batched: B inversions (targets and/or starting points) run together and share each network pass;
every row keeps its own step count and stops on its own when it converges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from ._threads import one_blas_thread
from .descent import BatchedDescent, optimizer_options, paired_batch, resolve_engine, single_inversion, stopping_options
from .flows import NetworkFlow
from .network import ReLUNet


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
    T = validate.positive_int(T, "T")
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
    lr, tol, max_steps = optimizer_options(optimizer, lr, tol, max_steps, betas, eps)
    if steps is not None and budget is not None:
        raise ValueError("give steps or budget, not both")
    if budget is not None:
        steps = budget_schedule(budget, flow.T, schedule)
    if steps is not None:
        steps = np.asarray(steps)
        if steps.shape != (flow.T,) or not np.issubdtype(steps.dtype, np.integer) or np.any(steps < 0):
            raise ValueError(f"steps must be {flow.T} integers >= 0 (one per snapshot before the last); got {steps}")
    reset_moments = validate.boolean(reset_moments, "reset_moments")
    single = single_inversion(y, x0, x_star)
    net0 = flow[0]
    Y, X0 = paired_batch(net0.input_dim, net0.output_dim, y, x0)
    stall_window, stall_tol, x_star, radius = stopping_options(stall_window, stall_tol, x_star, radius, len(Y), net0.input_dim)
    descent = BatchedDescent(X0, optimizer, lr, betas, eps, x_star, radius, resolve_engine(engine, len(Y)))
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
    lr, tol, max_steps = optimizer_options(optimizer, lr, tol, max_steps, betas, eps)
    single = single_inversion(y, x0, x_star)
    Y, X0 = paired_batch(net.input_dim, net.output_dim, y, x0)
    stall_window, stall_tol, x_star, radius = stopping_options(stall_window, stall_tol, x_star, radius, len(Y), net.input_dim)
    descent = BatchedDescent(X0, optimizer, lr, betas, eps, x_star, radius, resolve_engine(engine, len(Y)))
    taken, converged, stalled = descent.run(net, Y, A, None, tol, max_steps, stall_window, stall_tol)
    result = SurfResult(descent.X.copy(), descent.X.copy()[None], taken[None], converged, stalled, descent.hit)
    return result._one() if single else result
