r"""The patches :math:`z_1(x), \ldots, z_P(x)` of images and average pooling over the patch grid.

An image of C channels and H × W pixels has a patch at every (i, j) of the grid
:math:`i = 0, s, 2s, \ldots \le H - q`, :math:`j = 0, s, \ldots \le W - q` (patch size q, stride s, no padding);
:math:`z_{(i,j)}(x) = \operatorname{vec}(x[:, i:i+q, j:j+q])` in channel, row, column order.
"""

from __future__ import annotations

import numpy as np

from .. import validate


def image_batch(images, name: str = "images") -> np.ndarray:
    """Images as (n, C, H, W) float64, from (n, H, W) or (n, C, H, W); refused unless finite and not empty."""
    array = validate.real_array(images, name)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4:
        raise ValueError(f"{name} must have shape (n, H, W) or (n, C, H, W); got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    return array


def patch_grid(height: int, width: int, size: int, stride: int = 1) -> tuple[int, int]:
    """The number of patch rows and columns: (⌊(H − q)/s⌋ + 1, ⌊(W − q)/s⌋ + 1)."""
    size, stride = validate.positive_int(size, "size"), validate.positive_int(stride, "stride")
    if size > height or size > width:
        raise ValueError(f"size must be at most the image's height and width ({height} × {width}); got {size}")
    return (height - size) // stride + 1, (width - size) // stride + 1


def pooled_grid(grid: tuple[int, int], window: int) -> tuple[int, int]:
    """The grid left after :func:`average_pool` over window × window blocks: (⌈rows/w⌉, ⌈columns/w⌉)."""
    return -(-grid[0] // window), -(-grid[1] // window)


def patches(images, size: int, stride: int = 1) -> np.ndarray:
    r"""The patch vectors of every image: an array (n, P, C·q²), patches in row-major order of the grid.

    Parameters
    ----------
    images : array_like (n, H, W) or (n, C, H, W)
    size : int
        q, the patch's side in pixels (at most H and W).
    stride : int
        s, the step between patches.
    """
    X = image_batch(images)
    n, C, H, W = X.shape
    rows, columns = patch_grid(H, W, size, stride)
    windows = np.lib.stride_tricks.sliding_window_view(X, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    # windows: (n, C, rows, columns, q, q) -> (n, rows, columns, C, q, q)
    out = windows[:, :, :rows, :columns].transpose(0, 2, 3, 1, 4, 5)
    return np.ascontiguousarray(out.reshape(n, rows * columns, C * size * size))


def average_pool(features: np.ndarray, grid: tuple[int, int], window: int) -> np.ndarray:
    r"""Average the rows of ``features`` (n, P, m), P = rows × columns in row-major order, over non-overlapping
    window × window blocks of the grid (a last, partial block is averaged over what it holds): (n, P', m) with
    :math:`P' = \lceil rows/w \rceil \lceil columns/w \rceil`. Linear, so it commutes with the linear model: it is
    the average pooling of the CNN's filter outputs."""
    Z = np.asarray(features, dtype=float)
    rows, columns = grid
    if Z.ndim != 3 or Z.shape[1] != rows * columns:
        raise ValueError(f"features must have shape (n, {rows * columns}, m) for a {rows} × {columns} grid; got "
                         f"{Z.shape}")
    window = validate.positive_int(window, "window")
    if window > min(rows, columns):
        raise ValueError(f"window must be at most the patch grid's side ({rows} × {columns}); got {window}")
    n, _, m = Z.shape
    grid_view = Z.reshape(n, rows, columns, m)
    blocks = [grid_view[:, i:i + window, j:j + window].mean(axis=(1, 2))
              for i in range(0, rows, window) for j in range(0, columns, window)]
    return np.stack(blocks, axis=1)
