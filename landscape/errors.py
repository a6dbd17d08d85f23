"""The errors of the exact geometry that callers catch by type: an empty pattern, a point on a boundary, too many
regions, exact descent out of moves, a branch and bound too large for its node limit."""

from __future__ import annotations


class EmptyRegionError(ValueError):
    """A pattern whose set of inputs has an empty interior: not a region."""


class BoundaryPointError(ValueError):
    """A point on the common boundary of several regions; ``regions`` lists every region touching it."""

    def __init__(self, message: str, regions: list):
        super().__init__(message)
        self.regions = regions


class TooManyRegionsError(RuntimeError):
    """An enumeration passed ``max_regions``; ``count`` regions had been found when it stopped. Where the regions
    were those around one point, ``neurons`` is how many neurons switch there (up to 2^neurons regions meet)."""

    def __init__(self, message: str, count: int, neurons: int | None = None):
        super().__init__(message)
        self.count = count
        self.neurons = neurons


class PolishingLimitError(ValueError):
    """Exact descent (:func:`~landscape.polish_to_local_minimum`) reached its ``max_moves`` without a certified local
    minimum."""


class SearchTooLargeError(ValueError):
    """A branch and bound refused before it began: its estimated number of sub-boxes, ``estimate``, exceeds its node
    limit ``max_nodes`` (:func:`~landscape.branch_and_bound.search.estimated_boxes`)."""

    def __init__(self, message: str, estimate: float, max_nodes: int):
        super().__init__(message)
        self.estimate = estimate
        self.max_nodes = max_nodes
