"""Pack a compact, deterministic training set for a lent GPU: aligned HR/LR crops + dev/benchmark HR.

The device machine gets the working tree and at most 64 MiB of carried files, and data/ (a
symlink here) does not travel, so tools/train.py --pack reads everything it needs from one .npz:

- train crops: the LR of each WHOLE training image is made exactly as train.PatchSampler does
  (matlab_imresize.imresize(modcrop(HR, scale), 1/scale) on uint8), and windows of --crop LR px
  (and the matching scale x crop HR px) are cut from both, so the pairs carry no border
  artefacts of resizing a small crop. Images smaller than a window are packed whole.
- which windows: each image is tiled into a grid of non-overlapping windows (no pixel is stored
  twice). Within an image, windows are ordered by weighted sampling without replacement with
  weight = detail + 0.25 x the image's median detail (detail = mean |gradient| of the LR luma):
  detailed windows come first, because the sets' wallpapers are mostly soft bokeh that teaches
  little per byte, but flat windows keep a real chance, because flat areas are where the model
  was measured to add error (dev LadyBird). Across images windows are interleaved in proportion
  to sqrt(area) (the sampler's image weights), after one window of every image first, so all
  training images are covered, and packed in that order until the byte budget is spent.
- dev and benchmark: the HR images as stored (the evaluator makes their LR itself), under their
  file names, so a run from the pack has the same dev fingerprint as one from data/dev.
- storage: every image is a PNG (lossless; about 1.5x smaller than zlib of raw pixels on these
  photographs) inside an uncompressed .npz of plain arrays: names, per-crop source image and LR
  origin, concatenated PNG bytes with offsets. np.load(allow_pickle=False) reads it.

Run: /usr/bin/python3 tools/pack_patches.py [--out gpu-kit/pack_x2.npz] [--budget-mib 38]
Deterministic (fixed --seed; the pixels are exact, the PNG bytes depend on zlib's version).
"""
import argparse
import glob
import io
import math
import os
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from matlab_imresize import imresize, modcrop  # noqa: E402

FORMAT = "msrn-pack-1"


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def list_pngs(folder):
    return sorted(glob.glob(os.path.join(folder, "*.png")))


def png_bytes(a):
    b = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(b, "PNG", compress_level=9)
    return np.frombuffer(b.getvalue(), dtype=np.uint8)


def png_decode(buf):
    return np.asarray(Image.open(io.BytesIO(buf.tobytes())).convert("RGB"), dtype=np.uint8)


def concat(blobs):
    off = np.zeros(len(blobs) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(b) for b in blobs])
    data = np.concatenate(blobs) if blobs else np.zeros(0, np.uint8)
    return data, off


def split(data, off):
    return [png_decode(data[off[i]:off[i + 1]]) for i in range(len(off) - 1)]


def detail(lr):
    y = lr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    g = np.zeros_like(y)
    g[:, 1:] += np.abs(np.diff(y, axis=1))
    g[1:, :] += np.abs(np.diff(y, axis=0))
    return g


def grid(h, w, c):
    """Non-overlapping c x c windows covering the centre of an h x w image: [(y, x, hh, ww)]."""
    if h < c or w < c:
        return [(0, 0, h, w)]
    ny, nx = h // c, w // c
    y0, x0 = (h - ny * c) // 2, (w - nx * c) // 2
    return [(y0 + i * c, x0 + j * c, c, c) for i in range(ny) for j in range(nx)]


