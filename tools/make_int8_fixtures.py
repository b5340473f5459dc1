#!/usr/bin/python3
"""Golden int8 fixtures: the Python reference (tools/int8_reference.py) run on int8 blobs made by
the TypeScript calibrator, so the TS int8 forward can be compared with it byte for byte.

Regenerate (from the repo root; needs `npx tsc -p tsconfig.json` first for the TS calibrator):
    /usr/bin/python3 tools/make_int8_fixtures.py [--calibrator auto|ts|python]

Writes test/fixtures/int8/:
  calib/<i>.png                 calibration images shared by every case (deterministic)
  <case>.fp32.bin               fp32 weight blob (fixture weights, tools/export_blob.export)
  <case>.input.png              the input image
  <case>.int8.bin               the int8 blob: `node dist/cli.js calibrate calib -o ... --weights ...`
                                (or, with --calibrator python / auto without a TS calibrate, the
                                Python one; the manifest says which)
  <case>.expected.bin           container kind "msrn-int8-fixture": every intermediate of section 4
                                as an i8 tensor (CHW) and "output" as i32 [3, H*s, W*s]
  manifest.json                 [{name, config, blob, fp32, input, expected, calib, calibratedBy, ...}]

Every TS-made blob is first checked by verify_quantization (bit exact, from the fp32 weights and
its stored scales) and its calibration maxAbs record against PyTorch's fp32 activations.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import int8_reference as R  # noqa: E402
from blob_format import encode_container  # noqa: E402
from fixture_weights import fixture_state_dict, smooth_image  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "test", "fixtures", "int8")
CALIB = os.path.join(OUT, "calib")
FIXTURE_KIND = "msrn-int8-fixture"

# name, n_feats, n_blocks, scale, height, width, weight seed
CASES = [
    ("q16x2-x2", 16, 2, 2, 14, 18, 51),
    ("q8x1-x3", 8, 1, 3, 13, 17, 52),
    ("q4x1-x4", 4, 1, 4, 9, 11, 53),
]
CALIB_IMAGES = [(24, 28, 901), (20, 32, 902), (28, 20, 903)]  # h, w, seed
MAX_ABS_RTOL = 1e-3


def calib_image(seed, h, w, stretch):
    """Blurred noise sits around 128; stretch one image to the full 0..255 range so the
    calibrated ranges are realistic and the input image saturates only in a few places."""
    img = smooth_image(seed, h, w)
    if not stretch:
        return img
    f = img.astype(np.float64)
    lo, hi = f.min(), f.max()
    return np.clip(np.floor((f - lo) * (255.0 / (hi - lo)) + 0.5), 0, 255).astype(np.uint8)


def input_image(seed, h, w):
    """A smooth image plus hard 0 / 255 patches and an edge, so activations leave the calibrated
    range somewhere and the saturating paths (clamps, int32 saturation) are exercised."""
    img = smooth_image(seed, h, w).copy()
    img[: h // 3, : w // 3] = 255
    img[h - h // 4:, w - w // 4:] = 0
    img[h // 2, :, 0] = 255
    img[:, w // 2, 2] = 0
    return img


def save_png(path, img):
    from PIL import Image
    Image.fromarray(img).save(path, optimize=True)


def fp32_blob(n, b, s, seed):
    import torch
    from export_blob import export
    from msrn_model import MSRN
    sd = fixture_state_dict(MSRN(n, b, s).state_dict(), seed)
    return export({k: torch.from_numpy(v) for k, v in sd.items()}, meta={"source": f"fixture_weights seed {seed}"})


def ts_calibrate_available():
    cli = os.path.join(ROOT, "dist", "cli.js")
    if not os.path.exists(cli):
        return False
    r = subprocess.run(["node", cli, "--help"], capture_output=True, text=True, cwd=ROOT)
    return "calibrate" in (r.stdout + r.stderr)


def ts_calibrate(fp32_path, out_path):
    cmd = ["node", os.path.join(ROOT, "dist", "cli.js"), "calibrate", CALIB, "-o", out_path, "--weights", fp32_path]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"TS calibrate failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout.strip()


def compare_max_abs(recorded, reference):
    """TS maxAbs (its fp32 forward) vs PyTorch's: equal up to float32 rounding noise."""
    problems = []
    for k, want in reference.items():
        got = recorded.get(k)
        if got is None:
            problems.append(f"maxAbs lacks {k}")
        elif abs(got - want) > MAX_ABS_RTOL * max(abs(want), 1e-12):
            # "output" is only "for the record" (section 4): it sets no scale, so a differing
            # convention there (e.g. clamped to 0..255) is reported but does not fail the case.
            msg = f"maxAbs {k}: blob {got!r}, PyTorch {want!r} (unclamped, conv outputs after ReLU)"
            (print("  warning: " + msg) if k == "output" else problems.append(msg))
    for k in recorded:
        if k not in reference:
            problems.append(f"maxAbs has an unexpected entry {k!r}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calibrator", choices=("auto", "ts", "python"), default="auto")
    args = ap.parse_args()
    use_ts = args.calibrator == "ts" or (args.calibrator == "auto" and ts_calibrate_available())
    if args.calibrator == "ts" and not ts_calibrate_available():
        sys.exit("node dist/cli.js has no calibrate command (build with `npx tsc -p tsconfig.json`)")
    if not use_ts:
        print("WARNING: using the Python calibrator; these fixtures do not test the TS calibrate", file=sys.stderr)

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(CALIB)
    calib = []
    for i, (h, w, seed) in enumerate(CALIB_IMAGES):
        img = calib_image(seed, h, w, stretch=(i == 0))
        save_png(os.path.join(CALIB, f"{i}.png"), img)
        calib.append(R.read_png_u8(os.path.join(CALIB, f"{i}.png")))

    manifest = []
    failed = False
    for name, n, b, s, h, w, seed in CASES:
        fp32_name, blob_name = f"{name}.fp32.bin", f"{name}.int8.bin"
        input_name, expected_name = f"{name}.input.png", f"{name}.expected.bin"
        fp32_path, blob_path = os.path.join(OUT, fp32_name), os.path.join(OUT, blob_name)
        fp32 = fp32_blob(n, b, s, seed)
        with open(fp32_path, "wb") as f:
            f.write(fp32)
        save_png(os.path.join(OUT, input_name), input_image(seed + 100, h, w))
        image = R.read_png_u8(os.path.join(OUT, input_name))

        model_t, cfg = R.torch_model_from_fp32(fp32)
        reference_max_abs = R.calibrate_torch(model_t, cfg, calib)
        if use_ts:
            log = ts_calibrate(fp32_path, blob_path)
            if log:
                print(f"  [ts] {log}")
        else:
            with open(blob_path, "wb") as f:
                f.write(R.build_int8_blob(fp32, reference_max_abs, images=len(calib), size=None))

        model = R.load_int8_blob(blob_path)
        problems = R.verify_quantization(model, fp32_path)
        problems += compare_max_abs(model.header["calibration"]["maxAbs"], reference_max_abs)
        if model.header["calibration"]["images"] != len(calib):
            problems.append(f"calibration.images {model.header['calibration']['images']} != {len(calib)}")
        if problems:
            failed = True
            print(f"{name}: {len(problems)} problem(s) with {blob_name}:")
            for p in problems[:40]:
                print("  " + p)
            continue

        out, inter = R.run_int8(model, image)
        names = R.intermediate_names(cfg)
        tensors = [(k, "i8", inter[k].astype(np.int8)) for k in names] + [("output", "i32", out.astype(np.int32))]
        expected = encode_container(FIXTURE_KIND, {"config": cfg, "meta": {
            "generator": "tools/make_int8_fixtures.py (tools/int8_reference.py)", "blob": blob_name,
            "input": input_name}}, tensors)
        with open(os.path.join(OUT, expected_name), "wb") as f:
            f.write(expected)
        ref = np.clip(R.observe_fp32(model_t, image)["output"], 0, 255)
        mse = float(np.mean((out - ref) ** 2))
        clamped = {k: float(np.mean(np.abs(inter[k]) == 127)) for k in names}
        manifest.append({
            "name": name, "config": cfg, "blob": blob_name, "fp32": fp32_name, "input": input_name,
            "expected": expected_name, "calib": "calib", "calibratedBy": "ts" if use_ts else "python",
            "inputShape": [3, h, w], "outputShape": list(out.shape),
            "outputCrc32": zlib.crc32(out.astype("<i4").tobytes()) & 0xFFFFFFFF,
            "blobCrc32": zlib.crc32(open(blob_path, "rb").read()) & 0xFFFFFFFF,
        })
        psnr = 10 * np.log10(255 ** 2 / mse) if mse else float("inf")
        print(f"{name}: verify ok, out {list(out.shape)}, PSNR vs fp32 {psnr:.1f} dB, "
              f"max clamp share {max(clamped.values()):.1%} ({max(clamped, key=clamped.get)})")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"wrote {OUT}: {total} bytes, calibrated by {'TypeScript' if use_ts else 'Python'}")
    if failed:
        sys.exit("some cases failed verification (no expected output written for them)")


if __name__ == "__main__":
    main()
