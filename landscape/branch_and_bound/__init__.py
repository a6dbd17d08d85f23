r"""Certified global minimisers of the inversion objective without enumerating every linear region: branch and
bound over boxes with interval or linear-relaxation (CROWN) bounds on G, exact solves at the leaves.

:func:`branch_and_bound` is the search, :func:`estimated_boxes` what it would cost; :mod:`.bounds` bounds a
network over a box, :mod:`.relaxed` turns those bounds into lower bounds of f (:func:`tangent_bound`)."""

from .bounds import BOUNDS, NetworkBounds, interval_bounds, linear_bounds, lower_linear_bound, relaxation_bounds
from .relaxed import tangent_bound
from .search import CertifiedMinimum, branch_and_bound, estimated_boxes

__all__ = ["BOUNDS", "CertifiedMinimum", "NetworkBounds", "branch_and_bound", "estimated_boxes", "interval_bounds",
           "linear_bounds", "lower_linear_bound", "relaxation_bounds", "tangent_bound"]
