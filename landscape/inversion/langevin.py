r"""Posterior sampling by annealed Langevin dynamics (Jalal, Arvinte, Daras, Price, Dimakis & Tamir, NeurIPS 2021),
in the latent of G: a randomised inverter.

The posterior of the latent under Gaussian measurement noise of level σ is

.. math:: p_\sigma(x \mid y) \propto \exp\!\big(-f(x)/\sigma^2\big)\, p(x), \qquad
          f(x) = \tfrac12\|A G(x) - A y\|^2,

and Langevin dynamics with step :math:`\eta_j = \text{lr}\,\sigma_j^2` at each level :math:`\sigma_1 > \cdots > \sigma_L`
of the annealing schedule (Song & Ermon's scaling, as in the paper) is

.. math:: x \leftarrow x - \text{lr}\,\nabla f(x) + \text{lr}\,\sigma_j^2 \nabla \log p(x)
          + \sigma_j \sqrt{2\,\text{lr}}\;\xi, \qquad \xi \sim N(0, I_k):

a gradient step of fixed length on f, a pull toward the prior, and noise that shrinks with σ_j. The prior p is
``"gaussian"`` (N(0, I), the VAE's; :math:`\nabla\log p = -x`), ``"uniform"`` (U[−1, 1]^k, the GANs'; the walk is
reflected at the box's faces) or ``"flat"`` (none). The sampler returns its last sample, or with
``average=True`` the mean of the samples at the last level.

Cost: gradient evaluations, one per step; the whole budget is spent (split evenly over the levels, the remainder
to the last), so every target stops at ``budget``. ``trace["mean_value"]`` is the mean f over the batch at the end
of each level.
"""

from __future__ import annotations

import time

import numpy as np

from .. import validate
from .._threads import one_blas_thread
from ..network import ReLUNet
from ..objective import Objective
from ._result import InversionResult, budget_of, curvatures, inverse_step, result, starts, targets, values

PRIORS = ("gaussian", "uniform", "flat")
DEFAULT_SIGMAS = tuple(np.geomspace(1.0, 1e-3, 10).tolist())
"""σ_1 … σ_L by default: 10 levels, geometric from 1 to 10⁻³."""


def annealing_schedule(sigmas) -> np.ndarray:
    """σ_1 … σ_L as a 1-D array of finite, positive, non-increasing numbers."""
    values_ = np.asarray(sigmas, dtype=float) if not isinstance(sigmas, (str, bytes)) else np.asarray([np.nan])
    if values_.ndim != 1 or len(values_) == 0 or not np.isfinite(values_).all() or (values_ <= 0).any():
        raise ValueError(f"sigmas (the annealing schedule σ_1 … σ_L) must be a non-empty 1-D sequence of finite "
                         f"numbers > 0; got {sigmas!r}")
    if (np.diff(values_) > 0).any():
        raise ValueError(f"sigmas (the annealing schedule) must be non-increasing (σ is annealed down); got {sigmas!r}")
    return values_


def reflect_into_box(X: np.ndarray) -> np.ndarray:
    """X folded into [−1, 1] coordinatewise by reflection at the faces (a triangle wave of period 4)."""
    folded = np.mod(X + 1.0, 4.0)
    return np.where(folded > 2.0, 4.0 - folded, folded) - 1.0


@one_blas_thread
def langevin(net: ReLUNet, y, A=None, budget: int = 2000, rng=None, x0=None, sigmas=DEFAULT_SIGMAS,
             lr: float | None = None, prior: str = "gaussian", average: bool = False) -> InversionResult:
    r"""Annealed Langevin dynamics on :math:`p_{\sigma_j}(x \mid y)` from one start per target (uniform on
    [−1, 1]^k unless ``x0``), ``budget`` steps over the levels ``sigmas``.

    ``lr`` is the gradient step on f, by default :math:`1/(L + \sigma_1^2)` with L the largest curvature
    :math:`\|A J(x_0)\|_2^2` of f's quadratic pieces at the starts (1/L for the priors without a pull): the
    drift's step :math:`\eta_j (L/\sigma_j^2 + 1) = \text{lr}(L + \sigma_j^2)` then stays below 1 at every level.
    The noise comes from ``rng``, after the starts.
    """
    Y, A, single = targets(net, y, A)
    generator = validate.rng(rng)
    X = starts(net.input_dim, len(Y), x0, generator).copy()
    budget = budget_of(budget)
    levels = annealing_schedule(sigmas)
    if len(levels) > budget:
        raise ValueError(f"budget ({budget}) must allow one step per level of sigmas ({len(levels)})")
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {', '.join(PRIORS)}; got {prior!r}")
    average = validate.boolean(average, "average")
    if lr is None:
        pull = levels[0] ** 2 if prior == "gaussian" else 0.0
        lr = inverse_step(float(np.max(curvatures(net, X, A))) + pull)
    lr = validate.positive_scalar(lr, "lr", "lr (the gradient step on f)")
    if prior == "uniform":
        X = reflect_into_box(X)
    per_level = np.full(len(levels), budget // len(levels))
    per_level[-1] += budget - per_level.sum()
    f = Objective(net, Y, A)
    mean_value = []
    start = time.perf_counter()
    for sigma, steps in zip(levels, per_level):
        pull = 0.0 if prior != "gaussian" else lr * sigma**2
        noise = sigma * np.sqrt(2.0 * lr)
        total = np.zeros_like(X)
        for _ in range(steps):
            X = X - lr * f.grad(X) - pull * X + noise * generator.standard_normal(X.shape)
            if prior == "uniform":
                X = reflect_into_box(X)
            total += X
        mean_value.append(float(np.mean(f.value(X))))
    if average:
        X = total / per_level[-1]
    return result("langevin", single, X, values(net, Y, A, X), np.full(len(Y), budget), "gradient evaluations",
                  np.full(len(Y), "budget"), time.perf_counter() - start, trace={"mean_value": mean_value})


__all__ = ["DEFAULT_SIGMAS", "PRIORS", "annealing_schedule", "langevin", "reflect_into_box"]
