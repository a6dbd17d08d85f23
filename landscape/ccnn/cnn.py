r"""The non-convex baselines: CNN-1 and CNN-2 with ReLU, trained in JAX on the same data as the CCNN.

CNN-l stacks l blocks conv(q × q, r filters, stride s, no padding) → ReLU → average pooling over w × w blocks
(the CCNN's pooling, a last partial block averaged over what it holds), then a dense layer to K logits:
the CCNN's architecture with its filters' nonlinearity kept. Trained by Adam (optax) on the mean cross-entropy, in
mini-batches; its training loss depends on the initialisation, which is the point of the comparison.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import validate
from .convex import class_labels
from .model import DEFAULT_LAYERS, LayerSpec, layer_specs
from .patches import image_batch, patch_grid, pooled_grid


@dataclass(frozen=True)
class TrainedCNN:
    """A trained CNN: its parameters (a list of (kernel, bias) per block, then (W, b) of the dense layer), the
    blocks' settings, and its final mean training loss over all training images."""

    params: list
    specs: tuple[LayerSpec, ...]
    train_loss: float

    def predict(self, images) -> np.ndarray:
        X = image_batch(images).astype(np.float32)
        return np.concatenate([np.asarray(_forward(self.params, self.specs, X[i:i + 512])).argmax(axis=1)
                               for i in range(0, len(X), 512)])

    def error(self, images, labels) -> float:
        return float(np.mean(self.predict(images) != np.asarray(labels)))


def _pool(x, window: int):
    """Average over window × window blocks of the last two axes (partial blocks over what they hold)."""
    import jax.numpy as jnp
    from jax import lax

    H, W = x.shape[-2:]
    pad = ((0, 0), (0, 0), (0, -H % window), (0, -W % window))
    sums = lax.reduce_window(jnp.pad(x, pad), 0.0, lax.add, (1, 1, window, window), (1, 1, window, window), "VALID")
    counts = lax.reduce_window(jnp.pad(jnp.ones((1, 1, H, W), x.dtype), pad), 0.0, lax.add, (1, 1, window, window),
                               (1, 1, window, window), "VALID")
    return sums / counts


def _forward(params, specs, x):
    import jax
    import jax.numpy as jnp

    for (kernel, bias), spec in zip(params[:-1], specs):
        x = jax.lax.conv_general_dilated(x, kernel, (spec.stride, spec.stride), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        x = _pool(jax.nn.relu(x + bias[None, :, None, None]), spec.pool)
    W, b = params[-1]
    return jnp.reshape(x, (x.shape[0], -1)) @ W + b


def _init(specs, in_shape, classes, key):
    import jax
    import jax.numpy as jnp

    from .._random_jax import normal

    def scaled_normal(key, shape, variance):  # N(0, variance) in float32, as jax.random.normal(...) * sqrt(variance)
        return jnp.asarray(normal(key, shape, jnp.float32) * np.sqrt(np.float32(variance)))

    params, (C, H, W) = [], in_shape
    for spec in specs:
        key, sub = jax.random.split(key)
        fan_in = C * spec.patch * spec.patch
        params.append((scaled_normal(sub, (spec.rank, C, spec.patch, spec.patch), 2.0 / fan_in), jnp.zeros(spec.rank)))
        C, (H, W) = spec.rank, pooled_grid(patch_grid(H, W, spec.patch, spec.stride), spec.pool)
    key, sub = jax.random.split(key)
    flat = C * H * W
    params.append((scaled_normal(sub, (flat, classes), 1.0 / flat), jnp.zeros(classes)))
    return params


@functools.lru_cache(maxsize=16)
def _compiled(specs: tuple[LayerSpec, ...], lr: float):
    """Adam, its compiled step and the compiled mean loss for these blocks (compiled once per settings and shape)."""
    import jax
    import optax

    optimizer = optax.adam(lr)

    def loss(params, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(_forward(params, specs, xb), yb).mean()

    @jax.jit
    def step(params, opt_state, xb, yb):
        value, grads = jax.value_and_grad(loss)(params, xb, yb)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return optimizer, step, jax.jit(loss)


def train_cnn(images, labels, layers=DEFAULT_LAYERS, classes: int | None = None, epochs: int = 20,
              batch_size: int = 64, lr: float = 1e-3, rng=None) -> TrainedCNN:
    """Train CNN-l (l = len(layers); each LayerSpec's ``patch``, ``stride``, ``pool`` and ``rank`` (filters) are
    used) from a random initialisation drawn from ``rng``."""
    import jax
    import jax.numpy as jnp

    X = image_batch(images).astype(np.float32)
    y, K = class_labels(labels, len(X), classes, "labels")
    specs = layer_specs(layers)
    epochs, batch_size = validate.positive_int(epochs, "epochs"), validate.positive_int(batch_size, "batch_size")
    lr = validate.positive_scalar(lr, "lr")
    rng = validate.rng(rng)
    params = _init(specs, X.shape[1:], K, jax.random.PRNGKey(int(rng.integers(2**31))))
    optimizer, step, loss = _compiled(specs, lr)
    opt_state = optimizer.init(params)
    full_batches = len(X) // batch_size or 1
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for b in range(full_batches):  # whole batches only: one compiled shape
            batch = order[b * batch_size:(b + 1) * batch_size]
            params, opt_state, _ = step(params, opt_state, jnp.asarray(X[batch]), jnp.asarray(y[batch]))
    total = sum(float(loss(params, jnp.asarray(X[i:i + 512]), jnp.asarray(y[i:i + 512]))) * len(X[i:i + 512])
                for i in range(0, len(X), 512))
    return TrainedCNN([tuple(np.asarray(a) for a in pair) for pair in params], specs, total / len(X))
