"""The result every inversion method returns, and the input checks they share."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import validate
from ..activation import local_affine
from ..flows import NetworkFlow
from ..network import ReLUNet, checked_network
from ..objective import Objective

STOPS = ("converged", "stalled", "budget", "finished", "diverged")
"""Why a method stopped on a target: its own test of success met (``converged``), the stall rule (``stalled``), the
budget spent (``budget``), a direct method done without meeting its test (``finished``), or an iteration whose
iterate left every bounded set (``diverged``; the last iterate inside is returned)."""


@dataclass(frozen=True)
class InversionResult:
    r"""B inversions by one method; the same fields, with the same meaning, for every method.

    Attributes
    ----------
    method : str
        The method's name, its key in :data:`~landscape.inversion.METHODS`.
    x : ndarray (B, k), or (k,)
        The final points :math:`\hat x`. One target y of shape (n,) in, one point out (as :class:`~landscape.SurfResult`).
    value : ndarray (B,), or a float
        :math:`f(\hat x) = \tfrac12\|A G(\hat x) - A y\|^2` on the final network.
    cost : ndarray of int (B,), or an int
        What the method spent on each target, counted in ``unit``.
    unit : str
        What ``cost`` counts: ``"gradient evaluations"`` (every descent method, one per step), ``"ADMM iterations"``,
        ``"LPs"`` (the layer-wise inversion) or ``"QPs"`` (Algorithm 2).
    stop : ndarray of str (B,), or a str
        Why the method stopped on each target, one of :data:`STOPS`; each method's test of success is stated in its
        docstring.
    seconds : float
        Wall time of the whole batch.
    trace : dict
        Per-iteration records, each a list with one entry per iteration (ADMM: the mean primal and dual residuals).
    per_target : dict
        Per-target records, each an array with one entry per target (the negation check's negations, the
        layer-wise LP's misfit).
    setup : dict
        What the method spent once, before inverting any target (landscape learning: learning its map).
    """

    method: str
    x: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    unit: str
    stop: np.ndarray
    seconds: float
    trace: dict = field(default_factory=dict)
    per_target: dict = field(default_factory=dict)
    setup: dict = field(default_factory=dict)

    @property
    def converged(self) -> np.ndarray | bool:
        """Whether the method's own test of success was met (``stop == "converged"``)."""
        return self.stop == "converged"

    def one(self) -> InversionResult:
        """The result of a single target without its batch axis."""
        return replace(self, x=self.x[0], value=float(self.value[0]), cost=int(self.cost[0]), stop=str(self.stop[0]),
                       per_target={key: value[0] for key, value in self.per_target.items()})


def result(method: str, single: bool, X: np.ndarray, value: np.ndarray, cost, unit: str, stop: np.ndarray,
           seconds: float, trace: dict | None = None, per_target: dict | None = None,
           setup: dict | None = None) -> InversionResult:
    """An :class:`InversionResult` over the batch, without its batch axis when one target was given."""
    stop = np.asarray(stop, dtype=object).astype(str)
    unknown = set(stop.tolist()) - set(STOPS)
    if unknown:
        raise ValueError(f"{method}: stop reasons must be among {STOPS}; got {sorted(unknown)}")
    found = InversionResult(method, X, np.asarray(value, dtype=float).reshape(len(X)), np.asarray(cost, dtype=np.int64),
                            unit, stop, seconds, trace or {},
                            {key: np.asarray(v) for key, v in (per_target or {}).items()}, setup or {})
    return found.one() if single else found


def descent_stops(converged: np.ndarray, stalled: np.ndarray) -> np.ndarray:
    """The stop reasons of a descent run: ``converged`` (‖∇f‖ ≤ tol), ``stalled`` or ``budget``."""
    return np.where(converged, "converged", np.where(stalled, "stalled", "budget"))


def targets(net, y, A, name: str = "y") -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Y as a non-empty (B, n) array of finite real numbers, A validated against the network, and whether a single
    target (n,) was given. A :class:`~landscape.NetworkFlow` where a network belongs gets a message saying which."""
    if isinstance(net, NetworkFlow):
        raise ValueError("net must be a ReLUNet (this method inverts the final network); got a NetworkFlow: pass "
                         "flow[flow.T], or use a method of FLOW_METHODS")
    checked_network(net)
    Y, single = validate.points(y, name, net.output_dim)
    if len(Y) == 0:
        raise ValueError(f"{name} must hold at least one target, shape ({net.output_dim},) or (B, {net.output_dim}); "
                         f"got {np.shape(y)}")
    return Y, Objective(net, Y[0], A).A, single


def final_network(flow) -> ReLUNet:
    """The last snapshot of a flow, for the methods that take the whole flow; a network there gets a message."""
    if not isinstance(flow, NetworkFlow):
        raise ValueError(f"flow must be a NetworkFlow (this method runs over the snapshots θ_0 … θ_T); got "
                         f"{type(flow).__name__}")
    return flow[flow.T]


def starts(k: int, B: int, x0, rng, name: str = "x0") -> np.ndarray:
    """Starting points: ``x0`` (one, or one per target), else uniform on :math:`[-1, 1]^k` from ``rng``."""
    if x0 is None:
        return validate.rng(rng).uniform(-1.0, 1.0, (B, k))
    X0, _ = validate.points(x0, name, k)
    if len(X0) == 1:
        X0 = np.repeat(X0, B, axis=0)
    if len(X0) != B:
        raise ValueError(f"{name} must hold one start or one per target ({B}); got {len(X0)}")
    return X0


def curvatures(net: ReLUNet, X: np.ndarray, A=None) -> np.ndarray:
    r"""Per row x of X, :math:`\|A J(x)\|_2^2`: the largest curvature of f's quadratic piece at x (J from one batched
    pass; A None is the identity)."""
    J, _ = local_affine(net, X)
    return np.linalg.norm(J if A is None else A @ J, 2, axis=(1, 2)) ** 2


def inverse_step(curvature: float) -> float:
    """1 / curvature, or 1 where f is flat (curvature 0)."""
    return 1.0 / curvature if curvature > 0 else 1.0


def budget_of(budget) -> int:
    return validate.positive_int(budget, "budget")


def values(net: ReLUNet, Y: np.ndarray, A, X: np.ndarray) -> np.ndarray:
    return np.asarray(Objective(net, Y, A).value(X), dtype=float).reshape(len(X))
