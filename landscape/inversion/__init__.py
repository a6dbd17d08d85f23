r"""Competing inversion methods behind one interface, for :mod:`proofs_check.inversion` to score against the
exact global minimiser.

Every method takes a network (a :class:`~landscape.NetworkFlow` for surfing), targets Y (n,) or (B, n), an
optional measurement matrix A, a budget of gradient evaluations (or their equivalent, stated per method) and
an ``rng``, and returns an :class:`InversionResult`. Imported on demand: ``import landscape.inversion``.
"""

from ._result import InversionResult
from .admm import admm
from .descent import csgm, regular_adam, surfing
from .layerwise import layerwise_lp
from .negation import negation_check

METHODS = {"regular_adam": regular_adam, "surfing": surfing, "csgm": csgm, "negation_check": negation_check,
           "admm": admm, "layerwise_lp": layerwise_lp}
"""Every method by name: ``METHODS[name](net_or_flow, Y, A=None, budget=..., rng=...)``."""

__all__ = ["InversionResult", "METHODS", "admm", "csgm", "layerwise_lp", "negation_check", "regular_adam", "surfing"]
