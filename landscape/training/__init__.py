"""Train generators on real images with JAX + optax and record their snapshots as exact ReLUNets.

``import landscape`` never imports this package (nor JAX); ``import landscape.training`` does.

>>> from landscape.training import train_flow                                   # doctest: +SKIP
>>> run = train_flow("wgangp", "flows/wgangp-k5", k=5, T=100, every=40)       # doctest: +SKIP
>>> run.flow                     # NetworkFlow of 101 exact ReLUNets            # doctest: +SKIP
"""

from .models import GeneratorSpec, critic_architecture, encoder_architecture
from .objectives import MODELS, Hyperparameters, hyperparameters
from .train import DEFAULT_MAX_FLOW_BYTES, TrainedFlow, export_snapshot, train_flow

__all__ = [
    "DEFAULT_MAX_FLOW_BYTES",
    "GeneratorSpec",
    "Hyperparameters",
    "MODELS",
    "TrainedFlow",
    "critic_architecture",
    "encoder_architecture",
    "export_snapshot",
    "hyperparameters",
    "train_flow",
]
