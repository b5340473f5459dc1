#!/usr/bin/python3
"""Quantization-aware fine-tuning (QAT) of an fp32 MSRN for the "vacc max int8" path (docs/INT8.md).

    # the shipped blobs: fp32 checkpoint -> cross-layer equalization + rounding nudges ->
    # weights/checkpoints/msrn_x2.int8friendly.pt, weights/msrn_x2.bin, weights/msrn_x2.int8.bin
    /usr/bin/python3 tools/qat.py ship --init weights/checkpoints/msrn_x2.best.pt
    # fp32 checkpoint -> fine-tuned fp32 state_dict (+ optionally the two blobs):
    /usr/bin/python3 tools/qat.py train --init weights/checkpoints/msrn_x2.best.pt \
        --out weights/checkpoints/msrn_x2.qat.pt [--export weights/msrn_x2.bin --int8 weights/msrn_x2.int8.bin]
    # the fake-quant simulation against the real integer path (`msrn upscale --precision int8`):
    /usr/bin/python3 tools/qat.py simcheck weights/msrn_x2.bin weights/msrn_x2.int8.bin data/dev
    # int8 / fp32 dev PSNR of a checkpoint with the simulation (max calibration on data/calib):
    /usr/bin/python3 tools/qat.py evaluate <state_dict.pt> [--equalize P]
    # what each quantization point costs alone, and the int8 output's distance from fp32 per image:
    /usr/bin/python3 tools/qat.py budget weights/msrn_x2.bin --int8 weights/msrn_x2.int8.bin

The simulation (`forward` with `scales`) mirrors docs/INT8.md section 4 as closely as floats allow:
- per-output-channel symmetric int8 weights, s_w = max|w[co]| / 127 (1 where the max is 0),
  wq = clamp(round(w / s_w), -127, 127); biases rounded to the accumulator scale s_in * s_w;
- per-tensor symmetric int8 activations at every quantization point (input, features,
  body.b.{cat1,cat2,confusion}, tail.0, tail.1, tail.2.0, tail.3), scale = maxAbs / 127 from max
  calibration; round half away from zero, clamp [-127, 127], ReLU as the clamp [0, 127];
- the head output and every block output share the point `features` (they meet in tail.0's
  concat); conv_3_1/conv_5_1 share cat1, conv_3_2/conv_5_2 share cat2;
- the residual add is rescaled to its output scale (features): round((a s_C + x s_F) / s_F)
  (TFLite's ADD with left shift 20 equals this up to 2^-20 of a step);
- PixelShuffle keeps the scale; the u8 image in (scale 1) and the u8 image out (add_mean output
  rounded and clamped to 0..255, scale 1);
- straight-through estimator: round passes the gradient unchanged, clamps pass it inside their
  range only; scales are constants for the gradient.

Training (`train`): every step runs the fp32 graph (it is also the max observer: the activation
scales are the running max over the batch stream, over a sliding window of --window steps, as
max calibration over that many patches) and the fake-quant graph with the current scales. Loss =
L1(int8 sim, HR) + --fp32-weight * L1(fp32, HR) (the fp32 term keeps the fp32 model as good as it
was). From --freeze (fraction of the steps) on, the scales are frozen at a max calibration on the
calibration set (data/calib, the shipped int8 model's exact recipe). Every --eval-every steps:
max calibration on data/calib, then dev Y-PSNR of fp32 and of the int8 simulation; the best int8
dev PSNR among evals whose fp32 dev PSNR is not below the starting model's is written to --out.

`ship` (what the shipped blobs are): no training, two function-preserving or near-preserving
steps on the fp32 weights, then the card's calibration: `equalize` (power 1: every channel of
every quantization point spans the point's whole range) and `nudge_rounding` (AdaRound-like
rounding choices, fp32 change compensated), measured better than any QAT run (see
weights/README.md). Deterministic on CPU: the same command writes the same bytes.

`--equalize P` first applies cross-layer equalization (function-preserving per-channel rescaling
of every quantization point, see `equalize`), exactly the same fp32 function.
"""
import argparse
import copy
import glob
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _early_threads():
    """Thread counts must be fixed before torch/numpy start their pools."""
    threads = "1"
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            threads = sys.argv[i + 1]
        elif a.startswith("--threads="):
            threads = a.split("=", 1)[1]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    return int(threads)


_THREADS = _early_threads()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, HERE)
from matlab_imresize import imresize, modcrop  # noqa: E402
from msrn_model import MSRN  # noqa: E402
import train as T  # noqa: E402  (data sampler, schedule, atomic save)

torch.set_num_threads(_THREADS)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ============================================================================ fake quantization

def round_half_away(x):
    """round(x), half away from zero (docs/INT8.md section 1)."""
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def ste(value, grad_path):
    """`value` in the forward pass, the gradient of `grad_path` in the backward pass."""
    return grad_path + (value - grad_path).detach()


INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def quantize_multiplier_t(M):
    """QuantizeMultiplier (section 2) of a float64 tensor of positive multipliers -> (m, e) int64."""
    Mn = M.detach().double().cpu().numpy()
    q, e = np.frexp(Mn)
    t = q * 2.0 ** 31  # exact
    m = np.floor(t) + (t - np.floor(t) >= 0.5)
    e = e.astype(np.int64)
    hit = m == 2.0 ** 31
    m[hit] = 2.0 ** 30
    e[hit] += 1
    low = e < -31
    m[low], e[low] = 0, 0
    if np.any(e > 30):
        raise ValueError("multiplier too large")
    return torch.from_numpy(m.astype(np.int64)).to(M.device), torch.from_numpy(e).to(M.device)


def mbqm(x, m, e):
    """MultiplyByQuantizedMultiplier (section 2) on int64 tensors, exact (|x * m| < 2^62)."""
    left = torch.clamp(e, min=0)
    right = torch.clamp(-e, min=0)
    xs = torch.clamp(x << left, INT32_MIN, INT32_MAX)
    p = xs * m
    v = p + torch.where(p >= 0, torch.full_like(p, 2 ** 30), torch.full_like(p, 1 - 2 ** 30))
    hi = torch.where(v >= 0, v >> 31, -((-v) >> 31))  # trunc(v / 2^31)
    mask = (torch.ones_like(right) << right) - 1
    rem = hi & mask
    thr = (mask >> 1) + (hi < 0).long()
    return (hi >> right) + (rem > thr).long()


RELU, LINEAR, IMAGE = (0, 127), (-127, 127), (0, 255)


def _val(s):
    return float(s.detach()) if torch.is_tensor(s) else float(s)


