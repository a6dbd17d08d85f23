r"""PLUGIn (Joshi, Li, Plan & Yilmaz, NeurIPS 2021): the Partially Linearized Update for Generative Inversion.

The gradient of f with every ReLU mask dropped:

.. math::

    x \leftarrow x - \eta\, M^\top A^\top \big(A G(x) - A y\big), \qquad M = V W_d \cdots W_1,

M the network's linear part without its activations (and without biases). With A = I and no readout this is the
paper's update :math:`x \leftarrow x - \eta W_1^\top \cdots W_d^\top (G(x) - y)`; with a Gaussian A its
compressed-sensing form. For Gaussian weights :math:`N(0, 1/n_i)` each mask halves the product on average, so
:math:`M^\top J(x) \approx 2^{-d} I` and the paper's step is :math:`\eta = 2^d`; convergence to x is proven for
expansive networks (:math:`n_i \gtrsim 5^i n_0`). The matrix :math:`K = A M` (m × k) is formed once (k products
through the layers' operators), so a step costs one forward pass and an m × k product: cheaper than a gradient.

Cost: forward passes, one per step. A target is ``converged`` once :math:`\|M^\top A^\top r\| \le` tol (the
iteration's fixed point — where the masks matter it is not a stationary point of f), ``diverged`` if the iterate
leaves every bounded set (:math:`\|x\| >` :data:`DIVERGED_NORM`: the step is too long for that network; the last
iterate inside is kept), else its ``budget`` ran out.
"""

from __future__ import annotations

import time

import numpy as np

from .. import validate
from .._threads import one_blas_thread
from ..activation import local_affine
from ..network import ReLUNet
from ..objective import Objective
from ._result import InversionResult, budget_of, result, starts, targets, values

DIVERGED_NORM = 1e8
"""An iterate farther than this from 0 has diverged: the step length does not contract on that network."""


def unmasked_measurement_map(net: ReLUNet, A=None) -> np.ndarray:
    r""":math:`K = A V W_d \cdots W_1` (m × k): the network's linear part with every ReLU mask and bias dropped,
    measured by A (the identity when None), built by pushing the k unit vectors through the layers' operators."""
    Z = np.eye(net.input_dim)
    for layer in net.layers:
        Z = layer.linear(Z)
    apply_B, _, _ = Objective(net, np.zeros(net.output_dim), A).residual_operator
    return np.ascontiguousarray(apply_B(Z).T)


@one_blas_thread
def plugin(net: ReLUNet, y, A=None, budget: int = 2000, rng=None, x0=None, step: float | None = None,
           tol: float = 1e-6) -> InversionResult:
    r""":math:`x \leftarrow x - \eta K^\top (A G(x) - A y)`, :math:`K = A M`, from one start per target (uniform on
    [−1, 1]^k unless ``x0``), until :math:`\|K^\top r\| \le` tol or ``budget`` steps.

    ``step`` is η; by default :math:`1/\max_b \|K^\top A J(x_{0,b})\|_2` over the starts, J the Jacobian of G on
    the start's piece: η = 2^d (to within the spread of the singular values) on the paper's Gaussian networks, and
    rescaled to the weights of any other. ``per_target["step"]`` records η.
    """
    Y, A, single = targets(net, y, A)
    X = starts(net.input_dim, len(Y), x0, rng).copy()
    tol = validate.positive_scalar(tol, "tol", "tol (the tolerance on the update's length)")
    budget = budget_of(budget)
    K = unmasked_measurement_map(net, A)
    if step is None:
        J, _ = local_affine(net, X)
        AJ = J if A is None else A @ J
        scale = float(np.max(np.linalg.norm(K.T @ AJ, 2, axis=(1, 2))))
        step = 1.0 / scale if scale > 0 else 1.0
    step = validate.positive_scalar(step, "step", "step (PLUGIn's η)")
    steps = np.zeros(len(Y), dtype=np.int64)
    stop = np.full(len(Y), "budget", dtype=object)
    active = np.arange(len(Y))
    start = time.perf_counter()
    for taken in range(budget + 1):
        misfit = net.forward(X[active]) - Y[active]
        direction = (misfit if A is None else misfit @ A.T) @ K
        done = np.linalg.norm(direction, axis=1) <= tol
        stop[active[done]] = "converged"
        active, direction = active[~done], direction[~done]
        if taken == budget or len(active) == 0:
            break
        moved = X[active] - step * direction
        inside = np.isfinite(moved).all(axis=1) & (np.linalg.norm(moved, axis=1) <= DIVERGED_NORM)
        stop[active[~inside]] = "diverged"
        active = active[inside]
        X[active] = moved[inside]
        steps[active] += 1
    return result("plugin", single, X, values(net, Y, A, X), steps, "forward passes", stop,
                  time.perf_counter() - start, per_target={"step": np.full(len(Y), step)})


__all__ = ["DIVERGED_NORM", "plugin", "unmasked_measurement_map"]
