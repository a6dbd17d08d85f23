"""landscape: exact and Monte Carlo verification of the theory of inverting trained ReLU networks.

The specification is Song, Fan & Lafferty, *Surfing: Iterative Optimization Over
Incrementally Trained Deep Networks* (NeurIPS 2019); notation follows its §3.
"""

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
)
from .critical import GlobalMinimum, LocalMinimum, PolishedMinimum, global_minimizer, local_minima, polish_to_local_minimum
from .flows import MinimizerPath, NetworkFlow
from .network import ReLUNet
from .objective import Objective, gaussian_measurements
from .qp import QPSolution, QPSolveError, minimize_on_region, polytope_qp
from .regions import (
    BoundaryPointError,
    EmptyRegionError,
    Region,
    RegionSet,
    TooManyRegionsError,
    enumerate_regions,
    pieces,
    region_of,
)
from .surfing import ProjectedSurfResult, SurfResult, budget_schedule, projected_surf, regular_descent, surf

__all__ = [
    "ActivationPattern",
    "ActivationPatterns",
    "BoundaryPointError",
    "EmptyRegionError",
    "GlobalMinimum",
    "LocalMinimum",
    "MinimizerPath",
    "NetworkFlow",
    "Objective",
    "PolishedMinimum",
    "ProjectedSurfResult",
    "QPSolution",
    "QPSolveError",
    "ReLUNet",
    "Region",
    "RegionSet",
    "SurfResult",
    "TooManyRegionsError",
    "activation_pattern",
    "affine_map",
    "budget_schedule",
    "enumerate_regions",
    "gaussian_measurements",
    "global_minimizer",
    "local_minima",
    "local_affine",
    "minimize_on_region",
    "near_zero_mask",
    "near_zero_set",
    "on_switching_hyperplanes",
    "preactivation_maps",
    "pieces",
    "polish_to_local_minimum",
    "polytope_qp",
    "preactivations",
    "projected_surf",
    "region_of",
    "regular_descent",
    "surf",
]

__version__ = "0.1.0"
