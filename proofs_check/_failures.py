r"""Why an inversion failed, decided exactly: every failed run's end point polished to a certified local minimum.

A run fails when :math:`\|\hat x_T - x_*\| \ge` radius. Its end point :math:`\hat x` is polished
(:func:`landscape.polish_to_local_minimum`: exact descent over the linear pieces to a point that minimises f over
every region around it) and the run is put in one class:

- ``stopped_short`` (a): polishing reaches x* — the run ended in x*'s basin and its stopping rule cut it short;
- ``other_global_minimum`` (a′): polishing reaches another point where f is as low as at x* (up to
  :data:`GLOBAL_RTOL`), farther than the radius from x*: x* is not identifiable from these measurements (with
  m < k, say), and no descent could tell the two apart;
- ``spurious_minimum`` (b): a certified local minimum with :math:`f > f(x_*)`, at distance r from x*;
- ``wandered`` (c), surfing only: as (b), and the iterate :math:`x_{T-1}` that surfing carried onto
  :math:`\theta_T` already polishes, on :math:`f_{\theta_T}`, to a minimum other than x*: the path had left x*'s
  basin before the last snapshot (on the final network, not in the basin of x* under exact descent);
- ``uncertified`` (d): polishing gave up (more than ``max_pieces`` regions meet at a point on the way, or
  ``max_moves`` moves, or a QP whose answer could not be certified); the reason is recorded.

"Basin" here is the basin of exact descent: the points from which polishing ends at x*.
"""

from __future__ import annotations

import numpy as np

import landscape as L

CLASSES = ("stopped_short", "other_global_minimum", "spurious_minimum", "wandered", "uncertified")
"""Every class a failed run can get, in the order the reports list them."""

POLISH_LIMITS = {"max_pieces": 128, "max_moves": 200}
"""Polishing gives up on a point where more than 128 regions meet (up to 2^m do where m neurons switch, and
at k = 20 spurious minima sit on such kinks) or after 200 moves; such points are counted as uncertified."""

GLOBAL_RTOL = 1e-9
r"""A polished minimum counts as a global one when :math:`f \le f(x_*) + 10^{-9}\,(1 + f(\hat x))`: far above the
rounding of the certified QPs, far below any spurious minimum seen (f ≥ 1e-4 on every trained flow)."""


def polish(objective: L.Objective, x: np.ndarray) -> tuple[L.PolishedMinimum | None, str | None]:
    """:func:`landscape.polish_to_local_minimum` within :data:`POLISH_LIMITS`: the certified minimum, or None
    and the reason polishing gave up."""
    try:
        return L.polish_to_local_minimum(objective, x, **POLISH_LIMITS), None
    except L.TooManyRegionsError as error:
        return None, (f"more than {POLISH_LIMITS['max_pieces']} regions meet at a point on the way"
                      + ("" if error.neurons is None else f" ({error.neurons} neurons switch there)"))
    except L.PolishingLimitError:
        return None, f"no local minimum within {POLISH_LIMITS['max_moves']} moves"
    except RuntimeError as error:  # a QP or LP whose answer could not be certified
        return None, f"{type(error).__name__}: {error}"
    except ValueError as error:
        if "no region with an interior" in str(error):
            return None, str(error)
        raise


def _where(objective: L.Objective, x: np.ndarray, x_star: np.ndarray, f_star: float, radius: float
           ) -> tuple[str, L.PolishedMinimum | None, str | None]:
    """Where exact descent from x ends: ``"x_star"``, ``"other_global"``, ``"spurious"`` or ``"uncertified"``."""
    found, reason = polish(objective, x)
    if found is None:
        return "uncertified", None, reason
    if np.linalg.norm(found.x - x_star) < radius:
        return "x_star", found, None
    if found.value <= f_star + GLOBAL_RTOL * (1.0 + found.start_value):
        return "other_global", found, None
    return "spurious", found, None


def classify(objective: L.Objective, x_end, x_star, radius: float, iterates=None) -> dict:
    """The record of :func:`classified` alone."""
    return classified(objective, x_end, x_star, radius, iterates)[0]


