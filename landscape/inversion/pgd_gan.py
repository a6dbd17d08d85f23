r"""PGD-GAN (Shah & Hegde, ICASSP 2018): projected gradient descent in image space onto the range of G.

Each outer iteration takes a gradient step of :math:`\tfrac12\|A w - A y\|^2` in image space from the current
image G(x), then projects back onto the range of G by an inner descent in the latent, started from the current x:

.. math::

    w = G(x) - \eta A^\top \big(A G(x) - A y\big), \qquad
    x \leftarrow \operatorname{argmin}_z \tfrac12 \|G(z) - w\|^2 \quad \text{(inner Adam from } x\text{)}.

The inner minimisation is itself non-convex: descent from x returns a local projection, which is the true one when
x already lies in its basin (:func:`range_projection`; tested against the exact projection at k = 2). The default
image-space step is η = 1, the choice for measurement matrices that act as near-isometries on the range of G (the
Gaussian :math:`N(0, 1/m)` ones of :func:`~landscape.gaussian_measurements`); without A it makes w = y, so one
projection inverts the target.

Cost: gradient evaluations — one per outer iteration (G(x) and the test below from one forward and backward pass)
and one per inner descent step. A target is ``converged`` once :math:`\|\nabla f(x)\| \le` tol at the start of an
outer iteration, else its ``budget`` ran out.
"""

from __future__ import annotations

import time

import numpy as np

from .. import validate
from .._threads import one_blas_thread
from ..network import ReLUNet, checked_network
from ..objective import Objective
from ._result import InversionResult, budget_of, curvatures, result, starts, targets, values


def range_projection(net: ReLUNet, W, x0, steps: int = 50, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    r"""The latent of the nearest image of G to each row of W, locally: gradient descent on
    :math:`\tfrac12\|G(z) - w\|^2` from z = x0, at most ``steps`` steps, until the gradient's norm is at most
    ``tol``. Each row's step is :math:`1/\|J(z_0)\|_2^2`, the inverse curvature of the quadratic piece it starts on
    (plain descent, not Adam: Adam's first steps move every coordinate by its rate whatever the gradient, so a
    projection restarted at every outer iteration would never settle below that rate).

    Returns ``(Z, steps_taken)``, shapes (B, k) and (B,).
    """
    checked_network(net)
    W, _ = validate.points(W, "W", net.output_dim)
    Z, _ = validate.points(x0, "x0", net.input_dim)
    if len(Z) != len(W):
        raise ValueError(f"x0 must hold one start per image ({len(W)}); got {len(Z)}")
    steps = validate.positive_int(steps, "steps")
    tol = validate.positive_scalar(tol, "tol", "tol (the gradient tolerance)")
    curvature = curvatures(net, Z)
    step = 1.0 / np.where(curvature > 0, curvature, 1.0)
    Z = Z.copy()
    taken = np.zeros(len(Z), dtype=np.int64)
    distance = Objective(net, W)
    moving = np.ones(len(Z), dtype=bool)
    for _ in range(steps):
        gradient = distance.grad(Z)
        moving &= np.linalg.norm(gradient, axis=1) > tol
        if not moving.any():
            break
        Z[moving] -= step[moving, None] * gradient[moving]
        taken += moving
    return Z, taken


@one_blas_thread
def pgd_gan(net: ReLUNet, y, A=None, budget: int = 2000, rng=None, x0=None, step: float = 1.0, inner_steps: int = 50,
            tol: float = 1e-6) -> InversionResult:
    r"""Shah & Hegde's projected gradient descent from one start per target (uniform on [−1, 1]^k unless ``x0``):
    image-space steps of length ``step`` (η), each projected onto the range by at most ``inner_steps`` steps of
    :func:`range_projection`; until :math:`\|\nabla f\| \le` tol or ``budget`` gradient evaluations.
    ``per_target["outer_iterations"]`` counts the projections."""
    Y, A, single = targets(net, y, A)
    X = starts(net.input_dim, len(Y), x0, rng).copy()
    tol = validate.positive_scalar(tol, "tol", "tol (the gradient tolerance)")
    budget = budget_of(budget)
    inner_steps = validate.positive_int(inner_steps, "inner_steps")
    step = validate.positive_scalar(step, "step", "step (the image-space step η)")
    cost = np.zeros(len(Y), dtype=np.int64)
    outer = np.zeros(len(Y), dtype=np.int64)
    stop = np.full(len(Y), "budget", dtype=object)
    active = np.arange(len(Y))
    start = time.perf_counter()
    while len(active):
        active = active[cost[active] < budget]
        if len(active) == 0:
            break
        gradient = Objective(net, Y[active], A).grad(X[active])
        cost[active] += 1
        done = np.linalg.norm(gradient, axis=1) <= tol
        stop[active[done]] = "converged"
        active = active[~done & (cost[active] < budget)]
        if len(active) == 0:
            break
        image = net.forward(X[active])
        misfit = image - Y[active]
        w = image - step * (misfit if A is None else (misfit @ A.T) @ A)
        allowed = int(min(inner_steps, np.min(budget - cost[active])))
        X[active], taken = range_projection(net, w, X[active], allowed, tol)
        cost[active] += taken
        outer[active] += 1
    return result("pgd_gan", single, X, values(net, Y, A, X), cost, "gradient evaluations", stop,
                  time.perf_counter() - start, per_target={"outer_iterations": outer})


__all__ = ["pgd_gan", "range_projection"]
