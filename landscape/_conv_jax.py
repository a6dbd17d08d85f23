r"""Convolutions in JAX, as PyTorch defines them, in the form that runs fastest on the CPU for their size.

``conv_transpose`` is ``ConvTranspose2d`` (kernel (C_in, C_out, kh, kw)): for a small output, XLA's dilated
convolution with the flipped, transposed kernel; above :data:`TAPS_MIN_OUTPUTS` outputs per image, one
(C_in, C_out) matrix product per kernel tap scattered into the output (about 4× faster at the paper's
128 → 64-channel layer). ``conv`` is ``Conv2d`` (kernel (C_out, C_in, kh, kw)) as one product per tap over the padded
input. Shared by training (:mod:`landscape.training.models`) and the compiled descent loop
(:mod:`landscape._descent_jax`); imported only with JAX.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

TAPS_MIN_OUTPUTS = 4096
"""Outputs per image above which a transposed convolution runs as one product per kernel tap."""


def output_size(size: int, kernel: int, stride: int, padding: int, output_padding: int = 0) -> int:
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def conv_transpose(x, weight, stride: int, padding: int, output_padding: int = 0):
    """PyTorch's ConvTranspose2d of a batch x (N, C_in, H, W) with ``weight`` (C_in, C_out, kh, kw)."""
    kh, kw = weight.shape[2:]
    n, _, H, W = x.shape
    Ho, Wo = output_size(H, kh, stride, padding, output_padding), output_size(W, kw, stride, padding, output_padding)
    if weight.shape[1] * Ho * Wo > TAPS_MIN_OUTPUTS:
        rows, cols = max((H - 1) * stride + kh, padding + Ho), max((W - 1) * stride + kw, padding + Wo)
        pixels = x.transpose(0, 2, 3, 1)
        buffer = jnp.zeros((n, rows, cols, weight.shape[1]), x.dtype)
        for a in range(kh):
            for b in range(kw):
                buffer = buffer.at[:, a:a + (H - 1) * stride + 1:stride, b:b + (W - 1) * stride + 1:stride].add(
                    pixels @ weight[:, :, a, b])
        return buffer[:, padding:padding + Ho, padding:padding + Wo].transpose(0, 3, 1, 2)
    p, q = padding, output_padding
    rhs = jnp.flip(weight, (2, 3)).transpose(1, 0, 2, 3)
    return jax.lax.conv_general_dilated(
        x, rhs, window_strides=(1, 1), padding=[(kh - 1 - p, kh - 1 - p + q), (kw - 1 - p, kw - 1 - p + q)],
        lhs_dilation=(stride, stride), dimension_numbers=("NCHW", "OIHW", "NCHW"))


def conv(x, weight, stride: int, padding: int):
    """PyTorch's Conv2d of a batch x (N, C_in, H, W) with ``weight`` (C_out, C_in, kh, kw), zero padding."""
    n, _, H, W = x.shape
    kh, kw = weight.shape[2:]
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    pixels = jnp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))).transpose(0, 2, 3, 1)
    out = jnp.zeros((n, Ho, Wo, weight.shape[0]), x.dtype)
    for a in range(kh):
        for b in range(kw):
            out = out + pixels[:, a:a + (Ho - 1) * stride + 1:stride, b:b + (Wo - 1) * stride + 1:stride] @ weight[:, :, a, b].T
    return out.transpose(0, 3, 1, 2)
