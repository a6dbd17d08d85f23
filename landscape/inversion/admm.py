r"""ADMM inversion (Wong & Kolter, seed 002): the network as constraints, solved by operator splitting.

For :math:`G(x) = V \sigma(W_d \cdots \sigma(W_1 x + b_1) \cdots + b_d) + c` and
:math:`\ell(z_{d+1}) = \tfrac12\|A(V z_{d+1} + c) - A y\|^2`, the variables are the layer values
:math:`z_1 = x, z_2, \ldots, z_{d+1}`, each layer's pre- and post-activation :math:`(\tilde v_i, v_i)` and the
scaled duals :math:`(\tilde u_i, u_i)`, with constraints :math:`\tilde v_i = W_i z_i + b_i`,
:math:`z_{i+1} = v_i` and :math:`(\tilde v_i, v_i) \in \mathcal A_i = \{(a, b) : b = \max(a, 0)\}`. One
iteration, in the backward order the paper found best:

.. math::

    z_{d+1} &= (B^\top B + \rho I)^{-1}\big(B^\top (A y - A c) + \rho (v_d + u_d)\big), \quad B = A V \\
    (\tilde v_i, v_i) &= P_{\mathcal A_i}(W_i z_i + b_i - \tilde u_i,\; z_{i+1} - u_i), \quad i = d, \ldots, 1,
    \text{ each followed by} \\
    z_i &= (I + W_i^\top W_i)^{-1}\big(v_{i-1} + u_{i-1} + W_i^\top(\tilde v_i + \tilde u_i - b_i)\big), \quad i > 1, \\
    z_1 &= \operatorname{argmin}_z \|W_1 z + b_1 - \tilde v_1 - \tilde u_1\|^2, \\
    (\tilde u_i, u_i) &\mathrel{+}= (\tilde v_i - (W_i z_i + b_i),\; v_i - z_{i+1}).

:math:`P_{\mathcal A}` is the exact Euclidean projection onto the ReLU graph, elementwise. Started from a
forward pass at x0 (every constraint holds, duals 0). Per iteration the primal residual
:math:`\sqrt{\sum_i \|\tilde v_i - W_i z_i - b_i\|^2 + \|v_i - z_{i+1}\|^2}` and the dual residual
:math:`\rho\sqrt{\sum_i \|\Delta z_i\|^2}` are recorded (means over the batch). Budget: iterations, each
counted as one gradient evaluation (it costs about two forward–backward passes).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from .. import validate
from .._threads import one_blas_thread
from ..network import ReLUNet
from ..objective import Objective
from ._result import InversionResult, budget_of, result, starts, targets, values


def relu_graph_projection(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The nearest point of :math:`\{(p, q) : q = \max(p, 0)\}` to (a, b), elementwise: the better of
    the inactive branch :math:`(\min(a, 0), 0)` and the active one :math:`p = q = \max((a + b)/2, 0)`."""
    off = np.minimum(a, 0.0)
    on = np.maximum((a + b) / 2, 0.0)
    cost_off = (a - off) ** 2 + b**2
    cost_on = (a - on) ** 2 + (b - on) ** 2
    take_on = cost_on < cost_off
    return np.where(take_on, on, off), np.where(take_on, on, 0.0)


@one_blas_thread
def admm(net: ReLUNet, y, A=None, budget: int = 2000, rng=None, x0=None, rho: float = 1.0,
         tol: float = 1e-8) -> InversionResult:
    """ADMM from a forward pass at x0 (uniform on [−1, 1]^k unless given), until both residuals fall below
    ``tol``·(1 + ‖y‖) (``converged``) or ``budget`` iterations (``budget``); ``rho`` is the penalty ρ. Cost: ADMM
    iterations; ``trace`` holds the mean primal and dual residuals per iteration."""
    Y, A, single = targets(net, y, A)
    rho = validate.positive_scalar(rho, "rho", "rho (the ADMM penalty)")
    tol = validate.positive_scalar(tol, "tol", "tol (the residuals' tolerance)")
    budget = budget_of(budget)
    B_rows, d = len(Y), net.depth
    W, b = net.weights, net.effective_biases
    B, target = Objective(net, Y, A).residual_map
    M = np.eye(net.widths[-1]) if B is None else B
    # The z-updates' matrices are symmetric positive definite with eigenvalues >= rho (last) and >= 1 (inner):
    # their inverses, formed once, turn each update into one product.
    out_inverse = cho_solve(cho_factor(M.T @ M + rho * np.eye(M.shape[1])), np.eye(M.shape[1]))
    inner_inverse = [cho_solve(cho_factor(np.eye(W[i].shape[1]) + W[i].T @ W[i]), np.eye(W[i].shape[1]))
                     for i in range(1, d)]
    data_term = target @ M
    first = np.linalg.pinv(W[0])  # z_1's least-squares update
    X0 = starts(net.input_dim, B_rows, x0, rng)
    start = time.perf_counter()

    z = [X0.copy()]  # z[i] is the paper's z_{i+1}: z[0] = x, z[i] = layer i's output
    pre, post = [], []
    for i in range(d):
        pre.append(z[i] @ W[i].T + b[i])
        post.append(np.maximum(pre[i], 0.0))
        z.append(post[i].copy())
    dual_pre = [np.zeros_like(p) for p in pre]
    dual_post = [np.zeros_like(p) for p in post]
    scale = 1.0 + np.linalg.norm(Y, axis=1)
    primal_trace, dual_trace = [], []
    done = np.zeros(B_rows, dtype=bool)
    iterations = np.zeros(B_rows, dtype=np.int64)
    affine = [p.copy() for p in pre]  # W_i z_i + b_i at the current z
    for _ in range(budget):
        old = [zi.copy() for zi in z]
        z[d] = (data_term + rho * (post[d - 1] + dual_post[d - 1])) @ out_inverse.T
        for i in range(d - 1, -1, -1):  # z_i is still the last iteration's here, so affine[i] is current
            pre[i], post[i] = relu_graph_projection(affine[i] - dual_pre[i], z[i + 1] - dual_post[i])
            rhs = (pre[i] + dual_pre[i] - b[i]) @ W[i]
            if i > 0:
                z[i] = (post[i - 1] + dual_post[i - 1] + rhs) @ inner_inverse[i - 1].T
            else:
                z[0] = (pre[0] + dual_pre[0] - b[0]) @ first.T
        primal = np.zeros(B_rows)
        for i in range(d):
            affine[i] = z[i] @ W[i].T + b[i]
            gap_pre = pre[i] - affine[i]
            gap_post = post[i] - z[i + 1]
            dual_pre[i] += gap_pre
            dual_post[i] += gap_post
            primal += np.sum(gap_pre**2, axis=1) + np.sum(gap_post**2, axis=1)
        primal = np.sqrt(primal)
        dual = rho * np.sqrt(sum(np.sum((z[i] - old[i]) ** 2, axis=1) for i in range(d + 1)))
        primal_trace.append(float(primal.mean()))
        dual_trace.append(float(dual.mean()))
        iterations[~done] += 1
        done |= (primal <= tol * scale) & (dual <= tol * scale)
        if done.all():
            break
    X = z[0]
    return result("admm", single, X, values(net, Y, A, X), iterations, "ADMM iterations",
                  np.where(done, "converged", "budget"), time.perf_counter() - start,
                  trace={"primal_residual": primal_trace, "dual_residual": dual_trace})
