#!/usr/bin/python3
"""Reference scores for the TypeScript metrics (src/image/metrics.ts), computed the way MSRN's own
scorer does it (MIVRC/MSRN-PyTorch, Test/Evaluate_PSNR_SSIM.m), written here independently with
numpy from that script's text:

    im_Y = single(rgb2ycbcr(im2double(im)));  im_Y = im_Y(:,:,1) * 255     (single precision)
    Cal_Y_PSNRSSIM(A, B, scale, scale): shave `scale` px, double(), PSNR = 10 log10(255^2 / mse),
    ssim_index (Wang et al.): filter2(fspecial('gaussian', 11, 1.5), x, 'valid'), K = 0.01/0.03

and the older 8-bit convention ('u8': rgb2ycbcr on the uint8 image, Y rounded), so both
conventions are checked on the same pairs. MATLAB's rgb2ycbcr on double input is
imlincomb(T1, R, T2, G, T3, B, offset) with T = [65.481 128.553 24.966] / 255, offset 16 / 255,
evaluated in double; single() then rounds to float32 and `* 255` is a float32 product.
The SSIM filter here is a plain 2-D sliding window (the TypeScript one is separable).

Regenerate: /usr/bin/python3 tools/make_metric_fixtures.py
Writes test/fixtures/metrics/<name>_ref.png, <name>_test.png and scores.json.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fixture_weights import hash32  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "test", "fixtures", "metrics")


def y_float(rgb_u8):
    """single(rgb2ycbcr(im2double(im)))(:,:,1) * 255, in MATLAB's precisions."""
    d = rgb_u8.astype(np.float64) / 255.0  # im2double
    t = np.array([65.481, 128.553, 24.966]) / 255.0
    y01 = ((t[0] * d[:, :, 0] + t[1] * d[:, :, 1]) + t[2] * d[:, :, 2]) + 16.0 / 255.0
    return (y01.astype(np.float32) * np.float32(255)).astype(np.float32).astype(np.float64)


def y_u8(rgb_u8):
    """rgb2ycbcr on uint8: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded (half away from zero)."""
    d = rgb_u8.astype(np.float64)
    y = 16.0 + (65.481 * d[:, :, 0] + 128.553 * d[:, :, 1] + 24.966 * d[:, :, 2]) / 255.0
    return np.floor(y + 0.5)


def gaussian_window():
    """fspecial('gaussian', 11, 1.5)."""
    ax = np.arange(-5, 6, dtype=np.float64)
    xx, yy = np.meshgrid(ax, ax)
    h = np.exp(-(xx * xx + yy * yy) / (2 * 1.5 * 1.5))
    h[h < np.finfo(np.float64).eps * h.max()] = 0
    return h / h.sum()


def filter_valid(window, x):
    """filter2(window, x, 'valid'): correlation over the positions where the window fits."""
    views = np.lib.stride_tricks.sliding_window_view(x, window.shape)
    return np.einsum("ijkl,kl->ij", views, window)


def ssim_index(a, b):
    w = gaussian_window()
    c1 = (0.01 * 255) ** 2
    c2 = (0.03 * 255) ** 2
    mu1 = filter_valid(w, a)
    mu2 = filter_valid(w, b)
    s11 = filter_valid(w, a * a) - mu1 * mu1
    s22 = filter_valid(w, b * b) - mu2 * mu2
    s12 = filter_valid(w, a * b) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2))
    return float(ssim_map.mean())


def score(ref, test, shave, to_y):
    a = to_y(ref)
    b = to_y(test)
    if shave:
        a = a[shave:-shave, shave:-shave]
        b = b[shave:-shave, shave:-shave]
    mse = float(np.mean((a - b) ** 2))
    return {"psnr": 10 * np.log10(255.0 ** 2 / mse), "ssim": ssim_index(a, b)}


def photo_like(seed, height, width):
    """Ramps, an edge and hashed noise over the whole 0..255 range."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    noise = (hash32(np.arange(height * width * 3, dtype=np.uint32) ^ np.uint32(seed)) >> np.uint32(24))
    noise = noise.reshape(height, width, 3).astype(np.float64)
    base = np.stack([128 + 120 * np.sin(x / 6 + seed), 128 + 110 * np.cos(y / 5), np.where(x > width / 2, 220, 30)], axis=2)
    return np.clip(0.8 * base + 0.2 * noise, 0, 255).round().astype(np.uint8)


def degraded(ref, seed, amplitude):
    """The reference plus small hashed errors, as an SR result differs from its ground truth."""
    h, w, _ = ref.shape
    noise = (hash32(np.arange(h * w * 3, dtype=np.uint32) ^ np.uint32(seed * 7919)) >> np.uint32(24)).astype(np.float64)
    noise = (noise.reshape(h, w, 3) / 255.0 - 0.5) * 2 * amplitude
    return np.clip(ref.astype(np.float64) + noise, 0, 255).round().astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for name, seed, h, w, amplitude, shave in [("a40x52", 1, 40, 52, 6, 2), ("b33x29", 2, 33, 29, 2, 3), ("c64x48", 3, 64, 48, 12, 4)]:
        ref = photo_like(seed, h, w)
        test = degraded(ref, seed, amplitude)
        Image.fromarray(ref).save(os.path.join(OUT, f"{name}_ref.png"))
        Image.fromarray(test).save(os.path.join(OUT, f"{name}_test.png"))
        cases.append({"name": name, "shave": shave, "float": score(ref, test, shave, y_float), "u8": score(ref, test, shave, y_u8)})
        print(name, cases[-1])
    with open(os.path.join(OUT, "scores.json"), "w") as f:
        json.dump({"generator": "tools/make_metric_fixtures.py", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
