#!/usr/bin/python3
"""Convert an MSRN PyTorch checkpoint into an msrn-ts fp32 weight blob.

    /usr/bin/python3 tools/export_blob.py <state_dict.pt> <out.bin> [--rgb-range 255]

Accepts a bare state_dict (e.g. the official MSRN_x2.pt, n_feats 64 / n_blocks 8), a checkpoint
that wraps one ({"state_dict": ...}, {"model": ...}, {"model_state_dict": ...}), or keys prefixed
with "module." / "model." (DataParallel, EDSR's Model wrapper). n_feats, n_blocks and scale are
inferred from the tensor shapes; anything that is not an MSRN is refused with the reason.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from blob_format import encode_container  # noqa: E402
from msrn_model import MSRN, RGB_MEAN  # noqa: E402

KIND = "msrn-fp32"


class NotMsrnError(Exception):
    pass


def unwrap_state_dict(obj):
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise NotMsrnError(f"the file holds a {type(obj).__name__}, not a state_dict")
    for key in ("state_dict", "model_state_dict", "model", "net", "params"):
        inner = obj.get(key)
        if isinstance(inner, dict) and any(torch.is_tensor(v) for v in inner.values()):
            obj = inner
            break
        if isinstance(inner, torch.nn.Module):
            obj = inner.state_dict()
            break
    tensors = {k: v for k, v in obj.items() if torch.is_tensor(v)}
    if not tensors:
        raise NotMsrnError("no tensors found in the file")
    for prefix in ("module.", "model."):
        if all(k.startswith(prefix) for k in tensors):
            tensors = {k[len(prefix):]: v for k, v in tensors.items()}
    return tensors


def infer_config(sd):
    """(n_feats, n_blocks, scale) from shapes, or NotMsrnError saying what is missing."""
    if "head.0.weight" not in sd:
        raise NotMsrnError("no 'head.0.weight': this is not an MSRN state_dict")
    head = sd["head.0.weight"]
    if head.dim() != 4 or head.shape[1] != 3 or tuple(head.shape[2:]) != (3, 3):
        raise NotMsrnError(f"head.0.weight has shape {list(head.shape)}, expected [n_feats, 3, 3, 3]")
    n_feats = head.shape[0]
    n_blocks = 0
    while f"body.{n_blocks}.conv_3_1.weight" in sd:
        n_blocks += 1
    if n_blocks == 0:
        raise NotMsrnError("no MSRB blocks (body.0.conv_3_1.weight): this is not an MSRN state_dict")
    up = [k for k in sd if k.startswith("tail.2.") and k.endswith(".weight")]
    if not up:
        raise NotMsrnError("no upsampler convs (tail.2.*.weight)")
    first = sd["tail.2.0.weight"]
    if first.shape[0] == 9 * n_feats:
        scale = 3
    elif first.shape[0] == 4 * n_feats:
        scale = 2 ** len(up)
    else:
        raise NotMsrnError(f"tail.2.0.weight has {first.shape[0]} output channels; expected 4 or 9 x n_feats")
    return n_feats, n_blocks, scale


def export(sd, rgb_range=255.0, meta=None):
    n_feats, n_blocks, scale = infer_config(sd)
    if scale not in (2, 3, 4, 8):
        raise NotMsrnError(f"scale {scale} is not supported (2, 3, 4, 8)")
    reference = MSRN(n_feats, n_blocks, scale, rgb_range).state_dict()
    # Checkpoints saved before MeanShift was trainable may lack the mean shifts: fill them from
    # the fresh module (identity and -/+ rgb_range * mean), as the official model would build them.
    sd = dict(sd)
    for key in ("sub_mean.weight", "sub_mean.bias", "add_mean.weight", "add_mean.bias"):
        sd.setdefault(key, reference[key])
    missing = [k for k in reference if k not in sd]
    extra = [k for k in sd if k not in reference]
    if missing:
        raise NotMsrnError(f"missing tensors for n_feats {n_feats}, n_blocks {n_blocks}, x{scale}: {missing[:5]}")
    if extra:
        raise NotMsrnError(f"unexpected tensors (not MSRN): {extra[:5]}")
    tensors = []
    for key, ref in reference.items():
        value = sd[key].detach().cpu().float()
        if tuple(value.shape) != tuple(ref.shape):
            raise NotMsrnError(f"{key} has shape {list(value.shape)}, expected {list(ref.shape)}")
        array = value.numpy().astype("<f4")
        if not np.isfinite(array).all():
            raise NotMsrnError(f"{key} holds non-finite values")
        tensors.append((key, "f32", array))
    config = {"nFeats": n_feats, "nBlocks": n_blocks, "scale": scale, "nColors": 3,
              "rgbRange": rgb_range, "rgbMean": list(RGB_MEAN)}
    return encode_container(KIND, {"config": config, "meta": meta or {}}, tensors)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    parser.add_argument("--rgb-range", type=float, default=255.0)
    args = parser.parse_args()
    try:
        obj = torch.load(args.checkpoint, map_location="cpu")
    except Exception as error:  # a pickle error, a zip error, a missing file...
        sys.exit(f"export_blob: cannot read {args.checkpoint} as a PyTorch file: {error}")
    try:
        blob = export(unwrap_state_dict(obj), args.rgb_range, {"source": os.path.basename(args.checkpoint)})
    except NotMsrnError as error:
        sys.exit(f"export_blob: {args.checkpoint} is not an MSRN checkpoint: {error}")
    with open(args.output + ".tmp", "wb") as f:
        f.write(blob)
    os.replace(args.output + ".tmp", args.output)
    n, b, s = infer_config(unwrap_state_dict(obj))
    print(f"wrote {args.output}: MSRN n_feats {n}, n_blocks {b}, x{s}, {len(blob)} bytes")


if __name__ == "__main__":
    main()