def qconv(mod, q_in, s_in, s_out, clamp, exact=True):
    """One conv of the integer graph: exact values (int8 weights, int32 bias and accumulator,
    TFLite requantization, clamp), straight-through gradients (round = identity, clamp masks).

    q_in: integer-valued float tensor at scale s_in; returns the integer-valued output at s_out.
    s_in / s_out may be 0-d tensors carrying a gradient (--scale-grad): the requantization
    multiplier s_in s_w / s_out then passes d loss / d scale on (LSQ's gradient, emerging from
    the straight-through rounding in the integer domain)."""
    w = mod.weight
    si, so = _val(s_in), _val(s_out)
    with torch.no_grad():
        w64 = w.detach().double()
        mx = w64.abs().amax(dim=(1, 2, 3))
        sw = torch.where(mx > 0, mx / 127.0, torch.ones_like(mx))  # float64, section 3.3
        wq = torch.clamp(round_half_away(w64 / sw.view(-1, 1, 1, 1)), -127, 127).float()
        s_acc = si * sw  # float64, (s_I * s_w[co])
        bq = round_half_away(mod.bias.detach().double() / s_acc)
        m, e = quantize_multiplier_t(s_acc / so)
    swf = sw.float().view(-1, 1, 1, 1)
    wq = ste(wq, torch.clamp(w / swf, -127, 127))
    bq = ste(bq.float(), mod.bias / s_acc.float())
    acc = F.conv2d(q_in, wq, bq, padding=mod.padding)  # integers below 2^24: exact in float32
    if torch.is_tensor(s_in) or torch.is_tensor(s_out):
        grad_mult = (s_in * sw.float() / s_out).view(1, -1, 1, 1)
    else:
        grad_mult = (s_acc / so).float().view(1, -1, 1, 1)
    if exact:
        with torch.no_grad():
            y = mbqm(torch.round(acc).long(), m.view(1, -1, 1, 1), e.view(1, -1, 1, 1)).float()
    else:
        # training: one float rounding by the quantized multiplier (the integer path rounds
        # twice, SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, which moves the
        # rounding threshold by at most 2^-right of a step: rare flips, same statistics)
        mult = (m.double() * torch.pow(2.0, (e - 31).double())).float().view(1, -1, 1, 1)
        with torch.no_grad():
            y = torch.round(acc * mult)
    return torch.clamp(ste(y, acc * grad_mult), *clamp)


def add_params(s_c, s_f):
    """The residual add's (m1, e1, m2, e2, mo, eo) of section 3.4, and its real multipliers."""
    import int8_reference as R
    p = R.quantize_add(s_c, s_f)
    return p


def qadd(qa, qx, s_c, s_f, exact=True):
    """Residual add (section 4), exact values; gradient of round((qa s_c + qx s_f) / s_f)."""
    lin = qa * (s_c / s_f) + qx
    if not exact:
        return torch.clamp(ste(torch.round(lin.detach()), lin), *LINEAR)
    left, m1, e1, m2, e2, mo, eo = add_params(_val(s_c), _val(s_f))
    with torch.no_grad():
        dev = qa.device

        def t(v):
            return torch.tensor(v, dtype=torch.int64, device=dev)
        v1 = mbqm(qa.long() * (1 << left), t(m1), t(e1))
        v2 = mbqm(qx.long() * (1 << left), t(m2), t(e2))
        y = mbqm(v1 + v2, t(mo), t(eo)).float()
    return torch.clamp(ste(y, lin), *LINEAR)


RELU, LINEAR, IMAGE = (0, 127), (-127, 127), (0, 255)


def upsampler_prefixes(model):
    up = model.tail[2]
    return [(f"tail.2.{i}", up[i], up[i + 1]) for i in range(0, len(up), 2)]


def quant_points(model):
    pts = ["input", "features"]
    for b in range(model.n_blocks):
        pts += [f"body.{b}.cat1", f"body.{b}.cat2", f"body.{b}.confusion"]
    pts += ["tail.0", "tail.1"] + [p for p, _, _ in upsampler_prefixes(model)] + ["tail.3"]
    return pts


class Observer:
    """Per-channel max |x| of every observed tensor (docs/INT8.md section 4, last paragraph).

    keep=True also keeps the tensors themselves (with their graph) for `range_penalty`."""

    def __init__(self, keep=False):
        self.ch = {}
        self.t = {} if keep else None

    def add(self, name, y):
        if self.t is not None:
            self.t[name] = y
        m = y.detach().abs().amax(dim=(0, 2, 3)).float().cpu()
        old = self.ch.get(name)
        self.ch[name] = m if old is None else torch.maximum(old, m)

    def point_max(self, model):
        """maxAbs of every quantization point (features = max(head, body.b); cats = max of their convs)."""
        g = {k: float(v.max()) for k, v in self.ch.items()}
        out = {"input": g["input"], "features": max([g["head"]] + [g[f"body.{b}"] for b in range(model.n_blocks)])}
        for b in range(model.n_blocks):
            p = f"body.{b}"
            out[f"{p}.cat1"] = max(g[f"{p}.conv_3_1"], g[f"{p}.conv_5_1"])
            out[f"{p}.cat2"] = max(g[f"{p}.conv_3_2"], g[f"{p}.conv_5_2"])
            out[f"{p}.confusion"] = g[f"{p}.confusion"]
        for k in ["tail.0", "tail.1"] + [p for p, _, _ in upsampler_prefixes(model)] + ["tail.3"]:
            out[k] = g[k]
        return out


def range_groups(model):
    """{quantization point: the observed tensors that share its scale}."""
    g = {"features": ["head"] + [f"body.{b}" for b in range(model.n_blocks)]}
    for b in range(model.n_blocks):
        p = f"body.{b}"
        g[f"{p}.cat1"] = [f"{p}.conv_3_1", f"{p}.conv_5_1"]
        g[f"{p}.cat2"] = [f"{p}.conv_3_2", f"{p}.conv_5_2"]
        g[f"{p}.confusion"] = [f"{p}.confusion"]
    for k in ["tail.0", "tail.1"] + [p for p, _, _ in upsampler_prefixes(model)] + ["tail.3"]:
        g[k] = [k]
    return g


def range_penalty(model, obs):
    """Mean over every tensor t at every quantization point P of log(max_P |x| / std_t), std_t
    the RMS of t about its per-channel means: how many int8 steps of P the signal of t spans,
    inverted, on a log scale (a constant offset does not help; a rare peak costs).
    Pushes the network towards activations whose max is not far above their typical size."""
    terms = []
    for point, names in range_groups(model).items():
        mx = torch.stack([obs.t[n].abs().amax() for n in names]).amax()
        for n in names:
            x = obs.t[n]
            std = (x - x.mean(dim=(0, 2, 3), keepdim=True)).pow(2).mean().add(1e-6).sqrt()
            terms.append(torch.log(mx + 1e-6) - torch.log(std))
    return torch.stack(terms).mean()


