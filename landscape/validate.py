"""Argument checks shared by every public function of the toolkit, and by scripts built on it (``proofs_check``).

Each function coerces to C-contiguous float64 (or the type asked for) and raises a ``ValueError`` that names the
argument and the expected shape or range. Nothing broadcasts.
"""

from __future__ import annotations

import numbers

import numpy as np


def _as_float_array(value, name: str) -> np.ndarray:
    try:
        kind = np.asarray(value).dtype.kind
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from None
    if kind == "c":
        raise ValueError(f"{name} must be real-valued; got a complex array")
    if kind in "bUSO" and not (kind == "O" and _all_real_numbers(value)):
        what = {"b": "booleans", "U": "strings", "S": "bytes", "O": "objects"}[kind]
        raise ValueError(f"{name} must be an array of real numbers; got {what}")
    try:
        array = np.array(value, dtype=np.float64, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from None
    return array


def _all_real_numbers(value) -> bool:
    flat = np.asarray(value, dtype=object).ravel()
    return all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in flat)


def _require_finite(array: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite; it holds {bad} NaN or inf value(s)")


def real_array(value, name: str) -> np.ndarray:
    """A finite float64 array of any shape (a copy)."""
    array = _as_float_array(value, name)
    _require_finite(array, name)
    return array


def matrix(value, name: str, shape: tuple[int | None, int | None] = (None, None)) -> np.ndarray:
    """A finite 2-D float64 array, optionally of a fixed number of rows and/or columns."""
    array = _as_float_array(value, name)
    expected = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape {expected}; got shape {array.shape}")
    for axis, size in enumerate(shape):
        if size is not None and array.shape[axis] != size:
            raise ValueError(f"{name} must have shape {expected}; got {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    _require_finite(array, name)
    return array


def vector(value, name: str, size: int) -> np.ndarray:
    """A finite 1-D float64 array of length ``size``."""
    array = _as_float_array(value, name)
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},); got {array.shape}")
    _require_finite(array, name)
    return array


def points(value, name: str, dim: int) -> tuple[np.ndarray, bool]:
    """Points as a finite (N, dim) array, and whether a single (dim,) point was given."""
    array = _as_float_array(value, name)
    if array.ndim == 1 and array.shape == (dim,):
        single = True
        array = array.reshape(1, dim)
    elif array.ndim == 2 and array.shape[1] == dim:
        single = False
    else:
        raise ValueError(
            f"{name} must have shape ({dim},) for one point or (N, {dim}) for a batch; "
            f"got {array.shape}"
        )
    _require_finite(array, name)
    return array, single


def point(value, name: str, dim: int) -> np.ndarray:
    """One finite point of shape (dim,)."""
    array, single = points(value, name, dim)
    if not single:
        raise ValueError(f"{name} must be one point of shape ({dim},); got shape {np.shape(value)}")
    return array[0]


def _real_scalar(value, shown: str, positive: bool) -> float:
    bound = "> 0" if positive else ">= 0"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{shown} must be a real number {bound}; got {value!r}")
    number = float(value)
    if not np.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{shown} must be a finite real number {bound}; got {value!r}")
    return number


def nonnegative_scalar(value, name: str) -> float:
    """A finite real number >= 0 (such as the slack tau)."""
    return _real_scalar(value, name, positive=False)


def positive_scalar(value, name: str, label: str | None = None) -> float:
    """A finite real number > 0 (a step size, a penalty); ``label`` names it in the message (default ``name``)."""
    return _real_scalar(value, label or name, positive=True)


def positive_int(value, name: str) -> int:
    """An integer >= 1 (a width, a count)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value}")
    return int(value)


def frozen(array: np.ndarray) -> np.ndarray:
    """The same array, marked read-only."""
    array.setflags(write=False)
    return array


def rng(value, name: str = "rng") -> np.random.Generator:
    """``numpy.random.default_rng(value)`` for None, an integer >= 0, a SeedSequence or a Generator;
    anything else (a bool, a float, a negative integer, a string) raises a ValueError naming the argument."""
    if value is None or isinstance(value, (np.random.SeedSequence, np.random.Generator, np.random.BitGenerator)):
        return np.random.default_rng(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be None, an integer >= 0, a SeedSequence or a Generator; got {value!r}")
    return np.random.default_rng(int(value))


def boolean(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)