def classified(objective: L.Objective, x_end, x_star, radius: float, iterates=None
               ) -> tuple[dict, L.PolishedMinimum | None]:
    r"""The class of one failed run (see the module notes) and the numbers behind it.

    Parameters
    ----------
    objective : Objective
        :math:`f_{\theta_T}` of the run.
    x_end, x_star : array_like (k,)
        Where the run ended, and the truth.
    radius : float
        The success radius (0.01).
    iterates : array_like (T + 1, k), optional
        Surfing's points :math:`x_0, \ldots, x_T` after each snapshot: then a spurious end is tested for
        ``wandered``, and the record gains ``distance_before_last`` (:math:`\|x_{T-1} - x_*\|`),
        ``before_last_polishes_to`` (where exact descent on :math:`f_{\theta_T}` from :math:`x_{T-1}` ends) and
        ``largest_norm`` (:math:`\max_t \|x_t\|`).

    Returns
    -------
    dict
        ``class``; ``f_end`` (f at the end point); ``end_distance``; and, where polishing certified a minimum,
        ``f`` (its value), ``distance`` (to x*) and ``moved`` (from the end point); ``reason`` where it did not.
    PolishedMinimum or None
        The certified minimum the end point polishes to (None where polishing gave up).
    """
    x_end, x_star = np.asarray(x_end, dtype=float), np.asarray(x_star, dtype=float)
    f_star = float(objective.value(x_star))
    where, found, reason = _where(objective, x_end, x_star, f_star, radius)
    record = {"f_end": float(objective.value(x_end)), "end_distance": float(np.linalg.norm(x_end - x_star))}
    if found is not None:
        record |= {"f": float(found.value), "distance": float(np.linalg.norm(found.x - x_star)),
                   "moved": float(found.distance)}
    if iterates is not None:
        iterates = np.asarray(iterates, dtype=float)
        record |= {"distance_before_last": float(np.linalg.norm(iterates[-2] - x_star)),
                   "largest_norm": float(np.linalg.norm(iterates, axis=1).max())}
    if where == "uncertified":
        return {"class": "uncertified", "reason": reason} | record, found
    if where == "x_star":
        return {"class": "stopped_short"} | record, found
    if where == "other_global":
        return {"class": "other_global_minimum"} | record, found
    if iterates is None:
        return {"class": "spurious_minimum"} | record, found
    before, _, before_reason = _where(objective, iterates[-2], x_star, f_star, radius)
    record["before_last_polishes_to"] = before
    if before_reason is not None:
        record["before_last_reason"] = before_reason
    return {"class": "wandered" if before in ("spurious", "other_global") else "spurious_minimum"} | record, found


def stop_reasons(result: L.SurfResult, max_steps: int) -> list[str]:
    """Which rule ended each run on its last network: ``"gradient"`` (‖∇f‖ ≤ tol), ``"stall"`` (the stall rule)
    or ``"cap"`` (``max_steps`` steps)."""
    reasons = np.where(result.converged, "gradient", np.where(result.stalled, "stall", "cap"))
    capped = result.steps[-1] >= max_steps
    if np.any((reasons == "cap") & ~capped):
        raise RuntimeError("a run ended with neither rule met before max_steps; the descent loop is inconsistent")
    return reasons.tolist()


def smallest_singular_values(net: L.ReLUNet, X, A=None) -> np.ndarray:
    r""":math:`\sigma_{\min}(A J(x))` over all k directions, for every row x of X, J the Jacobian of G on x's piece:
    how well the measurements identify x locally (0: a direction along which A G does not change to first order,
    always the case with fewer measurements than latents)."""
    J, _ = L.local_affine(net, np.atleast_2d(X))
    if A is not None:
        J = np.asarray(A, dtype=float) @ J
    if J.shape[1] < J.shape[2]:  # fewer measurements than latents: a null direction, σ_min = 0
        return np.zeros(len(J))
    return np.linalg.svd(J, compute_uv=False)[:, -1]


def tally(classified: list[dict]) -> dict:
    """Counts per class (every class listed, zeros included)."""
    return {name: sum(c["class"] == name for c in classified) for name in CLASSES}
