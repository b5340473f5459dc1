#!/usr/bin/python3
"""The int8 calibration set: 50 crops of the training photos (never dev or benchmark images).

    /usr/bin/python3 tools/make_calibration_set.py      # after tools/dataset.sh; writes data/calib/

The model card calibrated on 50 DIV2K images resized to 1080x1920. Running the fp32 model over 50
full-size photos takes about an hour on one core here, so we take 50 crops of 320x480 instead,
spread over all training photos (the most detailed window of each, by gradient energy, then a
second window from the larger photos), deterministically.
"""
import os

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "data", "train")
OUT = os.path.join(ROOT, "data", "calib")
COUNT, HEIGHT, WIDTH = 50, 320, 480


def windows(img, count):
    """The `count` most detailed non-overlapping HEIGHTxWIDTH windows on a coarse grid."""
    grey = img.convert("L")
    a = np.asarray(grey, dtype=np.float64)
    energy = np.abs(np.diff(a, axis=0))[:, :-1] + np.abs(np.diff(a, axis=1))[:-1, :]
    h, w = a.shape
    candidates = []
    for y in range(0, max(1, h - HEIGHT + 1), HEIGHT // 2):
        for x in range(0, max(1, w - WIDTH + 1), WIDTH // 2):
            candidates.append((energy[y:y + HEIGHT, x:x + WIDTH].mean(), y, x))
    chosen = []
    for score, y, x in sorted(candidates, reverse=True):
        if all(abs(y - cy) >= HEIGHT or abs(x - cx) >= WIDTH for cy, cx in chosen):
            chosen.append((y, x))
        if len(chosen) == count:
            break
    return chosen


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sorted(f for f in os.listdir(TRAIN) if f.endswith(".png"))
    images = [(n, Image.open(os.path.join(TRAIN, n)).convert("RGB")) for n in names]
    usable = [(n, im) for n, im in images if im.height >= HEIGHT and im.width >= WIDTH]
    # One window from every usable photo, then second windows from the largest, up to COUNT.
    plan = [(n, im, 0) for n, im in usable]
    for n, im in sorted(usable, key=lambda p: -p[1].width * p[1].height):
        if len(plan) >= COUNT:
            break
        plan.append((n, im, 1))
    written = 0
    for n, im, k in plan[:COUNT]:
        spots = windows(im, 2)
        if k >= len(spots):
            continue
        y, x = spots[k]
        im.crop((x, y, x + WIDTH, y + HEIGHT)).save(os.path.join(OUT, f"{os.path.splitext(n)[0]}_{k}.png"))
        written += 1
    print(f"wrote {written} crops of {WIDTH}x{HEIGHT} to {OUT}")


if __name__ == "__main__":
    main()