def peak_penalty(model, obs, k):
    """Mean over the tensors of every quantization point of mean(relu(|x| / std - k)^2): the
    values more than k standard deviations out, which set the max-calibrated scale."""
    terms = []
    for point, names in range_groups(model).items():
        for n in names:
            x = obs.t[n]
            std = (x - x.mean(dim=(0, 2, 3), keepdim=True)).pow(2).mean().add(1e-6).sqrt()
            terms.append(torch.relu(x.abs() / std - k).pow(2).mean())
    return torch.stack(terms).mean()


def differentiable_scales(model, obs, values, g):
    """Scales with the given values whose gradient (times g) reaches the current batch's max of
    each point in the fp32 graph: max calibration, made learnable (the max element moves)."""
    out = {}
    for point, names in range_groups(model).items():
        bm = torch.stack([obs.t[n].abs().amax() for n in names]).amax()
        v = values[point]
        out[point] = v + g * v * (bm / bm.detach() - 1.0)
    out["input"] = values["input"]
    return out


def scales_from_max(point_max):
    return {k: v / 127.0 for k, v in point_max.items()}


def forward(model, x, scales=None, obs=None, exact=True, fake=None):
    """MSRN on x (N, 3, H, W), pixel values 0..255.

    scales None: the fp32 graph (identical to MSRN.forward); obs (an Observer) records maxima.
    scales {point: s}: the int8 graph of docs/INT8.md, fake-quantized (returns the u8 image as floats).
    fake {observed tensor name: (scale, clamp)}, fp32 graph only: those tensors are rounded to
    their int8 grid (x = clamp(round(x / s)) s) and the rest stays fp32 (`budget`).
    """
    q = scales is not None
    s = scales or {}
    fake = fake or {}

    def fq(name, y):
        if name not in fake:
            return y
        sc, (lo, hi) = fake[name]
        return torch.clamp(round_half_away(y / sc), lo, hi) * sc

    def conv(mod, inp, s_in, s_out, clamp, relu=False, name=None):
        if q:
            return qconv(mod, inp, s_in, s_out, clamp, exact)
        y = mod(inp)
        if relu:
            y = torch.relu(y)
        if obs is not None and name is not None:
            obs.add(name, y)
        return fq(name, y)

    x = conv(model.sub_mean, x, 1.0, s.get("input"), LINEAR, name="input")
    head = conv(model.head[0], x, s.get("input"), s.get("features"), LINEAR, name="head")
    x = head
    outs = []
    for b, blk in enumerate(model.body):
        p = f"body.{b}"
        c31 = conv(blk.conv_3_1, x, s.get("features"), s.get(f"{p}.cat1"), RELU, True, f"{p}.conv_3_1")
        c51 = conv(blk.conv_5_1, x, s.get("features"), s.get(f"{p}.cat1"), RELU, True, f"{p}.conv_5_1")
        cat1 = torch.cat([c31, c51], 1)
        c32 = conv(blk.conv_3_2, cat1, s.get(f"{p}.cat1"), s.get(f"{p}.cat2"), RELU, True, f"{p}.conv_3_2")
        c52 = conv(blk.conv_5_2, cat1, s.get(f"{p}.cat1"), s.get(f"{p}.cat2"), RELU, True, f"{p}.conv_5_2")
        cat2 = torch.cat([c32, c52], 1)
        conf = conv(blk.confusion, cat2, s.get(f"{p}.cat2"), s.get(f"{p}.confusion"), LINEAR, name=f"{p}.confusion")
        if q:
            x = qadd(conf, x, s[f"{p}.confusion"], s["features"], exact)
        else:
            x = conf + x
            if obs is not None:
                obs.add(p, x)
            x = fq(p, x)
        outs.append(x)
    y = conv(model.tail[0], torch.cat(outs + [head], 1), s.get("features"), s.get("tail.0"), LINEAR, name="tail.0")
    y = conv(model.tail[1], y, s.get("tail.0"), s.get("tail.1"), LINEAR, name="tail.1")
    prev = "tail.1"
    for prefix, up_conv, shuffle in upsampler_prefixes(model):
        y = shuffle(conv(up_conv, y, s.get(prev), s.get(prefix), LINEAR))
        if obs is not None and not q:
            obs.add(prefix, y)
        if not q:
            y = fq(prefix, y)
        prev = prefix
    y = conv(model.tail[3], y, s.get(prev), s.get("tail.3"), LINEAR, name="tail.3")
    if q:
        return conv(model.add_mean, y, s["tail.3"], 1.0, IMAGE)
    return model.add_mean(y)


# ============================================================================ data and metrics

def load_rgb(path):
    return np.array(Image.open(path).convert("RGB"), dtype=np.uint8)  # writable: torch.from_numpy warns otherwise


def to_tensor(img_u8, device):
    return torch.from_numpy(np.ascontiguousarray(img_u8)).permute(2, 0, 1)[None].float().to(device)


def to_u8(t):
    return t[0].round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()


def y_round(rgb_u8):
    """BT.601 Y rounded to integers as msrn-ts `eval` does (MATLAB rgb2ycbcr on uint8)."""
    rgb = rgb_u8.astype(np.float64)
    return np.floor(16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0 + 0.5)


def psnr(a, b, peak=255.0):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def psnr_y(sr_u8, hr_u8, shave):
    ya, yb = y_round(sr_u8), y_round(hr_u8)
    if shave:
        ya, yb = ya[shave:-shave, shave:-shave], yb[shave:-shave, shave:-shave]
    return psnr(ya, yb)


class DevSet:
    """HR modcropped, LR by MATLAB bicubic 1/scale (what `msrn eval` does)."""

    def __init__(self, folder, scale):
        self.scale = scale
        self.names, self.hr, self.lr = [], [], []
        for path in sorted(glob.glob(os.path.join(folder, "*.png"))):
            hr = modcrop(load_rgb(path), scale)
            self.names.append(os.path.basename(path))
            self.hr.append(hr)
            self.lr.append(imresize(hr, 1.0 / scale))

    @torch.no_grad()
    def score(self, model, device, scales=None):
        return [psnr_y(to_u8(forward(model, to_tensor(lr, device), scales)), hr, self.scale)
                for lr, hr in zip(self.lr, self.hr)]


@torch.no_grad()
def calibrate(model, images, device, count=50):
    """Max calibration exactly as `msrn calibrate <dir>` (the first `count` images in name order,
    native size, fp32 graph): returns the Observer (per-channel maxima)."""
    obs = Observer()
    model.eval()
    for img in images[:count]:
        forward(model, to_tensor(img, device), None, obs)
    return obs


def load_calib(folder, count=50):
    paths = sorted(glob.glob(os.path.join(folder, "*.png")) + glob.glob(os.path.join(folder, "*.jpg")))
    if not paths:
        sys.exit(f"no calibration images in {folder} (run tools/make_calibration_set.py)")
    return [load_rgb(p) for p in paths[:count]]


