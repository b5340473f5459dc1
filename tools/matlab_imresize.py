"""MATLAB-compatible imresize(img, scale, 'bicubic') in numpy.

This is the resize every SR paper uses to make LR images (and the "bicubic" baseline), so our
training pairs and PSNR numbers must come from the same arithmetic. It follows MATLAB's
imresize.m:

- kernel: cubic convolution with a = -0.5 (Keys), support [-2, 2];
- shrinking (scale < 1) is antialiased: the kernel is stretched by 1/scale and scaled by scale,
  h(x) = scale * cubic(scale * x), width 4 / scale;
- contributions(): output pixel i (1-based) maps to u = i / scale + 0.5 * (1 - 1 / scale);
  taps are floor(u - width / 2) + (0 .. ceil(width) + 1); weights are normalised to sum to 1;
  out-of-range taps are mirrored with the edge pixel repeated (aux = [1..n, n..1]);
  all-zero tap columns are dropped;
- output size is ceil(in * scale) and `scale` itself (not out / in) drives the mapping;
- dimensions are resized in order of increasing scale, dim 1 (height) first when equal;
- uint8 input: MATLAB's resize kernel returns the input class after EACH 1-D pass, so the
  intermediate image is rounded (half away from zero) and clamped to 0..255 before the second
  pass. Float input stays float (float64 arithmetic, returned in the input's dtype).

Only numpy is needed.
"""
import math

import numpy as np


def cubic(x):
    """Keys cubic convolution kernel with a = -0.5 (MATLAB's `cubic`)."""
    absx = np.abs(x)
    absx2 = absx * absx
    absx3 = absx2 * absx
    return ((1.5 * absx3 - 2.5 * absx2 + 1.0) * (absx <= 1)
            + (-0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0) * ((absx > 1) & (absx <= 2)))


def contributions(in_length, out_length, scale, antialiasing=True):
    """MATLAB's contributions(): (weights, indices), both (out_length, taps), 0-based indices."""
    kernel_width = 4.0
    if scale < 1 and antialiasing:
        kernel = lambda x: scale * cubic(scale * x)  # noqa: E731
        kernel_width = kernel_width / scale
    else:
        kernel = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based
    weights = kernel(u[:, None] - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # Mirror with the edge repeated: aux = [1..n, n..1], indexed modulo 2n.
    aux = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = aux[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _round_u8(x):
    """MATLAB double -> uint8: round half away from zero (values here are >= 0 after clamp), clamp."""
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def resize_along_dim(img, dim, scale, out_length, antialiasing=True):
    """One 1-D pass along axis `dim` (0 = height, 1 = width); returns float64."""
    in_length = img.shape[dim]
    weights, indices = contributions(in_length, out_length, scale, antialiasing)
    src = np.moveaxis(img.astype(np.float64, copy=False), dim, 0)
    out = np.zeros((out_length,) + src.shape[1:], dtype=np.float64)
    extra = (1,) * (src.ndim - 1)
    for k in range(weights.shape[1]):  # one tap at a time keeps memory at one output image
        out += weights[:, k].reshape((-1,) + extra) * src[indices[:, k]]
    return np.moveaxis(out, 0, dim)


def imresize(img, scale, antialiasing=True):
    """MATLAB imresize(img, scale, 'bicubic') for an HxW or HxWxC array.

    `scale` is a number or a (scale_h, scale_w) pair. uint8 in -> uint8 out (rounded after each
    pass, as MATLAB does); float in -> float out in the same dtype (no rounding/clamping).
    """
    img = np.asarray(img)
    if np.isscalar(scale):
        scales = (float(scale), float(scale))
    else:
        scales = (float(scale[0]), float(scale[1]))
    out_shape = [int(math.ceil(img.shape[d] * scales[d])) for d in (0, 1)]
    order = (0, 1) if scales[0] <= scales[1] else (1, 0)
    is_u8 = img.dtype == np.uint8
    out = img
    for d in order:
        if out.shape[d] == out_shape[d] and scales[d] == 1.0:
            continue
        out = resize_along_dim(out, d, scales[d], out_shape[d], antialiasing)
        if is_u8:
            out = _round_u8(out)
    if is_u8:
        return out.astype(np.uint8, copy=False)
    return out.astype(img.dtype if np.issubdtype(img.dtype, np.floating) else np.float64, copy=False)


def modcrop(img, scale):
    """Crop H and W down to multiples of `scale` (top-left anchored, as the SR benchmarks do)."""
    h, w = img.shape[0] - img.shape[0] % scale, img.shape[1] - img.shape[1] % scale
    return img[:h, :w]
