r"""Competing inversion methods behind one interface, for :mod:`proofs_check.inversion` to score against the
exact global minimiser.

Every method takes a network (a :class:`~landscape.NetworkFlow` for surfing), targets Y (n,) or (B, n), an
optional measurement matrix A, a budget of gradient evaluations (or their equivalent, stated per method) and
an ``rng``, and returns an :class:`InversionResult`. Imported on demand: ``import landscape.inversion``.
"""

from ._result import InversionResult
from .admm import admm
from .descent import csgm, regular_adam, surfing
from .landscape_learning import LearnedLandscape, invert_with_landscape, landscape_learning, learn_landscape
from .layerwise import layerwise_lp
from .negation import negation_check
from .projected import projected_surfing

METHODS = {"regular_adam": regular_adam, "surfing": surfing, "projected_surfing": projected_surfing, "csgm": csgm,
           "negation_check": negation_check, "admm": admm, "layerwise_lp": layerwise_lp,
           "landscape_learning": landscape_learning}
"""Every method by name: ``METHODS[name](net_or_flow, Y, A=None, budget=..., rng=...)``."""

FLOW_METHODS = ("surfing", "projected_surfing")
"""The methods that take the whole flow θ_0 … θ_T; the others take the final network."""

__all__ = ["FLOW_METHODS", "InversionResult", "LearnedLandscape", "METHODS", "admm", "csgm", "invert_with_landscape",
           "landscape_learning", "layerwise_lp", "learn_landscape", "negation_check", "projected_surfing",
           "regular_adam", "surfing"]
