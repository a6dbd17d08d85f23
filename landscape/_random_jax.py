"""Random draws in JAX, bit for bit ``jax.random``'s, compiled once per power-of-two size instead of once per shape.

With JAX's partitionable Threefry (its default) element i of a draw depends only on the key and i, and
``uniform`` and ``normal`` map bits to values elementwise, so the first ``prod(shape)`` values of a longer flat
draw are the draw of ``shape``. Drawing every parameter shape directly compiles one XLA program per shape (about
0.7 s each on the CPU, tens per model); padded to powers of two, a handful serve every layer of every model.
Imported only with JAX.
"""

from __future__ import annotations

import math

import jax
import numpy as np


def _padded(sample, key, shape, dtype) -> np.ndarray:
    shape = tuple(int(s) for s in shape)
    if not jax.config.jax_threefry_partitionable:
        return np.asarray(sample(key, shape, dtype))
    size = math.prod(shape)
    padded = max(64, 1 << max(size - 1, 0).bit_length())
    return np.asarray(sample(key, (padded,), dtype))[:size].reshape(shape)


def uniform(key, shape, dtype, low: float, high: float) -> np.ndarray:
    """``jax.random.uniform(key, shape, dtype, low, high)`` as a numpy array."""
    return _padded(lambda k, s, d: jax.random.uniform(k, s, d, low, high), key, shape, dtype)


def normal(key, shape, dtype) -> np.ndarray:
    """``jax.random.normal(key, shape, dtype)`` as a numpy array."""
    return _padded(jax.random.normal, key, shape, dtype)
