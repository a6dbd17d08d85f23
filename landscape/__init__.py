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
    preactivations,
)
from .network import ReLUNet
from .objective import Objective, gaussian_measurements

__all__ = [
    "ActivationPattern",
    "ActivationPatterns",
    "Objective",
    "ReLUNet",
    "activation_pattern",
    "affine_map",
    "gaussian_measurements",
    "local_affine",
    "near_zero_mask",
    "near_zero_set",
    "preactivations",
]

__version__ = "0.1.0"