def load_state_dict(path):
    sys.path.insert(0, HERE)
    from export_blob import unwrap_state_dict  # noqa: E402
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "model" in obj and "optimizer" in obj:
        obj = obj["model"]
    return unwrap_state_dict(obj)


def model_from_state_dict(sd, n_feats=16, n_blocks=2, scale=2):
    model = MSRN(n_feats, n_blocks, scale, rgb_range=255)
    model.load_state_dict(sd)
    return model


def model_from_blob(path):
    from blob_format import decode_container
    with open(path, "rb") as f:
        header, tensors = decode_container(f.read())
    cfg = header["config"]
    model = MSRN(cfg["nFeats"], cfg["nBlocks"], cfg["scale"], cfg["rgbRange"], rgb_mean=cfg["rgbMean"])
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    return model.eval()


def int8_blob_scales(path):
    """{quantization point: scale} of an int8 blob (`msrn calibrate`), as `forward` takes them
    (the u8 image in and out are fixed at scale 1 there)."""
    from blob_format import decode_container
    with open(path, "rb") as f:
        header, _ = decode_container(f.read())
    return {k: float(v) for k, v in header["scales"].items() if k not in ("image", "output")}


# ============================================================================ cross-layer equalization

@torch.no_grad()
def equalize(model, obs, power):
    """Function-preserving per-channel rescaling of every quantization point (in place).

    At a point whose channels have calibrated ranges r_c, channel c of every tensor that point
    stands for is multiplied by a_c = (max_c' r_c' / r_c) ^ power (the producers' output weights
    and biases by a_c, the consumers' input weights by 1 / a_c). ReLU is positively homogeneous
    and every other op between producer and consumer is linear, so the fp32 function is the same
    (up to float rounding), while small channels get more of the point's 255 int8 levels
    (power 1: every channel spans the whole range). The residual chain head -> body.0 -> body.1
    is one channel space (`features`), scaled as a whole. The upsampler's 4 pre-shuffle channels
    of one output channel share one factor (PixelShuffle interleaves them spatially)."""
    if power == 0:
        return
    n, B = model.n_feats, model.n_blocks
    ch = obs.ch

    def factors(r):
        r = r.double()
        a = torch.ones_like(r)
        live = r > 0
        a[live] = (r.max() / r[live]) ** power
        return a.float()

    def scale_out(mod, a):
        mod.weight.mul_(a.view(-1, 1, 1, 1))
        mod.bias.mul_(a)

    def scale_in(mod, a, start=0):
        mod.weight[:, start:start + a.numel()].div_(a.view(1, -1, 1, 1))

    # input (sub_mean output) -> head
    a = factors(ch["input"])
    scale_out(model.sub_mean, a)
    scale_in(model.head[0], a)
    # features: head, every block output (one channel space through the residual adds)
    r = torch.stack([ch["head"]] + [ch[f"body.{b}"] for b in range(B)]).amax(0)
    a = factors(r)
    scale_out(model.head[0], a)
    for b, blk in enumerate(model.body):
        scale_out(blk.confusion, a)
        scale_in(blk.conv_3_1, a)
        scale_in(blk.conv_5_1, a)
    for j in range(B + 1):
        scale_in(model.tail[0], a, j * n)
    # cat1, cat2 per block
    for b, blk in enumerate(model.body):
        p = f"body.{b}"
        a = factors(torch.cat([ch[f"{p}.conv_3_1"], ch[f"{p}.conv_5_1"]]))
        scale_out(blk.conv_3_1, a[:n])
        scale_out(blk.conv_5_1, a[n:])
        scale_in(blk.conv_3_2, a)
        scale_in(blk.conv_5_2, a)
        a = factors(torch.cat([ch[f"{p}.conv_3_2"], ch[f"{p}.conv_5_2"]]))
        scale_out(blk.conv_3_2, a[:2 * n])
        scale_out(blk.conv_5_2, a[2 * n:])
        scale_in(blk.confusion, a)
        # confusion output: its own point, but it is added to the block input channel by channel
        # (same channel space as features), so it cannot be rescaled independently.
    # tail.0 -> tail.1 -> upsampler -> tail.3 -> add_mean
    a = factors(ch["tail.0"])
    scale_out(model.tail[0], a)
    scale_in(model.tail[1], a)
    a = factors(ch["tail.1"])
    scale_out(model.tail[1], a)
    ups = upsampler_prefixes(model)
    for i, (prefix, up_conv, shuffle) in enumerate(ups):
        scale_in(up_conv, a)
        r2 = shuffle.upscale_factor ** 2
        a = factors(ch[prefix])  # post-shuffle channels
        scale_out(up_conv, a.repeat_interleave(r2))
    scale_in(model.tail[3], a)
    a = factors(ch["tail.3"])
    scale_out(model.tail[3], a)
    scale_in(model.add_mean, a)


# ============================================================================ rounding nudges

def conv_layers(model):
    """[(name, conv)] in graph order (docs/INT8.md section 5)."""
    out = [("sub_mean", model.sub_mean), ("head.0", model.head[0])]
    for b, blk in enumerate(model.body):
        out += [(f"body.{b}.{n}", getattr(blk, n)) for n in ("conv_3_1", "conv_5_1", "conv_3_2", "conv_5_2", "confusion")]
    out += [("tail.0", model.tail[0]), ("tail.1", model.tail[1])]
    out += [(p, c) for p, c, _ in upsampler_prefixes(model)]
    out += [("tail.3", model.tail[3]), ("add_mean", model.add_mean)]
    return out


