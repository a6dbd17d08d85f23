r"""Competing inversion methods behind one interface, for :mod:`proofs_check.inversion` to score against the
exact global minimiser.

Every method takes a network (a :class:`~landscape.NetworkFlow` for the methods of :data:`FLOW_METHODS`), targets
y of shape (n,) or (B, n) and an optional measurement matrix A, and returns an :class:`InversionResult` whose
fields mean the same for every method:

================== ============================ ======================================= =========================
method             ``cost`` counts              ``converged`` when                       other stops
================== ============================ ======================================= =========================
regular_descent    gradient evaluations         :math:`\|\nabla f\| \le` tol              stalled, budget
surf               gradient evaluations         :math:`\|\nabla f_{\theta_T}\| \le` tol    stalled, budget
csgm               gradient evaluations (all    the kept restart's                      its stall or budget
                   restarts)                    :math:`\|\nabla f\| \le` tol
negation_check     gradient evaluations         :math:`\|\nabla f\| \le` tol              budget
admm               ADMM iterations              both residuals :math:`\le` tol(1 + ‖y‖)   budget
layerwise_lp       LPs (one per layer)          every layer inverted exactly            finished (a misfit)
projected_surf     QPs (one per piece)          always (every QP certified)             —
landscape_learning gradient evaluations of F    :math:`\|\nabla F\| \le` tol              budget
plugin             forward passes               :math:`\|M^\top A^\top r\| \le` tol        diverged, budget
pgd_gan            gradient evaluations (outer  :math:`\|\nabla f\| \le` tol              budget
                   steps and projections)
langevin           gradient evaluations         never (a sampler)                       budget
================== ============================ ======================================= =========================

The budgeted methods take ``budget`` (their cost's cap) and ``rng`` (for their starting points); the direct ones
(``layerwise_lp``, ``projected_surf``) take neither. Each method is named as the algorithm it runs:
``regular_descent``, ``surf`` and ``projected_surf`` are :func:`landscape.regular_descent`, :func:`landscape.surf` and
:func:`landscape.projected_surf` behind this interface. Imported on demand: ``import landscape.inversion``.
"""

from ._result import STOPS, InversionResult
from .admm import admm
from .descent import csgm, regular_descent, surf
from .landscape_learning import LearnedLandscape, invert_with_landscape, landscape_learning, learn_landscape
from .layerwise import layerwise_lp
from .langevin import langevin
from .negation import negation_check
from .pgd_gan import pgd_gan, range_projection
from .plugin import plugin
from .projected import projected_surf

METHODS = {"regular_descent": regular_descent, "surf": surf, "projected_surf": projected_surf, "csgm": csgm,
           "negation_check": negation_check, "admm": admm, "layerwise_lp": layerwise_lp,
           "landscape_learning": landscape_learning, "plugin": plugin, "pgd_gan": pgd_gan, "langevin": langevin}
"""Every method by name: ``METHODS[name](net_or_flow, y, A=None, ...)``."""

FLOW_METHODS = ("surf", "projected_surf")
"""The methods that take the whole flow θ_0 … θ_T; the others take the final network."""

BUDGETED = ("regular_descent", "surf", "csgm", "negation_check", "admm", "landscape_learning", "plugin", "pgd_gan",
            "langevin")
"""The methods that take a ``budget`` and an ``rng``."""

__all__ = ["BUDGETED", "FLOW_METHODS", "InversionResult", "LearnedLandscape", "METHODS", "STOPS", "admm", "csgm",
           "invert_with_landscape", "landscape_learning", "langevin", "layerwise_lp", "learn_landscape", "negation_check",
           "pgd_gan", "plugin", "projected_surf", "range_projection", "regular_descent", "surf"]
