r"""A multi-layer CCNN, trained one convex layer at a time (Zhang, Liang & Wainwright, Algorithm 1 and §3.4).

Layer l takes an image representation :math:`X_l` (C channels on an H × W grid; :math:`X_1` the images), forms
its patches, maps them by random features φ of the Gaussian kernel, average-pools them and solves the convex
problem of :mod:`~landscape.ccnn.convex` for :math:`\hat A_l` (m × P′ × K). The last layer's :math:`\hat A` is the
classifier. Below it, :math:`\hat A_l` as an m × (P′·K) matrix is factorised, :math:`\hat A_l \approx U S V^\top`,
and its top r left singular vectors are the layer's r filters in feature space: the next representation is
:math:`X_{l+1}[c, i, j] = u_c^\top \varphi(z_{(i,j)}(X_l))`, average-pooled over the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate
from .._threads import one_blas_thread
from .convex import ConvexFit, class_labels, fit_projected_gradient, logits
from .features import RandomFourierFeatures
from .patches import average_pool, image_batch, patch_grid, patches, pooled_grid


@dataclass(frozen=True)
class LayerSpec:
    """One CCNN layer's settings: patch side ``patch`` and ``stride``, average pooling over ``pool`` × ``pool``
    blocks of the patch grid, ``features`` random features m, kernel width ``gamma`` (None: the median heuristic,
    1 / median ‖z − z′‖² over sampled patch pairs), nuclear-norm radius ``radius`` and the ``rank`` r of the filters
    passed to the next layer."""

    patch: int = 5
    stride: int = 1
    pool: int = 2
    features: int = 256
    gamma: float | None = None
    radius: float = 10.0
    rank: int = 16

    def __post_init__(self):
        for name in ("patch", "stride", "pool", "features", "rank"):
            validate.positive_int(getattr(self, name), name)
        validate.positive_scalar(self.radius, "radius")
        if self.gamma is not None:
            validate.positive_scalar(self.gamma, "gamma")


def layer_specs(layers) -> tuple[LayerSpec, ...]:
    """``layers`` checked: a non-empty sequence of LayerSpec, bottom first."""
    if isinstance(layers, LayerSpec) or not layers or not all(isinstance(s, LayerSpec) for s in layers):
        raise ValueError("layers must be a non-empty sequence of LayerSpec")
    return tuple(layers)


DEFAULT_LAYERS = (LayerSpec(),)
"""One layer at the default settings: CCNN-1 (CNN-1)."""


@dataclass(frozen=True)
class TrainedLayer:
    spec: LayerSpec
    features: RandomFourierFeatures
    fit: ConvexFit
    filters: np.ndarray  # (m, r): the top r left singular vectors of A as an m × (P'·K) matrix


def _median_gamma(Z: np.ndarray, rng: np.random.Generator, pairs: int = 2000) -> float:
    flat = Z.reshape(-1, Z.shape[-1])
    i, j = rng.integers(0, len(flat), (2, pairs))
    distances = np.sum((flat[i] - flat[j]) ** 2, axis=1)
    median = float(np.median(distances[distances > 0])) if np.any(distances > 0) else 1.0
    return 1.0 / median


CHUNK = 128
"""Images whose patch features are held at once: φ of every patch of 128 28×28 images at m = 256 is 150 MB."""


@one_blas_thread
def _pooled(layer_input: np.ndarray, spec: LayerSpec, features: RandomFourierFeatures, filters=None):
    """The pooled features (n, P′, m) of every image, or with ``filters`` (m, r) the next layer's input
    uᵀφ(z_p) pooled (:func:`_next_input`); computed CHUNK images at a time."""
    _, _, H, W = layer_input.shape
    grid = patch_grid(H, W, spec.patch, spec.stride)
    out = []
    for start in range(0, len(layer_input), CHUNK):
        pooled = average_pool(features(patches(layer_input[start:start + CHUNK], spec.patch, spec.stride)), grid,
                              spec.pool)
        out.append(pooled if filters is None else pooled @ filters)
    pooled = np.concatenate(out)
    return pooled if filters is None else _next_input(pooled, grid, spec.pool)


def _next_input(projected: np.ndarray, grid: tuple[int, int], pool: int) -> np.ndarray:
    """The pooled filter outputs (n, P′, r) as the next layer's images (n, r, rows′, columns′). Pooling is linear,
    so projecting the pooled features equals pooling the projected ones."""
    rows, columns = pooled_grid(grid, pool)
    return np.ascontiguousarray(projected.transpose(0, 2, 1).reshape(len(projected), projected.shape[2], rows,
                                                                     columns))


@dataclass(frozen=True)
class CCNN:
    """A trained CCNN: its layers, bottom first; ``predict`` and ``error`` classify new images."""

    layers: tuple[TrainedLayer, ...]
    classes: int

    @classmethod
    def fit(cls, images, labels, layers=DEFAULT_LAYERS, classes: int | None = None, batch_size: int | None = None,
            epochs: int = 20, tol: float = 1e-7, max_iterations: int = 2_000, rng=None, start=None) -> CCNN:
        """Train layer by layer (module notes). ``batch_size``, ``epochs``, ``tol`` and ``max_iterations`` go to
        :func:`~landscape.ccnn.fit_projected_gradient` for every layer; ``rng`` draws the random features (and the
        mini-batches). ``start`` is where each layer's convex problem starts: None at A = 0; a seed or Generator at
        a random A (i.i.d. Gaussian entries projected onto the nuclear-norm ball, so on its boundary), drawn apart
        from ``rng``, so that the same ``rng`` with other starts poses the same problems."""
        X = image_batch(images)
        specs = layer_specs(layers)
        labels, classes = class_labels(labels, len(X), classes, "labels")
        rng = validate.rng(rng)
        start = None if start is None else validate.rng(start, "start")
        trained = []
        for depth, spec in enumerate(specs):
            sample = patches(X[: min(len(X), 200)], spec.patch, spec.stride)
            gamma = spec.gamma if spec.gamma is not None else _median_gamma(sample, rng)
            features = RandomFourierFeatures.draw(sample.shape[-1], spec.features, gamma, rng)
            Z = _pooled(X, spec, features)
            A0 = None if start is None else start.normal(size=(Z.shape[2], Z.shape[1], classes))
            fit = fit_projected_gradient(Z, labels, spec.radius, classes=classes, A0=A0, tol=tol,
                                         max_iterations=max_iterations, batch_size=batch_size, epochs=epochs, rng=rng)
            U, _, _ = np.linalg.svd(fit.A.reshape(fit.A.shape[0], -1), full_matrices=False)
            filters = U[:, : spec.rank]
            trained.append(TrainedLayer(spec, features, fit, filters))
            if depth < len(specs) - 1:  # the pooled features Z are at hand: no second pass over the patches
                X = _next_input(Z @ filters, patch_grid(X.shape[2], X.shape[3], spec.patch, spec.stride), spec.pool)
        return cls(tuple(trained), trained[-1].fit.A.shape[2])

    def representation(self, images) -> np.ndarray:
        """The last layer's pooled features Z (n, P′, m) of new images."""
        X = image_batch(images)
        for layer in self.layers[:-1]:
            X = _pooled(X, layer.spec, layer.features, layer.filters)
        return _pooled(X, self.layers[-1].spec, self.layers[-1].features)

    def predict(self, images) -> np.ndarray:
        return np.argmax(logits(self.layers[-1].fit.A, self.representation(images)), axis=1)

    def error(self, images, labels) -> float:
        """The share of images misclassified."""
        return float(np.mean(self.predict(images) != np.asarray(labels)))
