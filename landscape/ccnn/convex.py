r"""The convex training problem of a CCNN layer and its solvers.

With the features :math:`Z_i = Z(x_i)` (n × P × m, one row of m features per patch or pooled patch) and the
parameter :math:`A \in \mathbb R^{m \times P \times K}`, the logits are :math:`H(x_i)_k = \operatorname{tr}(Z_i
A_{\cdot\cdot k}) = \sum_{p,j} Z_{ipj} A_{jpk}`, and training solves

.. math:: \min_{\|A\|_* \le R}\; L(A) = \frac1n \sum_i \Big[\log \sum_k e^{H(x_i)_k} - H(x_i)_{y_i}\Big],

the nuclear norm taken of A as an m × (P·K) matrix (the rank r of the CNN's filters, relaxed). L is convex and
smooth, the ball convex and compact, so the minimum L* is unique in value, and for any feasible A the Frank–Wolfe
gap

.. math:: g(A) = \langle \nabla L(A), A\rangle + R\,\sigma_{\max}(\nabla L(A)) \;\ge\; L(A) - L^*

certifies how far A is from optimal (:func:`nuclear_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate
from .._threads import one_blas_thread

@dataclass(frozen=True)
class ConvexFit:
    """A solution of the problem above: A (m, P, K), L(A), its duality gap g(A) ≥ L(A) − L*, the iterations (or
    solver) that produced it and whether the gap met the tolerance."""

    A: np.ndarray
    loss: float
    gap: float
    iterations: int
    converged: bool
    method: str

    @property
    def nuclear_norm(self) -> float:
        return float(np.linalg.svd(_flat(self.A), compute_uv=False).sum())


def _flat(A: np.ndarray) -> np.ndarray:
    return A.reshape(A.shape[0], -1)


def class_labels(y, n: int, classes: int | None = None, name: str = "y") -> tuple[np.ndarray, int]:
    """One integer label 0 … K − 1 per image (n of them) as int64, and K (``classes``, or the largest label + 1;
    at least 2)."""
    labels = np.asarray(y)
    if labels.shape != (n,):
        raise ValueError(f"{name} must hold one label per image, shape ({n},); got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class labels; got dtype {labels.dtype}")
    K = int(labels.max()) + 1 if classes is None else validate.positive_int(classes, "classes")
    if labels.min() < 0 or labels.max() >= K or K < 2:
        raise ValueError(f"{name} must hold labels 0 … {K - 1} with at least 2 classes; got labels from "
                         f"{labels.min()} to {labels.max()}")
    return labels.astype(np.int64), K


def _problem(Z, y, classes) -> tuple[np.ndarray, np.ndarray, int]:
    Z = validate.real_array(Z, "Z")
    if Z.ndim != 3 or 0 in Z.shape:
        raise ValueError(f"Z must have shape (n, P, m), the features of each image's patches; got {Z.shape}")
    return Z, *class_labels(y, Z.shape[0], classes)


def logits(A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """H(x_i)_k = Σ_{p,j} Z_ipj A_jpk for every image: (n, K) (one matrix product, Z as n × (P·m))."""
    n, P, m = Z.shape
    return Z.reshape(n, P * m) @ A.transpose(1, 0, 2).reshape(P * m, A.shape[2])


def _loss_of_logits(H: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """From the logits H (n, K): H less its row maxima, the rows' log-partition functions, and L."""
    H = H - H.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(H).sum(axis=1))
    return H, log_norm, float(np.mean(log_norm - H[np.arange(len(y)), y]))


