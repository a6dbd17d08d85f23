"""The result every inversion method returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import validate
from ..network import ReLUNet
from ..objective import Objective


@dataclass(frozen=True)
class InversionResult:
    r"""B inversions by one method.

    Attributes
    ----------
    method : str
    x : ndarray (B, k)
        The final points :math:`\hat x`.
    value : ndarray (B,)
        :math:`f(\hat x) = \tfrac12\|A G(\hat x) - A y\|^2` on the final network.
    evaluations : ndarray of int (B,)
        Gradient evaluations spent (or the method's stated equivalent).
    converged : ndarray of bool (B,)
        Whether the method's own stopping rule was met within the budget.
    seconds : float
        Wall time of the whole batch.
    trace : dict
        Per-iteration records a method keeps (ADMM: primal and dual residuals).
    """

    method: str
    x: np.ndarray
    value: np.ndarray
    evaluations: np.ndarray
    converged: np.ndarray
    seconds: float
    trace: dict = field(default_factory=dict)


def targets(net: ReLUNet, y, A) -> tuple[np.ndarray, np.ndarray | None]:
    """Y as (B, n) and A validated against the network."""
    Y = np.atleast_2d(np.asarray(y, dtype=float))
    if Y.ndim != 2 or Y.shape[1] != net.output_dim:
        raise ValueError(f"y must have shape ({net.output_dim},) or (B, {net.output_dim}); got {np.shape(y)}")
    if not np.all(np.isfinite(Y)):
        raise ValueError("y must be finite; it holds NaN or inf")
    return Y, Objective(net, Y[0], A).A


def starts(k: int, B: int, x0, rng) -> np.ndarray:
    """Starting points: ``x0`` (one, or one per target), else uniform on :math:`[-1, 1]^k` from ``rng``."""
    if x0 is None:
        return validate.rng(rng).uniform(-1.0, 1.0, (B, k))
    X0, _ = validate.points(x0, "x0", k)
    if len(X0) == 1:
        X0 = np.repeat(X0, B, axis=0)
    if len(X0) != B:
        raise ValueError(f"x0 must hold one start or one per target ({B}); got {len(X0)}")
    return X0


def budget_of(budget) -> int:
    return validate.positive_int(budget, "budget")


def values(net: ReLUNet, Y: np.ndarray, A, X: np.ndarray) -> np.ndarray:
    return np.asarray(Objective(net, Y, A).value(X), dtype=float).reshape(len(X))
