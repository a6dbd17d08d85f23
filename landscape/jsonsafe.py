"""Strict JSON for results: every file the toolkit writes parses with any standard parser.

Python's ``json`` writes ``Infinity`` and ``NaN`` by default, which strict parsers reject. Here a
non-finite float is written as ``{"float": "inf"}``, ``{"float": "-inf"}`` or ``{"float": "nan"}`` and
read back as the float; numpy scalars and arrays become plain numbers and lists.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def encode(value: Any) -> Any:
    """``value`` with non-finite floats replaced by their tagged form and numpy types made plain."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number):
            return number
        return {"float": "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return encode(value.tolist())
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def decode(value: Any) -> Any:
    """The inverse of :func:`encode` (lists stay lists)."""
    if isinstance(value, dict):
        if len(value) == 1 and value.get("float") in _NON_FINITE:
            return _NON_FINITE[value["float"]]
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def dumps(value: Any, **kwargs) -> str:
    """Strict JSON text of ``value`` (``allow_nan=False`` after encoding)."""
    return json.dumps(encode(value), allow_nan=False, **kwargs)


def loads(text: str) -> Any:
    return decode(json.loads(text))
