#!/usr/bin/python3
"""Golden fp32 fixtures: PyTorch's MSRN output for deterministic weights and inputs.

Regenerate (from the repo root, needs Debian's python3-torch):
    /usr/bin/python3 tools/make_fixtures.py

Writes test/fixtures/fp32/manifest.json and, per case, <name>.input.f32 / <name>.output.f32
(raw little-endian float32, CHW). Weights are not stored: they are rebuilt from the seed by
tools/fixture_weights.py here and test/helpers/fixture-weights.ts in the tests, and the manifest
keeps their CRC-32 so the test can prove both sides built the same weights first.

Also writes test/fixtures/e2e/: a state_dict saved with torch.save, converted by
tools/export_blob.py (the real tool, run as a subprocess), an input PNG and PyTorch's output PNG
(clamp to 0..255, round half up), for the end-to-end `msrn upscale` test.
"""
import json
import os
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fixture_weights import fixture_state_dict, hash32  # noqa: E402
from msrn_model import MSRN  # noqa: E402

ROOT = os.path.dirname(HERE)
FP32_DIR = os.path.join(ROOT, "test", "fixtures", "fp32")
E2E_DIR = os.path.join(ROOT, "test", "fixtures", "e2e")

# name, n_feats, n_blocks, scale, height, width, seed
CASES = [
    ("card-16x2-x2", 16, 2, 2, 21, 30, 1),
    ("tiny-1x1-x2", 16, 2, 2, 1, 1, 2),
    ("thin-2x7-x2", 16, 2, 2, 2, 7, 3),
    ("n8-b1-x3", 8, 1, 3, 17, 23, 4),
    ("n8-b1-x4", 8, 1, 4, 15, 20, 5),
    ("n4-b1-x8", 4, 1, 8, 9, 11, 6),
    ("official-64x8-x2", 64, 8, 2, 20, 30, 7),
]


def fixture_input(seed, height, width):
    """A 0..255 integer image from the same hash (tensor index 1000 keeps it apart from the weights)."""
    key = hash32(np.uint32((seed * 1000003 + 1000) & 0xFFFFFFFF))
    idx = np.arange(3 * height * width, dtype=np.uint32)
    return ((hash32(idx ^ key) >> np.uint32(24)).astype(np.float32)).reshape(1, 3, height, width)


def build(n_feats, n_blocks, scale, seed):
    model = MSRN(n_feats, n_blocks, scale).eval()
    sd = fixture_state_dict(model.state_dict(), seed)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    crc = 0
    for v in sd.values():
        crc = zlib.crc32(v.astype("<f4").tobytes(), crc)
    return model, crc & 0xFFFFFFFF


def write_fp32_cases():
    os.makedirs(FP32_DIR, exist_ok=True)
    manifest = []
    for name, n_feats, n_blocks, scale, height, width, seed in CASES:
        model, crc = build(n_feats, n_blocks, scale, seed)
        x = fixture_input(seed, height, width)
        with torch.no_grad():
            y = model(torch.from_numpy(x)).numpy()[0]
        x[0].astype("<f4").tofile(os.path.join(FP32_DIR, f"{name}.input.f32"))
        y.astype("<f4").tofile(os.path.join(FP32_DIR, f"{name}.output.f32"))
        manifest.append({
            "name": name, "seed": seed, "weightsCrc32": crc,
            "config": {"nFeats": n_feats, "nBlocks": n_blocks, "scale": scale},
            "inputShape": [3, height, width], "outputShape": list(y.shape),
        })
        inside = ((y >= 0) & (y <= 255)).mean()
        print(f"{name}: out {list(y.shape)} mean {y.mean():.1f} std {y.std():.1f} in 0..255: {inside:.0%}")
    with open(os.path.join(FP32_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def to_png_values(chw):
    return np.floor(np.clip(chw, 0, 255) + 0.5).astype(np.uint8).transpose(1, 2, 0)


def write_e2e_case():
    os.makedirs(E2E_DIR, exist_ok=True)
    torch.manual_seed(11)
    model = MSRN(8, 1, 2).eval()
    # A model trained with the official code may have moved its mean shifts; make sure ours did.
    with torch.no_grad():
        model.sub_mean.weight.add_(0.02 * torch.randn_like(model.sub_mean.weight))
        model.add_mean.bias.add_(torch.randn_like(model.add_mean.bias))
        for p in model.parameters():
            if p.dim() == 4 and p.shape[-1] > 1:
                p.mul_(2.0)
    image = np.array(fixture_input(12, 24, 32)[0].transpose(1, 2, 0), dtype=np.uint8)
    # Smooth it a little so the output is image-like, not noise.
    image = ((image.astype(np.float32) + np.roll(image, 1, 0) + np.roll(image, 1, 1)) / 3).astype(np.uint8)
    Image.fromarray(image).save(os.path.join(E2E_DIR, "input.png"))
    with torch.no_grad():
        x = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32))[None]
        y = model(x).numpy()[0]
    Image.fromarray(to_png_values(y)).save(os.path.join(E2E_DIR, "expected.png"))
    with tempfile.TemporaryDirectory() as tmp:
        pt = os.path.join(tmp, "checkpoint.pt")
        torch.save({"epoch": 3, "state_dict": model.state_dict()}, pt)  # wrapped, as training scripts save
        subprocess.run([sys.executable, os.path.join(HERE, "export_blob.py"), pt, os.path.join(E2E_DIR, "model.bin")],
                       check=True)
    print(f"e2e: out {list(y.shape)} mean {y.mean():.1f} std {y.std():.1f}")


if __name__ == "__main__":
    write_fp32_cases()
    write_e2e_case()