@torch.no_grad()
def input_moments(model, images, device, pixels=20000, seed=0):
    """E[u u^T] of every conv's unfolded input patches u (Cin K K), fp32 graph, over `images`
    (at most `pixels` random positions per image and layer)."""
    gen = torch.Generator().manual_seed(seed)
    mom, count, hooks = {}, {}, []

    def hook(name, k):
        def fn(mod, inp, out):
            cols = F.unfold(inp[0].double(), k, padding=k // 2)[0]  # (Cin K K, HW)
            if cols.shape[1] > pixels:
                cols = cols[:, torch.randperm(cols.shape[1], generator=gen)[:pixels].to(cols.device)]
            mom[name] = mom.get(name, 0) + cols @ cols.T
            count[name] = count.get(name, 0) + cols.shape[1]
        return fn
    for name, conv in conv_layers(model):
        hooks.append(conv.register_forward_hook(hook(name, conv.kernel_size[0])))
    model.eval()
    try:
        for img in images:
            model(to_tensor(img, device))
    finally:
        for h in hooks:
            h.remove()
    return {k: (v / count[k]).cpu() for k, v in mom.items()}


@torch.no_grad()
def nudge_rounding(model, moments, tau=0.1, margin=0.02, compensate=300):
    """AdaRound-like choice of the int8 rounding of every conv weight, realised by moving the
    fp32 weights only inside their int8 cells (docs/INT8.md section 3: wq = round(w / s_w)).

    For each output channel with fp32 weights w (in int8 steps t = w / s_w) and the second moment
    C = E[u u^T] of the conv's input patches:
    1. weights within `tau` steps of a rounding boundary may take the other side; a greedy search
       picks the sides q minimising the int8 error (q - t)^T C (q - t) of that channel;
    2. the fp32 weights t' are then chosen inside the cells of q (`margin` steps from their
       edges) to minimise the fp32 change (t' - t)^T C (t' - t) (projected gradient descent,
       `compensate` iterations): the other weights compensate the flipped ones.
    The largest weight of each channel (it sets s_w) is never moved. Returns {layer: flips}."""
    flipped = {}
    for name, conv in conv_layers(model):
        C = moments[name]
        w = conv.weight.detach().double().cpu()
        cout = w.shape[0]
        W = w.reshape(cout, -1)
        mx = W.abs().amax(1, keepdim=True)
        sw = torch.where(mx > 0, mx / 127.0, torch.ones_like(mx))
        T = W / sw
        Q = round_half_away(T)
        lo = torch.floor(T)
        top = T.abs() >= T.abs().amax(1, keepdim=True)  # the max of each channel: fixed
        near = ((T - lo - 0.5).abs() < tau) & ~top
        n_flip = 0
        diagC = torch.diagonal(C)
        for o in range(cout):
            cand = torch.nonzero(near[o]).flatten()
            if cand.numel() == 0:
                continue
            q, t = Q[o].clone(), T[o]
            d = q - t
            g = C @ d
            for _ in range(cand.numel()):
                other = torch.where(q[cand] == lo[o, cand], lo[o, cand] + 1, lo[o, cand])
                step = other - q[cand]
                gain = 2 * step * g[cand] + step * step * diagC[cand]
                k = int(torch.argmin(gain))
                if float(gain[k]) >= -1e-15:
                    break
                i = int(cand[k])
                q[i] += step[k]
                d[i] += step[k]
                g += step[k] * C[:, i]
            n_flip += int((q != Q[o]).sum())
            Q[o] = q
        # 2. fp32 weights inside the chosen cells, closest to the original in the C metric
        lo_b = torch.clamp(Q - 0.5 + margin, min=-127.0)
        hi_b = torch.clamp(Q + 0.5 - margin, max=127.0)
        lo_b = torch.where(top, T, lo_b)
        hi_b = torch.where(top, T, hi_b)
        X = torch.minimum(torch.maximum(T, lo_b), hi_b)  # start: the nearest point of each cell
        L = float(torch.linalg.eigvalsh(C).max()) if C.numel() else 1.0
        for _ in range(compensate if L > 0 else 0):
            X = torch.minimum(torch.maximum(X - ((X - T) @ C) / L, lo_b), hi_b)
        assert torch.equal(round_half_away(X), Q), name
        conv.weight.copy_((X * sw).reshape(w.shape).to(conv.weight.dtype).to(conv.weight.device))
        flipped[name] = n_flip
    return flipped


# ============================================================================ commands

def pick_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def eval_model(model, dev, calib_imgs, device):
    """(fp32 per-image, int8 sim per-image, point maxima, observer) with max calibration on calib_imgs."""
    model.eval()
    obs = calibrate(model, calib_imgs, device)
    pm = obs.point_max(model)
    f = dev.score(model, device)
    q = dev.score(model, device, scales_from_max(pm))
    return f, q, pm, obs


def cmd_evaluate(a):
    device = pick_device(a.device)
    model = model_from_state_dict(load_state_dict(a.weights)).to(device)
    calib_imgs = load_calib(a.calib)
    dev = DevSet(a.dev, 2)
    t = time.time()
    for p in a.equalize:
        m = model_from_state_dict(load_state_dict(a.weights)).to(device)
        if p:
            equalize(m, calibrate(m, calib_imgs, device), p)
        if a.nudge:
            flips = nudge_rounding(m, input_moments(m, calib_imgs[::5], device), a.nudge)
            print(f"nudged roundings (tau {a.nudge}): {flips}")
        f, q, pm, _ = eval_model(m, dev, calib_imgs, device)
        print(f"equalize {p}: fp32 {np.mean(f):.3f}  int8 sim {np.mean(q):.3f}  delta {np.mean(q) - np.mean(f):+.3f}  "
              f"features range {pm['features']:.1f} ({time.time() - t:.0f} s)")
        for n, x, y in zip(dev.names, f, q):
            print(f"    {n:28s} {x:.3f} {y:.3f} {y - x:+.3f}")
        if a.save and p == a.equalize[-1]:
            torch.save(m.state_dict(), a.save)
            print(f"wrote {a.save}")


def cmd_ship(a):
    """fp32 checkpoint -> the two shipped blobs, in one deterministic command (CPU, 1 thread):
    cross-layer equalization (--equalize), rounding nudges (--nudge), the fine-tuned state_dict
    (--out), tools/export_blob.py (--export) and `msrn calibrate` (--int8), the card's recipe
    (max, the first 50 calibration images). Then scores fp32 and the int8 simulation on dev."""
    device = torch.device("cpu")
    model = model_from_state_dict(load_state_dict(a.init)).to(device)
    calib_imgs = load_calib(a.calib)
    t = time.time()
    if a.equalize:
        equalize(model, calibrate(model, calib_imgs, device), a.equalize)
        log(f"cross-layer equalization, power {a.equalize}")
    if a.nudge:
        flips = nudge_rounding(model, input_moments(model, calib_imgs[::5], device), a.nudge)
        log(f"rounding nudges (tau {a.nudge} int8 steps): {sum(flips.values())} weights flipped {flips}")
    T.atomic_save(model.state_dict(), a.out)
    log(f"wrote {a.out} ({time.time() - t:.0f} s)")
    subprocess.run([sys.executable, os.path.join(HERE, "export_blob.py"), a.out, a.export], check=True)
    subprocess.run(["npx", "msrn", "calibrate", a.calib, "-o", a.int8, "--weights", a.export,
                    "--threads", "1"], cwd=ROOT, check=True)
    # the blob must hold the simulated model: same weights, and the same max-calibrated scales
    exported = model_from_blob(a.export)
    blob_scales = int8_blob_scales(a.int8)
    pm = calibrate(exported, calib_imgs, device).point_max(exported)
    for k, v in scales_from_max(pm).items():
        if not math.isclose(v, blob_scales[k], rel_tol=1e-5):
            sys.exit(f"scale {k}: msrn calibrate {blob_scales[k]} vs simulation {v}")
    dev = DevSet(a.dev, 2)
    f = dev.score(exported, device)
    q = dev.score(exported, device, blob_scales)
    log(f"dev (u8 Y): fp32 {np.mean(f):.3f}  int8 sim {np.mean(q):.3f}  delta {np.mean(q) - np.mean(f):+.3f}  "
        f"worst image {min(y - x for x, y in zip(f, q)):+.3f}")
    for n, x, y in zip(dev.names, f, q):
        print(f"    {n:28s} {x:.3f} {y:.3f} {y - x:+.3f}")


def psnr_y_float(a_u8, b_u8, shave):
    """Y-PSNR in MSRN's float luma (`msrn eval`'s default), as tools/train.py's evals score."""
    return T.psnr_y(a_u8, b_u8, shave)


def quantize_weights_per_channel(model):
    """Every conv weight rounded to its per-output-channel int8 grid (max / 127), in place."""
    with torch.no_grad():
        for _, mod in conv_layers(model):
            w = mod.weight
            sw = (w.abs().amax(dim=(1, 2, 3), keepdim=True) / 127.0).clamp_min(1e-30)
            w.copy_(torch.clamp(round_half_away(w / sw), -127, 127) * sw)


def fake_quant_spec(model, scales, points=None):
    """`forward`'s `fake` argument for the given quantization points (default: all of them):
    every observed tensor of each point, with the point's scale and clamp (the cats hold ReLU
    outputs, 0..127; the rest are symmetric)."""
    groups = {"input": ["input"], **range_groups(model)}
    spec = {}
    for point in points or quant_points(model):
        clamp = RELU if point.endswith((".cat1", ".cat2")) else LINEAR
        spec.update({name: (scales[point], clamp) for name in groups[point]})
    return spec


def added_noise_delta(p_fp32, p_between):
    """The PSNR change expected when noise at p_between dB (int8 output against fp32 output) adds,
    uncorrelated, to the fp32 error at p_fp32 dB (both against the same peak): the MSEs add."""
    return -10.0 * math.log10(1.0 + 10.0 ** ((p_fp32 - p_between) / 10.0))


def cmd_budget(a):
    """What each quantization point costs alone: the fp32 graph with only that point's tensors
    rounded to their int8 grid (scales from the card's max calibration, or the int8 blob's), then
    weights alone, all activations, and the exact integer graph. Y-PSNR in MSRN's float luma."""
    device = pick_device(a.device)
    if a.weights.endswith(".bin"):
        model = model_from_blob(a.weights)
    else:
        model = model_from_state_dict(load_state_dict(a.weights))
    model = model.to(device).eval()
    dev = DevSet(a.dev, 2)
    if a.int8:
        scales = int8_blob_scales(a.int8)
    else:
        scales = scales_from_max(calibrate(model, load_calib(a.calib), device).point_max(model))
    @torch.no_grad()
    def outputs(m, **kw):
        return [to_u8(forward(m, to_tensor(lr, device), **kw)) for lr in dev.lr]

    ref = outputs(model)
    fp32 = [psnr_y_float(o, hr, 2) for o, hr in zip(ref, dev.hr)]

    def row(label, outs):
        p = [psnr_y_float(o, hr, 2) for o, hr in zip(outs, dev.hr)]
        between = [psnr_y_float(o, r, 2) for o, r in zip(outs, ref)]
        d = np.array(p) - np.array(fp32)
        worst = int(np.argmin(d))
        return {"what": label, "delta": float(d.mean()), "worst": dev.names[worst], "worst_delta": float(d[worst]),
                "vs_fp32": float(np.mean([min(b, 99.0) for b in between])), "per_image": p, "between": between}

    rows = []
    for point in quant_points(model):
        rows.append(row(f"{point} ({scales[point]:.4g})", outputs(model, fake=fake_quant_spec(model, scales, [point]))))
    wq = copy.deepcopy(model)
    quantize_weights_per_channel(wq)
    rows.append(row("weights (per channel)", outputs(wq)))
    every = fake_quant_spec(model, scales)
    rows.append(row("all activations, fp32 weights", outputs(model, fake=every)))
    rows.append(row("weights + all activations", outputs(wq, fake=every)))
    full = row("int8 graph (exact integer path)", outputs(model, scales=scales))
    rows.append(full)

    print(f"dev fp32 {np.mean(fp32):.3f} dB (Y, float luma, shave 2); one quantization point at a time:")
    print(f"{'quantized (scale)':34s} {'dev delta':>9s} {'worst image':>26s} {'its delta':>9s} {'vs fp32 dB':>10s}")
    for r in rows:
        print(f"{r['what']:34s} {r['delta']:+9.3f} {r['worst']:>26s} {r['worst_delta']:+9.3f} {r['vs_fp32']:10.2f}")
    print("\nint8 graph per image: fp32, int8, delta, int8 output vs fp32 output (dB), the delta that noise")
    print("at that level predicts if it adds to the fp32 error uncorrelated, and the level <= 0.10 dB would need:")
    for n, f, q, b in zip(dev.names, fp32, full["per_image"], full["between"]):
        need = f - 10.0 * math.log10(10.0 ** 0.01 - 1.0)
        print(f"    {n:28s} {f:7.3f} {q:7.3f} {q - f:+7.3f} {b:7.2f} {added_noise_delta(f, b):+7.3f} {need:7.2f}")
    if a.json:
        import json
        with open(a.json, "w") as fh:
            json.dump({"fp32": fp32, "names": dev.names, "rows": rows}, fh, indent=1)


def cmd_simcheck(a):
    """Fake-quant simulation (with the int8 blob's own scales) vs `msrn upscale --precision int8`."""
    import json
    device = torch.device("cpu")
    model = model_from_blob(a.fp32)
    scales = int8_blob_scales(a.int8)
    paths = sorted(glob.glob(os.path.join(a.images, "*.png")))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lr_dir, out_dir = os.path.join(tmp, "lr"), os.path.join(tmp, "out")
        os.makedirs(lr_dir)
        os.makedirs(out_dir)
        sims = {}
        for p in paths:
            lr = imresize(modcrop(load_rgb(p), 2), 0.5)
            name = os.path.basename(p)
            Image.fromarray(lr).save(os.path.join(lr_dir, name))
            with torch.no_grad():
                sims[name] = to_u8(forward(model, to_tensor(lr, device), scales))
        cmd = ["npx", "msrn", "upscale", lr_dir, "-o", out_dir, "--precision", "int8", "--weights", a.int8,
               "--threads", "1", "--quiet"]
        subprocess.run(cmd, cwd=ROOT, check=True)
        for name in sorted(sims):
            real = load_rgb(os.path.join(out_dir, name))
            sim = sims[name]
            diff = np.abs(real.astype(int) - sim.astype(int))
            rows.append({"image": name, "psnr_rgb": psnr(real, sim), "psnr_y": psnr(y_round(real), y_round(sim)),
                         "max_diff": int(diff.max()), "differing": float(np.mean(diff > 0))})
    print("fake-quant simulation vs msrn upscale --precision int8 (PSNR between them, all pixels)")
    print(f"{'image':28s} {'RGB dB':>8s} {'Y dB':>8s} {'max':>4s} {'differ':>8s}")
    for r in rows:
        print(f"{r['image']:28s} {r['psnr_rgb']:8.3f} {r['psnr_y']:8.3f} {r['max_diff']:4d} {100 * r['differing']:7.3f}%")
    print(f"{'mean':28s} {np.mean([r['psnr_rgb'] for r in rows]):8.3f} {np.mean([r['psnr_y'] for r in rows]):8.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


def cmd_train(a):
    device = pick_device(a.device)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    random.seed(a.seed)
    sd = load_state_dict(a.init)
    model = model_from_state_dict(sd).to(device)
    calib_imgs = load_calib(a.calib)
    dev = DevSet(a.dev, 2)
    sched = {"lr": a.lr, "min_lr": a.min_lr, "warmup": a.warmup, "total_steps": a.steps, "start": 0}
    freeze_step = int(round(a.freeze * a.steps))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999))
    state = {"step": 0, "elapsed": 0.0, "evals": [], "best": None, "frozen": None, "window": [],
             "min_fp32": None}
    ckpt_path = a.ckpt or (a.out + ".ckpt")
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        torch.set_rng_state(ck["rng"]["torch"])
        rng.bit_generator.state = ck["rng"]["numpy"]
        random.setstate(ck["rng"]["python"])
        if device.type == "cuda" and ck["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(ck["rng"]["cuda"])
        log(f"resumed {ckpt_path} at step {state['step']}")
    elif a.equalize:
        eq_obs = calibrate(model, calib_imgs, device)
        equalize(model, eq_obs, a.equalize)
        log(f"cross-layer equalization, power {a.equalize}")
    window = deque(state["window"], maxlen=a.window)
    log(f"device {device}, threads {torch.get_num_threads()}, {a.steps} steps, freeze at {freeze_step}, "
        f"fp32 weight {a.fp32_weight}, schedule {sched}")
    sampler = T.PatchSampler(T.list_pngs(os.path.join(a.data, "train")), 2, a.patch)
    run_t0 = time.time()
    elapsed0 = state["elapsed"]

    def elapsed():
        return elapsed0 + time.time() - run_t0

    stop = {"sig": None}

    def on_signal(signum, _frame):
        stop["sig"] = signum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def save():
        state["elapsed"] = elapsed()
        state["window"] = list(window)
        T.atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                       "args": {k: v for k, v in vars(a).items() if k != "fn"},
                       "rng": {"torch": torch.get_rng_state(), "numpy": rng.bit_generator.state,
                               "python": random.getstate(),
                               "cuda": torch.cuda.get_rng_state() if device.type == "cuda" else None}},
                      ckpt_path)

    def evaluate():
        t = time.time()
        f, q, pm, _ = eval_model(model, dev, calib_imgs, device)
        model.train()
        rec = {"step": state["step"], "elapsed_s": round(elapsed(), 1), "fp32": float(np.mean(f)),
               "int8": float(np.mean(q)), "fp32_per_image": [round(v, 3) for v in f],
               "int8_per_image": [round(v, 3) for v in q], "features_range": pm["features"],
               "train_loss": state.get("last_loss")}
        if state["min_fp32"] is None:
            state["min_fp32"] = rec["fp32"] if a.min_fp32 is None else a.min_fp32
        ok = rec["fp32"] >= state["min_fp32"] - 1e-9
        tag = ""
        if ok and (state["best"] is None or rec["int8"] > state["best"]["int8"]):
            state["best"] = {k: rec[k] for k in ("step", "fp32", "int8")}
            T.atomic_save(model.state_dict(), a.out)
            tag = " [best]"
        if state.get("best_any") is None or rec["int8"] > state["best_any"]["int8"]:
            # the best int8 whatever its fp32 (for the record; --out keeps the fp32 constraint)
            state["best_any"] = {k: rec[k] for k in ("step", "fp32", "int8")}
            T.atomic_save(model.state_dict(), os.path.splitext(a.out)[0] + ".int8best.pt")
        state["evals"].append(rec)
        worst = min(y - x for x, y in zip(f, q))
        log(f"eval step {state['step']}: dev fp32 {rec['fp32']:.3f} int8 {rec['int8']:.3f} "
            f"delta {rec['int8'] - rec['fp32']:+.3f} (worst image {worst:+.3f}), features range "
            f"{pm['features']:.1f}{'' if ok else ' (fp32 below ' + format(state['min_fp32'], '.3f') + ')'}{tag} "
            f"({time.time() - t:.0f} s)")
        return pm

    if state["step"] == 0 and not state["evals"]:
        pm = evaluate()
        window.append(pm)  # seed the observer with the calibration set's maxima
    model.train()
    loss_sum, loss_n, t_log, pen_sum = 0.0, 0, time.time(), 0.0
    end = a.steps if not a.max_steps else min(a.steps, a.max_steps)
    while state["step"] < end and stop["sig"] is None:
        step = state["step"]
        lr_now = T.lr_at(step, sched)
        for g in opt.param_groups:
            g["lr"] = lr_now
        if step >= freeze_step and state["frozen"] is None:
            pm = calibrate(model, calib_imgs, device).point_max(model)
            model.train()
            state["frozen"] = scales_from_max(pm)
            log(f"step {step}: scales frozen at a max calibration on {a.calib}")
        lr_b, hr_b = sampler.batch(rng, a.batch)
        lr_b, hr_b = lr_b.to(device), hr_b.to(device)
        obs = Observer(keep=a.range_penalty > 0 or a.peak_penalty > 0 or a.scale_grad > 0)
        out32 = forward(model, lr_b, None, obs)
        if state["frozen"] is None:
            window.append(obs.point_max(model))
            keys = window[-1].keys()
            scales = {k: max(w.get(k, 0.0) for w in window) / 127.0 for k in keys}
        else:
            scales = state["frozen"]
        if a.scale_grad > 0:
            scales = differentiable_scales(model, obs, scales, a.scale_grad)
        loss32 = F.l1_loss(out32, hr_b)
        if a.no_quant:  # plain fp32 fine-tuning (for measuring training changes alone)
            loss8 = loss32
            loss = loss32
        else:
            out8 = forward(model, lr_b, scales, exact=a.exact)
            loss8 = F.l1_loss(out8, hr_b)
            w32 = a.fp32_weight if a.fp32_weight_end is None else (
                a.fp32_weight + (a.fp32_weight_end - a.fp32_weight) * step / max(1, a.steps - 1))
            loss = loss8 + w32 * loss32
        if a.range_penalty > 0:
            pen = range_penalty(model, obs)
            loss = loss + a.range_penalty * pen
            pen_sum += pen.item()
        if a.peak_penalty > 0:
            pen = peak_penalty(model, obs, a.peak_k)
            loss = loss + a.peak_penalty * pen
            pen_sum += pen.item()
        opt.zero_grad(set_to_none=True)
        if torch.isfinite(loss):
            loss.backward()
            opt.step()
            loss_sum += loss8.item()
            loss_n += 1
        state["step"] = step = step + 1
        if step % a.log_every == 0:
            state["last_loss"] = loss_sum / max(1, loss_n)
            log(f"step {step}/{a.steps} {'fp32' if a.no_quant else 'int8-sim'} l1 {state['last_loss']:.4f} "
                + (f"penalty {pen_sum / max(1, loss_n):.4f} " if a.range_penalty > 0 or a.peak_penalty > 0 else "")
                + f"lr {lr_now:.2e} "
                f"{(time.time() - t_log) / a.log_every:.3f} s/step elapsed {elapsed() / 3600:.2f} h")
            loss_sum, loss_n, t_log, pen_sum = 0.0, 0, time.time(), 0.0
        if step % a.eval_every == 0 or step == a.steps:
            evaluate()
        if step % a.save_every == 0 or step == a.steps:
            save()
    if stop["sig"] is not None or state["step"] < a.steps:
        save()
        log(f"stopped at step {state['step']} (signal {stop['sig']}): checkpoint saved, --resume continues")
        return
    log(f"done: {state['step']} steps, {elapsed() / 3600:.2f} h; best {state['best']}")
    if a.export:
        if state["best"] is None:
            sys.exit("no eval kept the fp32 dev PSNR: nothing to export")
        subprocess.run([sys.executable, os.path.join(HERE, "export_blob.py"), a.out, a.export], check=True)
        if a.int8:
            subprocess.run(["npx", "msrn", "calibrate", a.calib, "-o", a.int8, "--weights", a.export,
                            "--threads", "1"], cwd=ROOT, check=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(s):
        s.add_argument("--threads", type=int, default=1)
        s.add_argument("--device", default="auto", help="auto | cpu | cuda")
        s.add_argument("--calib", default=os.path.join(ROOT, "data", "calib"))
        s.add_argument("--dev", default=os.path.join(ROOT, "data", "dev"))

    t = sub.add_parser("train", help="QAT fine-tuning: fp32 checkpoint -> fine-tuned fp32 state_dict")
    common(t)
    t.add_argument("--init", required=True, help="fp32 state_dict or tools/train.py checkpoint")
    t.add_argument("--out", required=True, help="best fine-tuned state_dict (.pt)")
    t.add_argument("--ckpt", help="resumable training checkpoint (default: <out>.ckpt)")
    t.add_argument("--resume", action="store_true")
    t.add_argument("--export", help="after training: tools/export_blob.py of --out to this fp32 blob")
    t.add_argument("--int8", help="after --export: `msrn calibrate <calib>` of it to this int8 blob")
    t.add_argument("--data", default=os.path.join(ROOT, "data"))
    t.add_argument("--steps", type=int, default=12000)
    t.add_argument("--max-steps", type=int, default=0, help="stop this run at this global step (resume later)")
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--min-lr", type=float, default=1e-6)
    t.add_argument("--warmup", type=int, default=200)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--patch", type=int, default=48)
    t.add_argument("--fp32-weight", type=float, default=1.0, help="weight of the fp32 L1 term")
    t.add_argument("--fp32-weight-end", type=float,
                   help="ramp the fp32 term's weight linearly to this at the last step (default: constant)")
    t.add_argument("--window", type=int, default=200, help="running-max window of the observer, in steps")
    t.add_argument("--freeze", type=float, default=0.75, help="freeze the scales from this fraction of the steps")
    t.add_argument("--equalize", type=float, default=0.0, help="cross-layer equalization power before training")
    t.add_argument("--min-fp32", type=float, help="fp32 dev PSNR a kept model needs (default: the start's)")
    t.add_argument("--eval-every", type=int, default=500)
    t.add_argument("--save-every", type=int, default=250)
    t.add_argument("--log-every", type=int, default=50)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--range-penalty", type=float, default=0.0,
                   help="weight of `range_penalty` (activation max over spread, log scale)")
    t.add_argument("--peak-penalty", type=float, default=0.0, help="weight of `peak_penalty`")
    t.add_argument("--peak-k", type=float, default=8.0, help="peak_penalty's threshold in standard deviations")
    t.add_argument("--scale-grad", type=float, default=0.0,
                   help="pass the loss's gradient w.r.t. each activation scale (times this) to the max it comes from")
    t.add_argument("--no-quant", action="store_true",
                   help="no fake-quant term: plain fp32 fine-tuning (with --range-penalty: the root-cause experiment)")
    t.add_argument("--exact", action="store_true",
                   help="train on the exact integer emulation (about 4x slower on CPU) instead of single rounding")
    t.set_defaults(fn=cmd_train)

    e = sub.add_parser("evaluate", help="fp32 and int8-sim dev PSNR (max calibration on --calib)")
    common(e)
    e.add_argument("weights")
    e.add_argument("--equalize", type=float, nargs="+", default=[0.0])
    e.add_argument("--save", help="write the (last) equalized state_dict here")
    e.add_argument("--nudge", type=float, default=0.0, help="nudge_rounding with this tau (int8 steps)")
    e.set_defaults(fn=cmd_evaluate)

    s = sub.add_parser("ship", help="fp32 checkpoint -> equalize + rounding nudges -> the fp32 and int8 blobs")
    common(s)
    s.add_argument("--init", required=True, help="fp32 state_dict or tools/train.py checkpoint")
    s.add_argument("--equalize", type=float, default=1.0, help="cross-layer equalization power (0: none)")
    s.add_argument("--nudge", type=float, default=0.1, help="nudge_rounding's tau in int8 steps (0: none)")
    s.add_argument("--out", default=os.path.join(ROOT, "weights", "checkpoints", "msrn_x2.int8friendly.pt"))
    s.add_argument("--export", default=os.path.join(ROOT, "weights", "msrn_x2.bin"))
    s.add_argument("--int8", default=os.path.join(ROOT, "weights", "msrn_x2.int8.bin"))
    s.set_defaults(fn=cmd_ship)

    b = sub.add_parser("budget", help="what each quantization point costs alone (fp32 graph, one point rounded)")
    common(b)
    b.add_argument("weights", help="fp32 blob (.bin), state_dict or tools/train.py checkpoint")
    b.add_argument("--int8", help="take the scales from this int8 blob (default: max calibration on --calib)")
    b.add_argument("--json", help="also write the rows here")
    b.set_defaults(fn=cmd_budget)

    c = sub.add_parser("simcheck", help="simulation vs `msrn upscale --precision int8` on LR of the images")
    c.add_argument("fp32")
    c.add_argument("int8")
    c.add_argument("images")
    c.add_argument("--json")
    c.add_argument("--threads", type=int, default=1)
    c.set_defaults(fn=cmd_simcheck)
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    args.fn(args)