def build(data_dir, out, scale=2, crop=144, budget_mib=38.0, seed=0, log=print):
    t0 = time.time()
    train_paths = list_pngs(os.path.join(data_dir, "train"))
    if not train_paths:
        sys.exit(f"no PNGs in {data_dir}/train")
    rng = np.random.default_rng(seed)
    names, hrs, lrs, orders, weights = [], [], [], [], []
    for k, path in enumerate(train_paths):
        hr = modcrop(load_rgb(path), scale)
        lr = imresize(hr, 1.0 / scale)
        wins = grid(lr.shape[0], lr.shape[1], crop)
        g = detail(lr)
        score = np.array([g[y:y + hh, x:x + ww].mean() for y, x, hh, ww in wins], np.float64)
        wgt = score + 0.25 * np.median(score) + 1e-6
        # Efraimidis-Spirakis: weighted sampling without replacement = sort by u^(1/w).
        keys = np.log(rng.random(len(wins))) / wgt
        order = [wins[i] for i in np.argsort(-keys, kind="stable")]
        names.append(os.path.basename(path))
        hrs.append(hr)
        lrs.append(lr)
        orders.append(order)
        weights.append(math.sqrt(lr.shape[0] * lr.shape[1]))
    log(f"{len(train_paths)} train images, LR made and windows scored in {time.time() - t0:.1f} s")

    # Dev and benchmark first: they are always packed whole.
    evalsets = {}
    for sub in ("dev", "benchmark"):
        paths = list_pngs(os.path.join(data_dir, sub))
        evalsets[sub] = ([os.path.basename(p) for p in paths], [png_bytes(load_rgb(p)) for p in paths])
    used = sum(len(b) for _, bl in evalsets.values() for b in bl)

    # Global order: one window of every image first (biggest weight first), then the rest
    # interleaved by (k + 0.5) / sqrt(area).
    queue = [(0, -weights[i], i, 0) for i in range(len(names))]
    for i, order in enumerate(orders):
        queue += [(1, (k + 0.5) / weights[i], i, k) for k in range(1, len(order))]
    queue.sort()
    budget = budget_mib * 2 ** 20
    src, origin, hr_blobs, lr_blobs = [], [], [], []
    skipped = 0
    for _, _, i, k in queue:
        y, x, hh, ww = orders[i][k]
        a = png_bytes(lrs[i][y:y + hh, x:x + ww])
        b = png_bytes(hrs[i][y * scale:(y + hh) * scale, x * scale:(x + ww) * scale])
        if used + len(a) + len(b) + 64 > budget:
            skipped += 1
            if skipped >= 20:  # a few smaller windows may still fit; then stop
                break
            continue
        used += len(a) + len(b) + 64
        src.append(i)
        origin.append((y, x))
        lr_blobs.append(a)
        hr_blobs.append(b)
    hr_data, hr_off = concat(hr_blobs)
    lr_data, lr_off = concat(lr_blobs)
    arrays = {
        "format": np.array(FORMAT), "scale": np.array(scale, np.int32), "crop": np.array(crop, np.int32),
        "train_names": np.array(names, dtype=str), "train_src": np.array(src, np.int32),
        "train_origin": np.array(origin, np.int32).reshape(-1, 2),
        "train_hr_png": hr_data, "train_hr_off": hr_off, "train_lr_png": lr_data, "train_lr_off": lr_off,
    }
    for sub, (n, blobs) in evalsets.items():
        d, o = concat(blobs)
        arrays[f"{sub}_names"] = np.array(n, dtype=str)
        arrays[f"{sub}_png"], arrays[f"{sub}_off"] = d, o
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out)

    per_img = np.bincount(np.array(src, np.int64), minlength=len(names))
    tot_lr = sum(l.shape[0] * l.shape[1] for l in lrs)
    got_lr = 0
    for i, (y, x) in zip(src, origin):
        for wy, wx, hh, ww in orders[i]:
            if (wy, wx) == (y, x):
                got_lr += hh * ww
                break
    size = os.path.getsize(out)
    log(f"packed {len(src)} crops from {int((per_img > 0).sum())}/{len(names)} train images "
        f"({got_lr / tot_lr * 100:.1f}% of the training pixels), crops per image min {per_img.min()} "
        f"max {per_img.max()}; dev {len(evalsets['dev'][0])}, benchmark {len(evalsets['benchmark'][0])} images")
    log(f"wrote {out}: {size / 2 ** 20:.2f} MiB in {time.time() - t0:.1f} s")
    return out


def load(path):
    """The pack as {'scale', 'train': [(name, (oy, ox), hr, lr)], 'dev': [(name, hr)], 'benchmark': ...}."""
    z = np.load(path, allow_pickle=False)
    if str(z["format"]) != FORMAT:
        raise ValueError(f"{path}: format {z['format']} is not {FORMAT}")
    names = [str(n) for n in z["train_names"]]
    hr = split(z["train_hr_png"], z["train_hr_off"])
    lr = split(z["train_lr_png"], z["train_lr_off"])
    train = [(names[s], (int(o[0]), int(o[1])), h, l)
             for s, o, h, l in zip(z["train_src"], z["train_origin"], hr, lr)]
    out = {"scale": int(z["scale"]), "crop": int(z["crop"]), "train": train}
    for sub in ("dev", "benchmark"):
        out[sub] = list(zip([str(n) for n in z[f"{sub}_names"]], split(z[f"{sub}_png"], z[f"{sub}_off"])))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "data"))
    p.add_argument("--out", default=os.path.join(ROOT, "gpu-kit", "pack_x2.npz"))
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--crop", type=int, default=144, help="LR window size (HR is scale x this)")
    p.add_argument("--budget-mib", type=float, default=38.0, help="size limit of the whole pack")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    build(a.data, a.out, a.scale, a.crop, a.budget_mib, a.seed)


if __name__ == "__main__":
    main()
