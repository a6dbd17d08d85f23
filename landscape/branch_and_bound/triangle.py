r"""The triangle (Planet) relaxation of f over a sub-box: the tightest convex relaxation of each ReLU on its own.

With pre-activation bounds :math:`l \le z \le u` of every neuron over the box :math:`[lo, hi]` (from
:func:`~landscape.branch_and_bound.bounds.linear_bounds`), each unstable ReLU :math:`h = \sigma(z)`, :math:`l < 0 < u`,
is replaced by its convex hull on :math:`[l, u]`,

.. math:: h \ge 0, \qquad h \ge z, \qquad h \le \tfrac{u}{u - l}(z - l),

and every stable one is exact (:math:`h = z` or :math:`h = 0`). Unlike the linear bounds of the output, which bound
each pixel of G separately, the relaxation keeps every layer's neurons as variables shared by all pixels, so

.. math:: \min \{\tfrac12\|A(V h_d + c - y)\|^2 : x \in [lo, hi],\ (x, h_1, \dots, h_d) \text{ in the relaxation}\}

is a lower bound on f over the box that is at least as tight as the relaxed QP of the linear bounds with the same
neuron bounds. The variables are x and the unstable neurons' outputs t (stable neurons are affine in them), so
the QP has :math:`k + (\text{unstable neurons})` variables; DAQP solves it, and the value returned is a weak-duality
bound at DAQP's multipliers, valid whatever the solver's accuracy: for any λ and any μ ≥ 0 of the rows
:math:`C v \le d` (the two sloped sides of each hull),

.. math:: \tfrac12\|r(v)\|^2 \ge \lambda^\top r(v) - \tfrac12\|\lambda\|^2
          \ge \lambda^\top r(v) - \tfrac12\|\lambda\|^2 + \mu^\top (C v - d),

an affine function of v minimised over the box of v (x in [lo, hi], each t in [0, u]) in closed form; λ = r(v*)
at DAQP's solution v*.

A search solves this QP on nested boxes: DAQP starts from the working set of an enclosing box's QP
(:class:`WorkingSet`, mapped neuron by neuron), which on the benchmark's k = 3 generator cuts its active-set
iterations from about 600 to about 15 where the parent's QP was solved.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..network import ReLUNet
from .bounds import NetworkBounds

DAQP_INFINITY = 1e30
"""DAQP ignores a constraint side at or beyond this magnitude."""
ACTIVE_UPPER, ACTIVE_LOWER = 1, 3
"""DAQP's ``sense`` codes of a constraint in the working set at its upper and at its lower side."""
PROXIMAL_TOLERANCE = 1e-12
"""DAQP's stopping tolerance of the proximal iterations it runs on the QP's singular Hessian (``eta_prox``; its
automatic choice stopped a one-neuron relaxation 6e-5 below the optimum, and the bound with it); on the benchmark's
k = 3 searches it costs no measurable time."""
UNSTABLE_LIMIT = 200
"""Above this many unstable neurons the relaxation is not tried (its QP grows with them, and on the benchmark's
generators it is no tighter than zero there)."""


class WorkingSet(NamedTuple):
    """The constraints active at a triangle QP's solution, by neuron, to warm-start the QP of a sub-box: DAQP's
    ``sense`` codes (0 inactive, 1 at the upper side, 3 at the lower side).

    Attributes
    ----------
    box : ndarray (k,) of int8
        Each coordinate of x at its bound or not.
    neurons : tuple of ndarray (width, 3) of int8
        Per hidden layer and neuron: its output t within [0, u], the side t ≥ z and the side t ≤ u(z − l)/(u − l)
        (zeros for a neuron stable on the box).
    """

    box: np.ndarray
    neurons: tuple[np.ndarray, ...]


class TriangleBound(NamedTuple):
    """A certified lower bound on f over a box from the triangle relaxation, the relaxation's minimiser x and the
    working set that solved it."""

    value: float
    x: np.ndarray
    working_set: WorkingSet


def _affine_relaxation(net: ReLUNet, bounds: NetworkBounds, k: int):
    r"""The relaxation in the variables v = (x, t): G's affine image :math:`g = M v + m_0`, the rows
    :math:`lower \le C v \le upper` of the hulls' sloped sides, the upper ends of the t's, and each layer's mask of
    unstable neurons (the t's and the rows follow the layers and, within one, the neurons' order)."""
    unstable = [(l < 0) & (u > 0) for l, u in zip(bounds.lower, bounds.upper)]
    size = k + int(sum(mask.sum() for mask in unstable))
    P, p = np.eye(k, size), np.zeros(k)  # h_0 = x = P v + p
    rows, lower, upper, t_upper = [], [], [], []
    offset = k
    biases = net.effective_biases
    for layer, bias, l, u, mask in zip(net.layers, biases, bounds.lower, bounds.upper, unstable):
        image = layer.linear(np.vstack([P.T, p[None, :]]))  # z = Z v + z0, one product for both
        Z, z0 = image[:size].T, image[size] + bias
        count = int(mask.sum())
        index = offset + np.arange(count)
        slope = u[mask] / (u[mask] - l[mask])
        hull = np.zeros((2 * count, size))
        hull[:count] = -Z[mask]  # t − z ≥ 0
        hull[np.arange(count), index] += 1.0
        hull[count:] = -slope[:, None] * Z[mask]  # t − s z ≤ −s l
        hull[count + np.arange(count), index] += 1.0
        rows.append(hull)
        lower.append(np.concatenate([z0[mask], np.full(count, -DAQP_INFINITY)]))
        upper.append(np.concatenate([np.full(count, DAQP_INFINITY), slope * (z0[mask] - l[mask])]))
        t_upper.append(u[mask])
        active = l >= 0
        P = np.where(active[:, None], Z, 0.0)
        p = np.where(active, z0, 0.0)
        P[np.flatnonzero(mask), index] = 1.0
        offset += count
    readout = net.readout_layer
    M = P if readout is None else readout.linear(P.T).T
    m0 = p if readout is None else readout.linear(p[None, :])[0]
    if net.readout_bias is not None:
        m0 = m0 + net.readout_bias
    return (M, m0, np.vstack(rows), np.concatenate(lower), np.concatenate(upper), np.concatenate(t_upper),
            unstable)


