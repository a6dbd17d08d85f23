r"""The MNIST variations of the CCNN paper's Table 1 (Larochelle et al. 2007), made from 28×28 digits offline.

Pixels are in [0, 1] (0 background, 1 ink). From a digit image x:

- ``basic``: x itself;
- ``rand``: a random background, :math:`\max(x, u)` with u uniform on [0, 1] per pixel (the original: uniform noise
  in the background, the digit's pixels kept);
- ``rot``: x rotated by an angle uniform on [0, 2π) (bilinear, about the centre, the corners filled with 0);
- ``img``: a natural-image background, :math:`\max(x, b)` with b a random 28×28 crop of one of scikit-learn's two
  bundled photographs (grey, scaled to [0, 1]); the original used crops of 20 photographs from the web;
- ``img+rot``: rotated, then given an image background.

Every variant is a fixed function of (images, seed): the same seed gives the same data set.
"""

from __future__ import annotations

import numpy as np

from .. import validate

VARIANTS = ("basic", "rand", "rot", "img", "img+rot")


def _photographs() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_images

    return [image.astype(float).mean(axis=2) / 255.0 for image in load_sample_images().images]


def _rotated(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import rotate

    angles = rng.uniform(0.0, 360.0, len(images))
    return np.clip(np.stack([rotate(x, a, reshape=False, order=1, mode="constant", cval=0.0)
                             for x, a in zip(images, angles)]), 0.0, 1.0)


def _image_backgrounds(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    photographs = _photographs()
    h, w = images.shape[1:]
    out = np.empty_like(images)
    for i, x in enumerate(images):
        photo = photographs[rng.integers(len(photographs))]
        r, c = rng.integers(0, photo.shape[0] - h + 1), rng.integers(0, photo.shape[1] - w + 1)
        out[i] = np.maximum(x, photo[r:r + h, c:c + w])
    return out


def variant(images, name: str, rng=None) -> np.ndarray:
    """The variation ``name`` (one of :data:`VARIANTS`) of ``images`` (n, H, W) with pixels in [0, 1]."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {', '.join(VARIANTS)}; got {name!r}")
    X = validate.real_array(images, "images")
    if X.ndim != 3 or 0 in X.shape:
        raise ValueError(f"images must have shape (n, H, W); got {X.shape}")
    if X.min() < 0.0 or X.max() > 1.0:
        raise ValueError(f"images must have pixels in [0, 1]; got values from {X.min():g} to {X.max():g}")
    rng = validate.rng(rng)
    if name == "basic":
        return X
    if name == "rand":
        return np.maximum(X, rng.uniform(0.0, 1.0, X.shape))
    if name == "rot":
        return _rotated(X, rng)
    if name == "img":
        return _image_backgrounds(X, rng)
    return _image_backgrounds(_rotated(X, rng), rng)
