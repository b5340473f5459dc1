#!/usr/bin/python3
"""Export an msrn-ts fp32 weight blob to ONNX, for the peer-engine benchmark (bench/peers).

    /usr/bin/python3 tools/export_onnx.py <weights.bin> <out.onnx> [--opset 13]

The graph is tools/msrn_model.py (the official MSRN structure) with the blob's weights loaded,
exported by torch.onnx.export: input "input" (1, 3, H, W) float32 in 0..rgb_range, output
"output" (1, 3, H*scale, W*scale), H and W dynamic. Opset 13 is the default: every op here
(Conv, Relu, Add, Concat, DepthToSpace in CRD mode for PixelShuffle) is stable there and both
onnxruntime-node and onnxruntime-web run it. torch.onnx.export writes the protobuf itself, so
the `onnx` Python package is not needed.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blob_format import decode_container  # noqa: E402
from msrn_model import MSRN  # noqa: E402


def load_blob_model(path):
    with open(path, "rb") as f:
        header, tensors = decode_container(f.read())
    if header.get("kind") != "msrn-fp32":
        raise SystemExit(f"{path}: expected an msrn-fp32 blob, found kind {header.get('kind')!r}")
    cfg = header["config"]
    model = MSRN(n_feats=cfg["nFeats"], n_blocks=cfg["nBlocks"], scale=cfg["scale"],
                 rgb_range=cfg["rgbRange"], n_colors=cfg["nColors"], rgb_mean=tuple(cfg["rgbMean"]))
    state = {name: torch.from_numpy(array) for name, array in tensors.items()}
    model.load_state_dict(state, strict=True)
    return model.eval(), cfg


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("blob")
    parser.add_argument("out")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    model, cfg = load_blob_model(args.blob)
    dummy = torch.zeros(1, 3, 16, 16)
    with torch.no_grad():
        torch.onnx.export(
            model, dummy, args.out,
            input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "out_height", 3: "out_width"}},
            opset_version=args.opset, do_constant_folding=True,
        )
    print(f"wrote {args.out}: MSRN n_feats {cfg['nFeats']}, n_blocks {cfg['nBlocks']}, "
          f"x{cfg['scale']}, opset {args.opset}, dynamic H/W")


if __name__ == "__main__":
    main()
