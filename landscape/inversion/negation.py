r"""Negation-check descent (Huang, Hand, Heckel & Voroninski 2018), the algorithm behind the
Hand–Voroninski landscape: gradient descent on f that, before every step, compares f(x) with f(−x) and
moves to −x when that is lower, escaping the spurious basin near :math:`-\rho_d x_0`.

Cost: gradient evaluations (one per step; the two values f(x), f(−x) of each step come with it); the negations
taken per target are in ``per_target["negations"]``. A target is ``converged`` once :math:`\|\nabla f\| \le` tol, else
its ``budget`` ran out.
Batches of :data:`~landscape.descent.JAX_MIN_BATCH` or more run compiled (XLA loops of :data:`CHUNK` steps,
:func:`_compiled_loop`), smaller ones in NumPy; both take the same steps row for row.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from .. import validate
from .._threads import one_blas_thread
from ..descent import resolve_engine
from ..network import ReLUNet
from ..objective import Objective
from ._result import InversionResult, budget_of, curvatures, inverse_step, result, starts, targets


@one_blas_thread
def negation_check(net: ReLUNet, y, A=None, budget: int = 2000, rng=None, x0=None, lr: float | None = None,
                   tol: float = 1e-6, engine: str = "auto") -> InversionResult:
    r""":math:`x \leftarrow -x` if :math:`f(-x) < f(x)`; then :math:`x \leftarrow x - \eta \nabla f(x)`; until
    :math:`\|\nabla f\| \le` tol or ``budget`` steps. The step η is ``lr``, by default :math:`1/L` with L the
    largest curvature :math:`\|A J(x)\|_2^2` of f's quadratic pieces at the starting points. ``engine``: "auto",
    "numpy" or "jax", as in :func:`~landscape.surfing.surf`."""
    Y, A, single = targets(net, y, A)
    X = starts(net.input_dim, len(Y), x0, rng).copy()
    tol = validate.positive_scalar(tol, "tol", "tol (the gradient tolerance)")
    budget = budget_of(budget)
    if lr is None:
        lr = inverse_step(float(np.max(curvatures(net, X, A))))
    lr = validate.positive_scalar(lr, "lr", "lr (the step size η)")
    f = Objective(net, Y, A)
    compiled = resolve_engine(engine, len(Y)) == "jax"
    if compiled and net.structured:
        if engine == "jax":
            raise ValueError("the negation check's compiled loop runs dense networks only; this network keeps its "
                             "layers as operators: use engine='numpy' or 'auto'")
        compiled = False
    if compiled:
        start = time.perf_counter()
        X, steps, flips, active = _compiled_loop(net, f, X, lr, tol, budget)
        return _result(single, X, f, steps, active, flips, time.perf_counter() - start)
    steps = np.zeros(len(Y), dtype=np.int64)
    flips = np.zeros(len(Y), dtype=np.int64)
    active = np.ones(len(Y), dtype=bool)
    start = time.perf_counter()
    rows, sub = np.arange(len(Y)), f
    for _ in range(budget):
        if not active[rows].all():  # rows that converged leave: rebuild the objective only then
            rows = np.flatnonzero(active)
            if len(rows) == 0:
                break
            sub = Objective(net, Y[rows], A)
        here, there = sub.value(X[rows]), sub.value(-X[rows])
        better = there < here
        X[rows[better]] *= -1
        flips[rows[better]] += 1
        g = sub.grad(X[rows])
        moving = np.linalg.norm(g, axis=1) > tol
        active[rows[~moving]] = False
        X[rows[moving]] -= lr * g[moving]
        steps[rows[moving]] += 1
    return _result(single, X, f, steps, active, flips, time.perf_counter() - start)


def _result(single: bool, X: np.ndarray, f: Objective, steps, active, flips, seconds: float) -> InversionResult:
    return result("negation_check", single, X, f.value(X), steps, "gradient evaluations",
                  np.where(active, "budget", "converged"), seconds, per_target={"negations": flips})


CHUNK = 64
"""Iterations per compiled call; between calls the rows still active are gathered into a smaller batch."""


@functools.cache
def _negation_loop():
    """The jitted loop, built on first use (importing JAX only then)."""
    import jax
    import jax.numpy as jnp

    from .._descent_jax import value_and_grad

    def loop(weights, biases, B, Ay, X, active, lr, tol, iterations):
        def body(state):
            X, steps, flips, active, i = state
            better = active & (value_and_grad(weights, biases, B, Ay, -X)[0]
                               < value_and_grad(weights, biases, B, Ay, X)[0])
            X = jnp.where(better[:, None], -X, X)
            g = value_and_grad(weights, biases, B, Ay, X)[1]
            moving = active & (jnp.linalg.norm(g, axis=1) > tol)
            return jnp.where(moving[:, None], X - lr * g, X), steps + moving, flips + better, moving, i + 1

        def more(state):
            return (state[4] < iterations) & jnp.any(state[3])

        rows = X.shape[0]
        start = (X, jnp.zeros(rows, dtype=jnp.int64), jnp.zeros(rows, dtype=jnp.int64), active,
                 jnp.asarray(0, dtype=jnp.int64))
        return jax.lax.while_loop(more, body, start)

    return jax.jit(loop)


def _compiled_loop(net: ReLUNet, f: Objective, X: np.ndarray, lr: float, tol: float, budget: int):
    """The NumPy loop above, compiled: :data:`CHUNK` iterations per XLA ``while_loop`` with finished rows masked,
    and between chunks the active rows gathered into a batch padded to :func:`~landscape._descent_jax.ladder`
    sizes (few shapes, few compilations). Returns the final X, the steps, the negations and which rows are still
    active."""
    import jax

    from .._descent_jax import ladder, parameters

    rows = len(X)
    X = X.copy()
    B, b = f.residual_map
    Ay = np.broadcast_to(np.atleast_2d(b), (rows, b.shape[-1]))
    steps, flips = np.zeros(rows, dtype=np.int64), np.zeros(rows, dtype=np.int64)
    active, done = np.arange(rows), 0
    size = rows
    with jax.enable_x64(True):
        params = parameters(net, B)
        while len(active) and done < budget:
            if len(active) <= size // 2:
                size = ladder(len(active))
            slots = np.concatenate([active, np.full(size - len(active), active[0])])
            mask = np.arange(len(slots)) < len(active)
            out = jax.device_get(_negation_loop()(*params, Ay[slots], X[slots], mask, float(lr), float(tol),
                                                  min(CHUNK, budget - done)))
            X[active], steps[active], flips[active] = (out[0][: len(active)], steps[active] + out[1][: len(active)],
                                                       flips[active] + out[2][: len(active)])
            done += int(out[4])
            active = active[out[3][: len(active)]]
    still = np.zeros(rows, dtype=bool)
    still[active] = True
    return X, steps, flips, still
