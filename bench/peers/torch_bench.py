#!/usr/bin/python3
"""PyTorch (Debian's python3-torch, CPU) as a peer engine for bench/peers/run.ts.

    /usr/bin/python3 bench/peers/torch_bench.py <weights.bin> <input.f32> <height> <width>
        --threads N [--runs 1] [--warmup 1] [--output out.f32]

Loads the msrn-ts blob into tools/msrn_model.py (the official MSRN graph), runs the raw
float32 CHW input (0..255) through it `warmup` times untimed and `runs` times timed with
torch.set_num_threads(N), and prints one JSON line: {"threads", "ms": [...], "torch"}.
With --output it also writes the (3, H*scale, W*scale) float32 output, for the diff.
The timing covers the forward call only, like the other engines' rows.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from export_onnx import load_blob_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("blob")
    parser.add_argument("input")
    parser.add_argument("height", type=int)
    parser.add_argument("width", type=int)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--output")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model, _ = load_blob_model(args.blob)
    data = np.fromfile(args.input, dtype="<f4").reshape(1, 3, args.height, args.width)
    x = torch.from_numpy(data.copy())
    times = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
        for _ in range(args.runs):
            start = time.perf_counter()
            y = model(x)
            times.append((time.perf_counter() - start) * 1000)
    if args.output:
        y.numpy().astype("<f4").tofile(args.output)
    print(json.dumps({"threads": torch.get_num_threads(), "ms": times, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