def _layer_slices(unstable: list[np.ndarray], k: int):
    """Per layer: the neurons that are unstable, and where their t's and their two rows sit among the
    constraints (simple bounds of v first, then the rows)."""
    size = k + int(sum(mask.sum() for mask in unstable))
    t_start, row_start = k, size
    for mask in unstable:
        neurons = np.flatnonzero(mask)
        count = len(neurons)
        yield neurons, t_start + np.arange(count), row_start + np.arange(count), row_start + count + np.arange(count)
        t_start += count
        row_start += 2 * count


def _sense(working_set: WorkingSet, unstable: list[np.ndarray], k: int) -> np.ndarray:
    """DAQP's starting working set for a sub-box's QP from a working set of an enclosing box's QP (neurons
    unstable here but stable there start inactive)."""
    size = k + int(sum(mask.sum() for mask in unstable))
    sense = np.zeros(3 * size - 2 * k, dtype=np.int32)
    sense[:k] = working_set.box
    for states, (neurons, t, row_low, row_high) in zip(working_set.neurons, _layer_slices(unstable, k)):
        sense[t], sense[row_low], sense[row_high] = states[neurons].T
    return sense


def _working_set(multipliers: np.ndarray, unstable: list[np.ndarray], k: int) -> WorkingSet:
    """The constraints active at DAQP's solution (a nonzero multiplier; its sign tells the side), by neuron."""
    states = np.where(multipliers > 0, ACTIVE_UPPER, np.where(multipliers < 0, ACTIVE_LOWER, 0)).astype(np.int8)
    neurons = []
    for mask, (index, t, row_low, row_high) in zip(unstable, _layer_slices(unstable, k)):
        layer = np.zeros((len(mask), 3), dtype=np.int8)
        layer[index] = np.stack([states[t], states[row_low], states[row_high]], axis=1)
        neurons.append(layer)
    return WorkingSet(states[:k].copy(), tuple(neurons))


def triangle_bound(net: ReLUNet, bounds: NetworkBounds, y: np.ndarray, A: np.ndarray | None, lo: np.ndarray,
                   hi: np.ndarray, warm_start: WorkingSet | None = None) -> TriangleBound | None:
    r"""A certified lower bound on f over the box [lo, hi] from the triangle relaxation of G (module docstring), the
    x of the relaxation's minimiser and the working set that solved it; None where DAQP fails (the caller keeps its
    other bound).

    Parameters
    ----------
    net : ReLUNet
    bounds : NetworkBounds
        Pre-activation bounds of every neuron over the box (as :func:`linear_bounds` gives them).
    y : ndarray (n,)
    A : ndarray (m, n) or None
        The measurements (None: the identity).
    lo, hi : ndarray (k,)
    warm_start : WorkingSet, optional
        The working set of an enclosing box's relaxation (its parent in a search): DAQP starts from it, and from
        scratch where that fails. The bound is valid either way (weak duality); the start only saves iterations.
    """
    import daqp

    k = len(lo)
    M, m0, C, lower, upper, t_upper, unstable = _affine_relaxation(net, bounds, k)
    AM = M if A is None else A @ M
    shift = m0 - y if A is None else A @ (m0 - y)
    H = AM.T @ AM
    q = AM.T @ shift
    v_lo = np.concatenate([lo, np.zeros(len(t_upper))])
    v_hi = np.concatenate([hi, t_upper])
    problem = (H, q, C, np.concatenate([v_hi, upper]), np.concatenate([v_lo, lower]))
    flag = None
    if warm_start is not None:
        v, _, flag, info = daqp.solve(*problem, _sense(warm_start, unstable, k), eta_prox=PROXIMAL_TOLERANCE)
    if flag not in (1, 2):
        v, _, flag, info = daqp.solve(*problem, eta_prox=PROXIMAL_TOLERANCE)
    v = np.asarray(v)
    if flag not in (1, 2) or not np.all(np.isfinite(v)):
        return None
    v = np.clip(v, v_lo, v_hi)
    multiplier = AM @ v + shift  # λ = r(v*)
    multipliers = np.asarray(info["lam"])
    duals = multipliers[len(v):]  # the rows' multipliers; their sign picks the side that binds
    over, under = np.maximum(duals, 0.0), np.maximum(-duals, 0.0)
    over[upper >= DAQP_INFINITY], under[lower <= -DAQP_INFINITY] = 0.0, 0.0
    c = AM.T @ multiplier + C.T @ (over - under)
    constant = (float(multiplier @ shift) - 0.5 * float(multiplier @ multiplier)
                - float(over @ np.where(over > 0, upper, 0.0)) + float(under @ np.where(under > 0, lower, 0.0)))
    bound = constant + float(np.sum(np.minimum(c * v_lo, c * v_hi)))
    return TriangleBound(max(bound, 0.0), v[:k], _working_set(multipliers, unstable, k))


__all__ = ["PROXIMAL_TOLERANCE", "UNSTABLE_LIMIT", "TriangleBound", "WorkingSet", "triangle_bound"]
