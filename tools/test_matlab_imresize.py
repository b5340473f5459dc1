"""Self-checks for tools/matlab_imresize.py (numpy only).

Run: /usr/bin/python3 tools/test_matlab_imresize.py   (or with pytest)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matlab_imresize import contributions, cubic, imresize, modcrop  # noqa: E402

# Classic MATLAB bicubic taps, derived by hand from the a = -0.5 kernel:
# cubic(0.25) = 0.8671875, cubic(0.75) = 0.2265625, cubic(1.25) = -0.0703125, cubic(1.75) = -0.0234375.
# x1/2 (antialiased): 0.5 * cubic(0.5 * d), d = +-0.5, +-1.5, +-2.5, +-3.5.
DOWN2 = np.array([-0.01171875, -0.03515625, 0.11328125, 0.43359375,
                  0.43359375, 0.11328125, -0.03515625, -0.01171875])
# x2: output pixel 1 sits at u = 0.75, taps at distances 1.75, 0.75, 0.25, 1.25.
UP2_FIRST = np.array([-0.0234375, 0.2265625, 0.8671875, -0.0703125])


def test_kernel_values():
    x = np.array([0, 0.25, 0.75, 1, 1.25, 1.75, 2, 2.5])
    np.testing.assert_allclose(cubic(x), [1, 0.8671875, 0.2265625, 0, -0.0703125, -0.0234375, 0, 0])


def test_weights_sum_to_one():
    for n_in, n_out, s in [(10, 5, 0.5), (7, 14, 2.0), (9, 3, 1 / 3), (5, 15, 3.0), (11, 6, 0.5)]:
        w, idx = contributions(n_in, n_out, s)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
        assert idx.min() >= 0 and idx.max() < n_in


def test_down2_weights_and_mirror():
    w, idx = contributions(8, 4, 0.5)
    assert w.shape == (4, 8)
    for i in range(4):
        np.testing.assert_allclose(w[i], DOWN2, atol=1e-15)
    # Output pixel 1 (1-based) has u = 1.5, taps 1-based -2..5 -> mirrored 3,2,1,1,2,3,4,5.
    np.testing.assert_array_equal(idx[0], [2, 1, 0, 0, 1, 2, 3, 4])
    # Last output pixel: u = 7.5, taps 4..11 -> 4,5,6,7,8,8,7,6.
    np.testing.assert_array_equal(idx[3], [3, 4, 5, 6, 7, 7, 6, 5])


def test_up2_weights():
    w, idx = contributions(4, 8, 2.0)
    np.testing.assert_allclose(w[0][w[0] != 0], UP2_FIRST, atol=1e-15)


def test_tiny_down2_by_hand():
    # One row of 8 values; x1/2 along the width only. Expected values from the taps above.
    row = np.array([[10, 20, 40, 80, 120, 160, 200, 250]], dtype=np.float64)
    out = imresize(row, (1.0, 0.5))
    assert out.shape == (1, 4)
    v = row[0]
    e0 = DOWN2 @ v[[2, 1, 0, 0, 1, 2, 3, 4]]
    e3 = DOWN2 @ v[[3, 4, 5, 6, 7, 7, 6, 5]]
    np.testing.assert_allclose(out[0, [0, 3]], [e0, e3], atol=1e-12)
    # The number itself, by hand: -0.01171875*40 - 0.03515625*20 + 0.11328125*10 + 0.43359375*10
    # + 0.43359375*20 + 0.11328125*40 - 0.03515625*80 - 0.01171875*120 = 13.28125
    np.testing.assert_allclose(out[0, 0], 13.28125, atol=1e-12)


def test_constant_stays_constant():
    for dtype in (np.uint8, np.float64):
        img = np.full((13, 17, 3), 77, dtype=dtype)
        for s in (0.5, 2.0, 1 / 3, 3.0, 0.25):
            out = imresize(img, s)
            assert out.dtype == dtype
            np.testing.assert_allclose(out, 77, atol=1e-9)


def test_output_shape_is_ceil():
    img = np.zeros((15, 9, 3), dtype=np.uint8)
    assert imresize(img, 0.5).shape == (8, 5, 3)
    assert imresize(img, 2).shape == (30, 18, 3)
    assert imresize(img, 1 / 3).shape == (5, 3, 3)
    assert imresize(img[:, :, 0], 0.5).shape == (8, 5)


def test_uint8_rounds_after_each_pass():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
    out = imresize(img, 0.5)
    assert out.dtype == np.uint8
    # Float path without the intermediate rounding differs by at most ~1 level.
    ref = imresize(img.astype(np.float64), 0.5)
    assert np.abs(out.astype(np.float64) - np.clip(ref, 0, 255)).max() <= 1.5
    # Rebuilding with explicit per-pass rounding (height first) matches exactly.
    from matlab_imresize import resize_along_dim
    h = np.clip(np.floor(resize_along_dim(img, 0, 0.5, 6) + 0.5), 0, 255)
    hw = np.clip(np.floor(resize_along_dim(h, 1, 0.5, 5) + 0.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, hw)


def test_modcrop():
    assert modcrop(np.zeros((11, 9, 3)), 2).shape == (10, 8, 3)
    assert modcrop(np.zeros((12, 9)), 3).shape == (12, 9)


if __name__ == "__main__":
    n = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            n += 1
            print("ok", name)
    print(f"{n} tests passed")