def _loss_and_gradient_of_logits(H: np.ndarray, Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    shifted, log_norm, loss = _loss_of_logits(H, y)
    n = len(y)
    residual = np.exp(shifted - log_norm[:, None])
    residual[np.arange(n), y] -= 1.0
    P, m = Z.shape[1], Z.shape[2]
    gradient = (Z.reshape(n, P * m).T @ residual).reshape(P, m, -1).transpose(1, 0, 2) / n
    return loss, np.ascontiguousarray(gradient)


def loss_and_gradient(A: np.ndarray, Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    r"""L(A) and :math:`\nabla L(A) = \frac1n \sum_i Z_i^\top \otimes (\operatorname{softmax}(H_i) - e_{y_i})`."""
    return _loss_and_gradient_of_logits(logits(A, Z), Z, y)


def project_nuclear_ball(A, radius: float) -> np.ndarray:
    r"""The Euclidean projection of A (m, P, K) onto :math:`\{\|A\|_* \le R\}`: the singular values of A as an
    m × (P·K) matrix projected onto :math:`\{s \ge 0, \sum s \le R\}` (shrunk by the θ with
    :math:`\sum \max(s - θ, 0) = R` when they sum to more), the singular vectors kept."""
    radius = validate.positive_scalar(radius, "radius")
    A = np.asarray(A, dtype=float)
    U, s, Vt = np.linalg.svd(_flat(A), full_matrices=False)
    if s.sum() <= radius:
        return A.copy()
    ordered = np.sort(s)[::-1]
    cumulative = np.cumsum(ordered) - radius
    index = np.arange(1, len(s) + 1)
    rho = np.flatnonzero(ordered - cumulative / index > 0)[-1]
    theta = cumulative[rho] / (rho + 1)
    shrunk = np.maximum(s - theta, 0.0)
    return ((U * shrunk) @ Vt).reshape(A.shape)


def nuclear_gap(A: np.ndarray, gradient: np.ndarray, radius: float) -> float:
    """The Frank–Wolfe gap ⟨∇L(A), A⟩ + R σ_max(∇L(A)) (module notes): an upper bound on L(A) − L* for A in the ball."""
    return float(np.sum(gradient * A) + radius * np.linalg.norm(_flat(gradient), 2))


@one_blas_thread
def fit_projected_gradient(Z, y, radius: float, classes: int | None = None, A0=None, tol: float = 1e-7,
                           max_iterations: int = 10_000, batch_size: int | None = None, lr: float | None = None,
                           epochs: int = 20, check_every: int = 10, rng=None) -> ConvexFit:
    r"""Minimise L over the nuclear-norm ball by projected gradient.

    Parameters
    ----------
    Z : array_like (n, P, m)
        The images' patch features.
    y : array_like of int (n,)
        Class labels 0 … K − 1.
    radius : float
        R > 0, the nuclear-norm bound.
    classes : int, optional
        K (default: the largest label + 1).
    A0 : array_like (m, P, K), optional
        The start (projected onto the ball); zero by default. Any start reaches the same L*.
    tol : float
        Stop when the duality gap g(A) ≤ tol · (1 + L(A)) (full batch).
    max_iterations : int
        Full batch: the most gradient steps.
    batch_size : int, optional
        None: full-batch accelerated projected gradient (FISTA with backtracking and adaptive restart), run until
        the gap meets ``tol``. An integer: the paper's projected stochastic gradient with mini-batches of this size,
        step lr/√t, ``epochs`` passes, returning the average of the iterates (in the ball, the ball being convex);
        its gap is reported, not enforced.
    lr : float, optional
        The stochastic step's scale (default 1/(max_i ‖Z_i‖_F²)).
    check_every : int
        Full batch: compute the gap every this many steps (one more gradient and a top singular value).
    rng : seed or Generator
        The mini-batches' order.
    """
    Z, y, K = _problem(Z, y, classes)
    radius = validate.positive_scalar(radius, "radius")
    tol = validate.nonnegative_scalar(tol, "tol")
    max_iterations = validate.positive_int(max_iterations, "max_iterations")
    check_every = validate.positive_int(check_every, "check_every")
    shape = (Z.shape[2], Z.shape[1], K)
    if A0 is None:
        A = np.zeros(shape)
    else:
        A = validate.real_array(A0, "A0")
        if A.shape != shape:
            raise ValueError(f"A0 must have shape {shape} (m, P, K); got {A.shape}")
        A = project_nuclear_ball(A, radius)
    if batch_size is not None:
        return _stochastic(Z, y, radius, A, validate.positive_int(batch_size, "batch_size"),
                           validate.positive_int(epochs, "epochs"), lr, validate.rng(rng))
    return _accelerated(Z, y, radius, A, tol, max_iterations, check_every)


def _accelerated(Z, y, radius, A, tol, max_iterations, check_every) -> ConvexFit:
    # The logits are linear in A, so those of the momentum point c + β(c − A) are (1 + β)H(c) − βH(A) from the two
    # products already made: one product with Z per step fewer (H(A) is always a fresh product, so nothing drifts).
    lipschitz = 1.0
    momentum_point, t = A.copy(), 1.0
    logits_A = logits(A, Z)
    loss_A = _loss_of_logits(logits_A, y)[2]
    logits_momentum = logits_A
    for iteration in range(1, max_iterations + 1):
        loss_y, gradient_y = _loss_and_gradient_of_logits(logits_momentum, Z, y)
        while True:
            candidate = project_nuclear_ball(momentum_point - gradient_y / lipschitz, radius)
            step = candidate - momentum_point
            logits_c = logits(candidate, Z)
            loss_c = _loss_of_logits(logits_c, y)[2]  # its gradient only where a gap is checked
            if loss_c <= loss_y + np.sum(gradient_y * step) + 0.5 * lipschitz * np.sum(step * step) + 1e-15 * abs(loss_y):
                break
            lipschitz *= 2.0
        if loss_c > loss_A:  # adaptive restart: drop the momentum and step from the last iterate
            momentum_point, logits_momentum, t = A.copy(), logits_A, 1.0
            continue
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        momentum_point = candidate + beta * (candidate - A)
        logits_momentum = (1.0 + beta) * logits_c - beta * logits_A
        A, logits_A, loss_A, t = candidate, logits_c, loss_c, t_next
        lipschitz *= 0.9  # let the step grow back where the curvature allows
        if iteration % check_every == 0:
            gap = nuclear_gap(A, _loss_and_gradient_of_logits(logits_A, Z, y)[1], radius)
            if gap <= tol * (1.0 + loss_A):
                return ConvexFit(A, loss_A, gap, iteration, True, "accelerated projected gradient")
    gap = nuclear_gap(A, _loss_and_gradient_of_logits(logits_A, Z, y)[1], radius)
    return ConvexFit(A, loss_A, gap, max_iterations, gap <= tol * (1.0 + loss_A), "accelerated projected gradient")


def _stochastic(Z, y, radius, A, batch_size, epochs, lr, rng) -> ConvexFit:
    n = len(y)
    if lr is None:
        lr = 1.0 / float(np.max(np.sum(Z * Z, axis=(1, 2))))
    else:
        lr = validate.positive_scalar(lr, "lr")
    average, step = np.zeros_like(A), 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, gradient = loss_and_gradient(A, Z[batch], y[batch])
            step += 1
            A = project_nuclear_ball(A - (lr / np.sqrt(step)) * gradient, radius)
            average += (A - average) / step
    loss, gradient = loss_and_gradient(average, Z, y)
    return ConvexFit(average, loss, nuclear_gap(average, gradient, radius), step, False,
                     f"projected stochastic gradient (batches of {batch_size})")


def fit_cvxpy(Z, y, radius: float, classes: int | None = None, solver: str = "CLARABEL") -> ConvexFit:
    """The same problem modelled in cvxpy (an exponential-cone and semidefinite program: for small instances); the
    returned gap is :func:`nuclear_gap` at the solver's answer, computed here, not the solver's own."""
    import cvxpy as cp

    Z, y, K = _problem(Z, y, classes)
    radius = validate.positive_scalar(radius, "radius")
    n, P, m = Z.shape
    A = cp.Variable((m, P * K))  # column k·P + p holds A[:, p, k]
    H = sum(Z[:, p, :] @ A[:, p::P] for p in range(P))
    objective = cp.sum(cp.log_sum_exp(H, axis=1)) / n - cp.sum(cp.multiply(np.eye(K)[y], H)) / n
    problem = cp.Problem(cp.Minimize(objective), [cp.normNuc(A) <= radius])
    try:
        problem.solve(solver=solver)
    except cp.error.SolverError as error:
        raise RuntimeError(f"cvxpy's {solver} failed on the CCNN problem: {error}") from None
    if problem.status not in ("optimal", "optimal_inaccurate") or A.value is None:
        raise RuntimeError(f"cvxpy's {solver} ended with status {problem.status!r} on the CCNN problem")
    solution = A.value.reshape(m, K, P).transpose(0, 2, 1)
    solution = project_nuclear_ball(solution, radius)  # the solver's answer may exceed R by its tolerance
    loss, gradient = loss_and_gradient(solution, Z, y)
    return ConvexFit(solution, loss, nuclear_gap(solution, gradient, radius), 0, problem.status == "optimal",
                     f"cvxpy ({solver})")
