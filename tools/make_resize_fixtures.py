#!/usr/bin/python3
"""Reference outputs of the numpy MATLAB-imresize (tools/matlab_imresize.py) for the TypeScript
bicubic (src/image/resize.ts): two independent implementations of the same algorithm.

Regenerate: /usr/bin/python3 tools/make_resize_fixtures.py
Writes test/fixtures/resize/<name>.png (input) and <name>_x<scale>.png (uint8 output) plus
manifest.json.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fixture_weights import hash32  # noqa: E402
from matlab_imresize import imresize  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "test", "fixtures", "resize")
SCALES = [0.5, 1 / 3, 0.25, 2, 3]


def test_image(seed, height, width):
    """Smooth colour ramps plus hashed noise: edges and flat areas, values over the whole 0..255."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    noise = (hash32(np.arange(height * width * 3, dtype=np.uint32) ^ np.uint32(seed)) >> np.uint32(24))
    noise = noise.reshape(height, width, 3).astype(np.float64)
    base = np.stack([128 + 120 * np.sin(x / 5 + seed), 128 + 120 * np.cos(y / 4), (x * 7 + y * 3) % 256], axis=2)
    return np.clip(0.7 * base + 0.3 * noise, 0, 255).round().astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for name, seed, h, w in [("ramp37x29", 3, 37, 29), ("ramp24x40", 8, 24, 40)]:
        img = test_image(seed, h, w)
        Image.fromarray(img).save(os.path.join(OUT, f"{name}.png"))
        for scale in SCALES:
            tag = f"{scale:.4f}".rstrip("0").rstrip(".")
            out = imresize(img, scale)
            file = f"{name}_x{tag}.png"
            Image.fromarray(out).save(os.path.join(OUT, file))
            manifest.append({"input": f"{name}.png", "scale": scale, "output": file})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
