r"""Boxes :math:`\{x : lo \le x \le hi\}` that bound the exact geometry: validation, and a point inside one."""

from __future__ import annotations

import numpy as np

from . import validate

MIN_BOX_WIDTH = 1e-9
"""A box narrower than this (relative) has no interior the solvers can resolve: refused."""


def as_box(bounds, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Validate ``bounds = (lo, hi)``: scalars (the same for every coordinate) or arrays of shape (k,)."""
    if bounds is None:
        return None
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise ValueError(f"bounds must be a pair (lo, hi) or None; got {bounds!r}")
    lo, hi = (validate.vector(np.full(k, b) if np.ndim(b) == 0 else b, name, k)
              for b, name in zip(bounds, ("bounds[0] (lo)", "bounds[1] (hi)")))
    if np.any(hi - lo <= MIN_BOX_WIDTH * (1 + np.maximum(np.abs(lo), np.abs(hi)))):
        raise ValueError(f"bounds must satisfy lo < hi in every coordinate, by more than {MIN_BOX_WIDTH:g}·(1 + |bound|) "
                         f"(a box with an interior); got lo={lo}, hi={hi}")
    return validate.frozen(lo), validate.frozen(hi)


def inside_box(x: np.ndarray, bounds, k: int):
    """The validated box; x may sit on its faces up to rounding (a QP solution on a face often does)."""
    box = as_box(bounds, k)
    if box is not None:
        slack = 1e-9 * (1.0 + np.maximum(np.abs(box[0]), np.abs(box[1])))
        if not (np.all(x >= box[0] - slack) and np.all(x <= box[1] + slack)):
            raise ValueError(f"x = {x} lies outside bounds lo={box[0]}, hi={box[1]}")
    return box
