"""landscape: exact and Monte Carlo verification of the theory of inverting trained ReLU networks.

The specification is Song, Fan & Lafferty, *Surfing: Iterative Optimization Over
Incrementally Trained Deep Networks* (NeurIPS 2019); notation follows its §3.
"""

from . import datasets
from .activation import (
    ActivationPattern,
    ActivationPatterns,
    activation_pattern,
    affine_map,
    local_affine,
    near_zero_mask,
    near_zero_set,
    on_switching_hyperplanes,
    preactivation_maps,
    preactivations,
    rounding_slack,
)
from .branch_and_bound import CertifiedMinimum, branch_and_bound, estimated_boxes
from .critical import GlobalMinimum, LocalMinimum, global_minimizer, local_minima
from .enumeration import RegionSet, enumerate_regions
from .errors import (BoundaryPointError, EmptyRegionError, PolishingLimitError, SearchTooLargeError,
                     TooManyRegionsError)
from .exact_path import MinimizerPath, minimizer_path
from .flows import NetworkFlow
from .importing import from_state_dict
from .network import ReLUNet
from .objective import Objective, gaussian_measurements
from .piece_search import pieces, region_of
from .polish import PolishedMinimum, is_local_minimum, polish_to_local_minimum
from .projected_surfing import ProjectedSurfResult, projected_surf
from .qp import QPSolution, QPSolveError, minimize_on_region, polytope_qp
from .region import Region
from .slices import SegmentProfile, Slice, minima_on_slice, plane_at, plane_through, segment
from .surfing import SurfResult, budget_schedule, regular_descent, surf

__all__ = [
    "ActivationPattern",
    "ActivationPatterns",
    "BoundaryPointError",
    "CertifiedMinimum",
    "EmptyRegionError",
    "GlobalMinimum",
    "LocalMinimum",
    "MinimizerPath",
    "NetworkFlow",
    "Objective",
    "PolishedMinimum",
    "PolishingLimitError",
    "ProjectedSurfResult",
    "QPSolution",
    "QPSolveError",
    "ReLUNet",
    "Region",
    "RegionSet",
    "SearchTooLargeError",
    "SegmentProfile",
    "Slice",
    "SurfResult",
    "TooManyRegionsError",
    "activation_pattern",
    "affine_map",
    "branch_and_bound",
    "budget_schedule",
    "datasets",
    "enumerate_regions",
    "estimated_boxes",
    "from_state_dict",
    "gaussian_measurements",
    "global_minimizer",
    "is_local_minimum",
    "local_minima",
    "local_affine",
    "minima_on_slice",
    "minimize_on_region",
    "minimizer_path",
    "near_zero_mask",
    "near_zero_set",
    "on_switching_hyperplanes",
    "preactivation_maps",
    "pieces",
    "plane_at",
    "plane_through",
    "polish_to_local_minimum",
    "polytope_qp",
    "preactivations",
    "projected_surf",
    "rounding_slack",
    "region_of",
    "regular_descent",
    "segment",
    "surf",
]

__version__ = "0.5.0"
