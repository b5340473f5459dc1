#!/usr/bin/python3
"""Independent Python reference of the int8 path of docs/INT8.md ("vacc max int8").

Written from the spec only (docs/INT8.md, weights/FORMAT.md), never from src/quant, so that the
TypeScript implementation and this one can be compared byte for byte.

    /usr/bin/python3 tools/int8_reference.py <model.int8.bin> <image.png> [--fp32 <fp32 blob>] [--out out.png]

Library:
  quantize_multiplier, saturating_rounding_doubling_high_mul, rounding_divide_by_pot,
  multiply_by_quantized_multiplier        exact scalar primitives on Python ints (section 2)
  *_np                                    the same, vectorised on int64 numpy arrays
  load_int8_blob(path)                    parse + validate an msrn-int8 blob (sections 5, 6)
  run_int8(model, image_u8_hwc)           the integer graph of section 4 -> (u8 CHW, intermediates)
  verify_quantization(model, fp32_path)   recompute section 3 from fp32 weights + stored scales
  quantize_fp32(...), calibrate_torch(...), build_int8_blob(...)
                                          a Python-side calibrator (used by the self-tests and
                                          as a fallback by tools/make_int8_fixtures.py)

Choices where docs/INT8.md is silent (see the report / docstrings marked "SPEC CHOICE"):
  * tail.0 has no clamp written in section 4; it has no ReLU, so [-127, 127] is used.
  * `scales` must hold exactly the points input, features, body.b.{cat1,cat2,confusion}, tail.0,
    tail.1, tail.2.{2k}, tail.3; "image" / "output" are tolerated only with the value 1.
  * fp32Checksum is the CRC-32 stored in the fp32 blob's trailer (= crc32 of every byte before
    it). The CRC-32 of the *whole* file is the constant 0x2144DF1C for every valid blob.
  * the int32 accumulator `acc = bq + sum` is required to fit int32 (an error otherwise).
  * per-conv tensor order inside the blob: weight, bias, multiplier, shift, weight_scale
    (the row order of the section-5 table); convs in graph order, body.b.add after its convs.
"""
import argparse
import math
import os
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from blob_format import decode_container, encode_container  # noqa: E402

KIND = "msrn-int8"
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1
ADD_LEFT_SHIFT = 20


class Int8FormatError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------
# Section 1/2: exact scalar primitives (Python ints, Python floats = IEEE float64)
# ---------------------------------------------------------------------------------------------

def round_half_away(x):
    """round(x), half away from zero, exact for every float64 (no x + 0.5 rounding trap)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot round {x}")
    a = abs(x)
    f = math.floor(a)
    r = int(f) + (1 if a - f >= 0.5 else 0)  # a - floor(a) is exact in float64
    return -r if x < 0 else r


def quantize_multiplier(M):
    """QuantizeMultiplier of section 2: returns (m, e) with M ~= m * 2^(e - 31)."""
    M = float(M)
    if not math.isfinite(M) or M < 0:
        raise ValueError(f"multiplier {M} is not a finite non-negative number")
    if M == 0:
        return 0, 0
    q, e = math.frexp(M)  # M = q * 2^e, 0.5 <= q < 1
    m = round_half_away(q * 2.0 ** 31)  # q * 2^31 is exact (power-of-two scaling)
    if m == 2 ** 31:
        m = 2 ** 30
        e += 1
    if e < -31:
        m, e = 0, 0
    if e > 30:
        raise ValueError(f"multiplier too large: {M}")
    return m, e


def saturate_int32(x):
    return min(max(x, INT32_MIN), INT32_MAX)


def _trunc_div_pot(v, n):
    """trunc(v / 2^n) on Python ints."""
    return v >> n if v >= 0 else -((-v) >> n)


def saturating_rounding_doubling_high_mul(a, b):
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    p = a * b
    nudge = 2 ** 30 if p >= 0 else 1 - 2 ** 30
    return _trunc_div_pot(p + nudge, 31)


def rounding_divide_by_pot(x, n):
    if not 0 <= n <= 31:
        raise ValueError(f"RoundingDivideByPOT exponent {n} outside 0..31")
    mask = (1 << n) - 1
    remainder = x & mask  # Python ints: two's complement semantics, = x mod 2^n
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> n) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x, m, e):
    left = max(e, 0)
    right = max(-e, 0)
    xs = saturate_int32(x * (1 << left))
    y = saturating_rounding_doubling_high_mul(xs, m)
    return rounding_divide_by_pot(y, right)


# Short aliases
srdhm = saturating_rounding_doubling_high_mul
rdbp = rounding_divide_by_pot
mbqm = multiply_by_quantized_multiplier


# ---------------------------------------------------------------------------------------------
# Vectorised versions (int64 numpy). numpy: & on negative int64 is two's complement, >> is
# arithmetic (floor); // floors, so trunc division is done by hand. Every intermediate below is
# bounded by 2^62 + 2^30 < 2^63 (tested against the scalar versions in test_int8_reference.py).
# ---------------------------------------------------------------------------------------------

def _i64(x):
    return np.asarray(x, dtype=np.int64)


def round_half_away_np(x):
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("cannot round non-finite values")
    a = np.abs(x)
    f = np.floor(a)
    r = f + (a - f >= 0.5)
    return np.where(x < 0, -r, r)


def saturating_rounding_doubling_high_mul_np(a, b):
    a, b = _i64(a), _i64(b)
    both_min = (a == INT32_MIN) & (b == INT32_MIN)
    p = a * b  # |p| <= 2^62 for int32 inputs
    v = p + np.where(p >= 0, np.int64(2 ** 30), np.int64(1 - 2 ** 30))
    q = np.where(v >= 0, v >> 31, -((-v) >> 31))
    return np.where(both_min, np.int64(INT32_MAX), q)


def rounding_divide_by_pot_np(x, n):
    x, n = _i64(x), _i64(n)
    if np.any(n < 0) or np.any(n > 31):
        raise ValueError("RoundingDivideByPOT exponent outside 0..31")
    mask = (np.int64(1) << n) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> n) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier_np(x, m, e):
    x, m, e = _i64(x), _i64(m), _i64(e)
    if np.any(x < INT32_MIN) or np.any(x > INT32_MAX):
        raise ValueError("MultiplyByQuantizedMultiplier input outside int32")
    left = np.maximum(e, 0)
    right = np.maximum(-e, 0)
    xs = np.clip(x << left, INT32_MIN, INT32_MAX)  # |x| <= 2^31, left <= 30: < 2^62
    return rounding_divide_by_pot_np(saturating_rounding_doubling_high_mul_np(xs, m), right)


# ---------------------------------------------------------------------------------------------
# Config and graph (section 4)
# ---------------------------------------------------------------------------------------------

def validate_config(config):
    """Same rules as the fp32 blob (weights/FORMAT.md)."""
    if not isinstance(config, dict):
        raise Int8FormatError("config is not an object")

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    n, b, s = config.get("nFeats"), config.get("nBlocks"), config.get("scale")
    if not is_int(n) or not 1 <= n <= 1024:
        raise Int8FormatError(f"config.nFeats {n!r} is not an integer in 1..1024")
    if not is_int(b) or not 1 <= b <= 128:
        raise Int8FormatError(f"config.nBlocks {b!r} is not an integer in 1..128")
    if not is_int(s) or s not in (2, 3, 4, 8):
        raise Int8FormatError(f"config.scale {s!r} is not one of 2, 3, 4, 8")
    if config.get("nColors") != 3 or not is_int(config.get("nColors")):
        raise Int8FormatError(f"config.nColors {config.get('nColors')!r} is not 3")
    rr = config.get("rgbRange")
    if not is_num(rr) or rr <= 0:
        raise Int8FormatError(f"config.rgbRange {rr!r} is not a positive number")
    mean = config.get("rgbMean")
    if not isinstance(mean, list) or len(mean) != 3 or not all(is_num(v) for v in mean):
        raise Int8FormatError(f"config.rgbMean {mean!r} is not three finite numbers")
    return config


def upsampler_stages(scale):
    """[(conv prefix, PixelShuffle factor)]"""
    if scale == 3:
        return [("tail.2.0", 3)]
    return [(f"tail.2.{2 * i}", 2) for i in range(int(math.log2(scale)))]


RELU = (0, 127)
LINEAR = (-127, 127)
IMAGE = (0, 255)


def conv_specs(config):
    """Every conv in graph order: dict(name, cin, cout, k, inp, out, clamp)."""
    n, B = config["nFeats"], config["nBlocks"]
    specs = []

    def conv(name, cin, cout, k, inp, out, clamp):
        specs.append(dict(name=name, cin=cin, cout=cout, k=k, inp=inp, out=out, clamp=clamp))

    conv("sub_mean", 3, 3, 1, "image", "input", LINEAR)
    conv("head.0", 3, n, 3, "input", "features", LINEAR)
    for b in range(B):
        p = f"body.{b}"
        conv(f"{p}.conv_3_1", n, n, 3, "features", f"{p}.cat1", RELU)
        conv(f"{p}.conv_5_1", n, n, 5, "features", f"{p}.cat1", RELU)
        conv(f"{p}.conv_3_2", 2 * n, 2 * n, 3, f"{p}.cat1", f"{p}.cat2", RELU)
        conv(f"{p}.conv_5_2", 2 * n, 2 * n, 5, f"{p}.cat1", f"{p}.cat2", RELU)
        conv(f"{p}.confusion", 4 * n, n, 1, f"{p}.cat2", f"{p}.confusion", LINEAR)
    # SPEC CHOICE: section 4 writes no clamp for tail.0; it has no ReLU -> [-127, 127].
    conv("tail.0", n * (B + 1), n, 1, "features", "tail.0", LINEAR)
    conv("tail.1", n, n, 3, "tail.0", "tail.1", LINEAR)
    prev = "tail.1"
    for prefix, r in upsampler_stages(config["scale"]):
        conv(prefix, n, r * r * n, 3, prev, prefix, LINEAR)
        prev = prefix
    conv("tail.3", n, 3, 3, prev, "tail.3", LINEAR)
    conv("add_mean", 3, 3, 1, "tail.3", "output", IMAGE)
    return specs


def quant_points(config):
    """Every quantization point that carries a calibrated scale (image and output are fixed at 1)."""
    pts = ["input", "features"]
    for b in range(config["nBlocks"]):
        pts += [f"body.{b}.cat1", f"body.{b}.cat2", f"body.{b}.confusion"]
    pts += ["tail.0", "tail.1"] + [p for p, _ in upsampler_stages(config["scale"])] + ["tail.3"]
    return pts


def expected_tensor_layout(config):
    """[(name, dtype, shape)] in blob order (section 5)."""
    out = []
    B = config["nBlocks"]
    for spec in conv_specs(config):
        c, cout, cin, k = spec["name"], spec["cout"], spec["cin"], spec["k"]
        out += [(f"{c}.weight", "i8", [cout, cin, k, k]), (f"{c}.bias", "i32", [cout]),
                (f"{c}.multiplier", "i32", [cout]), (f"{c}.shift", "i32", [cout]),
                (f"{c}.weight_scale", "f32", [cout])]
        for b in range(B):
            if c == f"body.{b}.confusion":
                out.append((f"body.{b}.add", "i32", [7]))
    return out


def observed_tensors(config):
    """The tensor names calibration records in maxAbs (section 4, last paragraph)."""
    names = ["input", "head"]
    for b in range(config["nBlocks"]):
        p = f"body.{b}"
        names += [f"{p}.conv_3_1", f"{p}.conv_5_1", f"{p}.cat1", f"{p}.conv_3_2", f"{p}.conv_5_2",
                  f"{p}.cat2", f"{p}.confusion", p]
    names += ["features", "tail.0", "tail.1"] + [p for p, _ in upsampler_stages(config["scale"])]
    names += ["tail.3", "output"]
    return names


# ---------------------------------------------------------------------------------------------
# Blob loading and validation (sections 5, 6)
# ---------------------------------------------------------------------------------------------

class Int8Model:
    def __init__(self, header, tensors, path=None):
        self.header = header
        self.config = header["config"]
        self.scales = dict(header["scales"])
        self.tensors = tensors
        self.path = path

    def scale(self, point):
        if point in ("image", "output"):
            return 1.0
        return float(self.scales[point])

    def conv(self, name):
        t = self.tensors
        return dict(weight=t[f"{name}.weight"].astype(np.int64), bias=t[f"{name}.bias"].astype(np.int64),
                    multiplier=t[f"{name}.multiplier"].astype(np.int64),
                    shift=t[f"{name}.shift"].astype(np.int64), weight_scale=t[f"{name}.weight_scale"])

    def add(self, b):
        return [int(v) for v in self.tensors[f"body.{b}.add"]]


def _finite_positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def parse_int8_blob(data, path=None):
    try:
        header, tensors = decode_container(data)
    except (ValueError, KeyError, TypeError) as error:
        raise Int8FormatError(f"malformed container: {error}") from None
    if header.get("kind") != KIND:
        raise Int8FormatError(f"blob kind {header.get('kind')!r}, expected {KIND!r}")
    config = validate_config(header.get("config"))
    cs = header.get("fp32Checksum")
    if not isinstance(cs, int) or isinstance(cs, bool) or not 0 <= cs <= 0xFFFFFFFF:
        raise Int8FormatError(f"fp32Checksum {cs!r} is not a u32")
    cal = header.get("calibration")
    if not isinstance(cal, dict) or cal.get("method") not in ("max", "percentile"):
        raise Int8FormatError(f"calibration {cal!r} is not {{method: 'max' | 'percentile', ...}}")
    if cal["method"] == "percentile" and not (
            isinstance(cal.get("percentile"), (int, float)) and 0 < cal["percentile"] <= 100
            and isinstance(cal.get("range"), dict)):
        raise Int8FormatError("percentile calibration needs a percentile in (0, 100] and a range record")
    if not isinstance(cal.get("images"), int) or cal["images"] < 1:
        raise Int8FormatError(f"calibration.images {cal.get('images')!r} is not a positive integer")
    size = cal.get("size")
    if size is not None and not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise Int8FormatError(f"calibration.size {size!r} is not [h, w] or null")
    if not isinstance(cal.get("maxAbs"), dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in cal["maxAbs"].values()):
        raise Int8FormatError("calibration.maxAbs is not an object of numbers")
    scales = header.get("scales")
    if not isinstance(scales, dict):
        raise Int8FormatError("scales is not an object")
    points = quant_points(config)
    for p in points:
        if p not in scales:
            raise Int8FormatError(f"scales lacks the point {p!r}")
        if not _finite_positive(scales[p]):
            raise Int8FormatError(f"scale of {p!r} is {scales[p]!r}: not positive and finite")
    for p, v in scales.items():
        if p in points:
            continue
        if p in ("image", "output") and v == 1:  # SPEC CHOICE: tolerated, must be 1
            continue
        raise Int8FormatError(f"unexpected scale {p!r} = {v!r}")
    layout = expected_tensor_layout(config)
    got = [(s["name"], s["dtype"], list(s["shape"])) for s in header["tensors"]]
    if [g[0] for g in got] != [e[0] for e in layout]:
        names_got, names_exp = [g[0] for g in got], [e[0] for e in layout]
        missing = [n for n in names_exp if n not in names_got]
        extra = [n for n in names_got if n not in names_exp]
        if missing or extra:
            raise Int8FormatError(f"tensor set differs: missing {missing[:5]}, unexpected {extra[:5]}")
        first = next(i for i, (a, b) in enumerate(zip(names_got, names_exp)) if a != b)
        raise Int8FormatError(f"tensor order differs at #{first}: {names_got[first]!r}, expected {names_exp[first]!r}")
    for (name, dt, shape), (_, edt, eshape) in zip(got, layout):
        if dt != edt:
            raise Int8FormatError(f"{name} has dtype {dt}, expected {edt}")
        if shape != eshape:
            raise Int8FormatError(f"{name} has shape {shape}, expected {eshape}")
    for spec in conv_specs(config):
        c = spec["name"]
        ws = tensors[f"{c}.weight_scale"]
        bad = np.nonzero(~(np.isfinite(ws) & (ws > 0)))[0]
        if bad.size:
            raise Int8FormatError(f"{c}.weight_scale[{bad[0]}] = {ws[bad[0]]}: not positive and finite")
        m = tensors[f"{c}.multiplier"].astype(np.int64)
        e = tensors[f"{c}.shift"].astype(np.int64)
        for i in range(spec["cout"]):
            _check_multiplier(f"{c} channel {i}", int(m[i]), int(e[i]))
    for b in range(config["nBlocks"]):
        add = [int(v) for v in tensors[f"body.{b}.add"]]
        if add[0] != ADD_LEFT_SHIFT:
            raise Int8FormatError(f"body.{b}.add left shift {add[0]}, expected {ADD_LEFT_SHIFT}")
        for j in range(3):
            _check_multiplier(f"body.{b}.add multiplier {j + 1}", add[1 + 2 * j], add[2 + 2 * j])
    return Int8Model(header, tensors, path)


def _check_multiplier(what, m, e):
    if not (2 ** 30 <= m < 2 ** 31 or (m == 0 and e == 0)):
        raise Int8FormatError(f"{what}: multiplier {m} outside [2^30, 2^31) (and not 0 with shift 0)")
    if not -31 <= e <= 30:
        raise Int8FormatError(f"{what}: shift {e} outside [-31, 30]")


def load_int8_blob(path):
    with open(path, "rb") as f:
        return parse_int8_blob(f.read(), path)


# ---------------------------------------------------------------------------------------------
# Section 4: the integer graph
# ---------------------------------------------------------------------------------------------

def _im2col(x, k):
    """x: int64 (Cin, H, W) -> (Cin*K*K, H*W), zero padding k // 2, order (ci, ky, kx)."""
    p = k // 2
    cin, h, w = x.shape
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))  # (Cin, H, W, K, K)
    return np.ascontiguousarray(win.transpose(0, 3, 4, 1, 2)).reshape(cin * k * k, h * w)


def conv_acc(x, wq, bq, backend="float64"):
    """acc[co] = bq[co] + sum wq[co, ci, ky, kx] * x[ci, y + ky - p, x + kx - p], exact, int64.

    backend "float64": one BLAS matmul in float64. Exact because every operand and every partial
    sum, in any summation order, is an integer of magnitude <= sum |w| |x| <= Cin*K*K*127*255,
    which is asserted < 2^53 (integers up to 2^53 are exact in float64; FMA changes nothing).
    backend "int64": numpy integer matmul (slow, used as the cross-check in the tests)."""
    cout, cin, k, _ = wq.shape
    _, h, w = x.shape
    cols = _im2col(x.astype(np.int64), k)
    wm = wq.reshape(cout, cin * k * k).astype(np.int64)
    if backend == "int64":
        s = wm @ cols
    else:
        bound = int(np.abs(wm).sum(axis=1).max(initial=0)) * int(np.abs(x).max(initial=0))
        if bound >= 2 ** 53:
            raise AssertionError("float64 conv would not be exact; use backend='int64'")
        s = (wm.astype(np.float64) @ cols.astype(np.float64)).astype(np.int64)
    return (s + bq.astype(np.int64)[:, None]).reshape(cout, h, w)


def conv_int8(model, name, x, clamp, backend="float64"):
    c = model.conv(name)
    acc = conv_acc(x, c["weight"], c["bias"], backend)
    if acc.size and (acc.min() < INT32_MIN or acc.max() > INT32_MAX):
        raise OverflowError(f"{name}: int32 accumulator overflow")  # SPEC CHOICE: an error
    y = multiply_by_quantized_multiplier_np(acc, c["multiplier"][:, None, None], c["shift"][:, None, None])
    return np.clip(y, clamp[0], clamp[1])


def residual_add(qa, qx, params):
    left, m1, e1, m2, e2, mo, eo = params
    v1 = multiply_by_quantized_multiplier_np(_i64(qa) * (1 << left), m1, e1)
    v2 = multiply_by_quantized_multiplier_np(_i64(qx) * (1 << left), m2, e2)
    return np.clip(multiply_by_quantized_multiplier_np(v1 + v2, mo, eo), -127, 127)


def pixel_shuffle(x, r):
    """PyTorch order: out[c, y*r + i, x*r + j] = in[c*r*r + i*r + j, y, x]."""
    crr, h, w = x.shape
    c = crr // (r * r)
    return x.reshape(c, r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(c, h * r, w * r)


def run_int8(model, image_u8_hwc, backend="float64"):
    """Returns (output u8 CHW as int64 array, {name: int64 CHW array}) per docs/INT8.md section 4."""
    img = np.asarray(image_u8_hwc)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be HxWx3, got {img.shape}")
    if img.dtype != np.uint8 and (img.min() < 0 or img.max() > 255):
        raise ValueError("image values must be 0..255")
    cfg = model.config
    B = cfg["nBlocks"]
    inter = {}
    x = img.transpose(2, 0, 1).astype(np.int64)
    q = conv_int8(model, "sub_mean", x, LINEAR, backend)
    inter["input"] = q
    head = conv_int8(model, "head.0", q, LINEAR, backend)
    inter["head"] = head
    x = head
    outs = []
    for b in range(B):
        p = f"body.{b}"
        c31 = conv_int8(model, f"{p}.conv_3_1", x, RELU, backend)
        c51 = conv_int8(model, f"{p}.conv_5_1", x, RELU, backend)
        cat1 = np.concatenate([c31, c51], 0)
        c32 = conv_int8(model, f"{p}.conv_3_2", cat1, RELU, backend)
        c52 = conv_int8(model, f"{p}.conv_5_2", cat1, RELU, backend)
        cat2 = np.concatenate([c32, c52], 0)
        conf = conv_int8(model, f"{p}.confusion", cat2, LINEAR, backend)
        x = residual_add(conf, x, model.add(b))
        inter[f"{p}.cat1"], inter[f"{p}.cat2"], inter[f"{p}.confusion"], inter[p] = cat1, cat2, conf, x
        outs.append(x)
    t = conv_int8(model, "tail.0", np.concatenate(outs + [head], 0), LINEAR, backend)
    inter["tail.0"] = t
    t = conv_int8(model, "tail.1", t, LINEAR, backend)
    inter["tail.1"] = t
    for prefix, r in upsampler_stages(cfg["scale"]):
        t = pixel_shuffle(conv_int8(model, prefix, t, LINEAR, backend), r)
        inter[prefix] = t
    t = conv_int8(model, "tail.3", t, LINEAR, backend)
    inter["tail.3"] = t
    out = conv_int8(model, "add_mean", t, IMAGE, backend)
    inter["output"] = out
    return out, inter


def intermediate_names(config):
    names = ["input", "head"]
    for b in range(config["nBlocks"]):
        names += [f"body.{b}.cat1", f"body.{b}.cat2", f"body.{b}.confusion", f"body.{b}"]
    names += ["tail.0", "tail.1"] + [p for p, _ in upsampler_stages(config["scale"])] + ["tail.3"]
    return names


# ---------------------------------------------------------------------------------------------
# Section 3: quantization from fp32 weights + scales
# ---------------------------------------------------------------------------------------------

def quantize_conv(w_f32, b_f32, s_in, s_out):
    """-> dict(weight i8 [Cout,Cin,K,K], bias int32, multiplier, shift, weight_scale f32) (section 3.3)."""
    w = np.asarray(w_f32, dtype=np.float32).astype(np.float64)
    b = np.asarray(b_f32, dtype=np.float32).astype(np.float64)
    s_in, s_out = float(s_in), float(s_out)
    cout = w.shape[0]
    sw = np.empty(cout, dtype=np.float64)
    for co in range(cout):
        mx = float(np.max(np.abs(w[co])))
        sw[co] = mx / 127.0 if mx != 0 else 1.0
    wq = np.clip(round_half_away_np(w / sw[:, None, None, None]), -127, 127).astype(np.int64)
    bq = np.empty(cout, dtype=np.int64)
    mult = np.empty(cout, dtype=np.int64)
    shift = np.empty(cout, dtype=np.int64)
    for co in range(cout):
        s_acc = s_in * float(sw[co])
        v = round_half_away(float(b[co]) / s_acc)
        if not INT32_MIN <= v <= INT32_MAX:
            raise OverflowError(f"quantized bias {v} outside int32")
        bq[co] = v
        mult[co], shift[co] = quantize_multiplier(s_acc / s_out)
    return dict(weight=wq, bias=bq, multiplier=mult, shift=shift, weight_scale=sw.astype(np.float32),
                weight_scale_f64=sw)


def quantize_add(s_c, s_f):
    """-> [20, m1, e1, m2, e2, mo, eo] (section 3.4)."""
    s_c, s_f = float(s_c), float(s_f)
    twice_max = 2.0 * max(s_c, s_f)
    m1, e1 = quantize_multiplier(s_c / twice_max)
    m2, e2 = quantize_multiplier(s_f / twice_max)
    mo, eo = quantize_multiplier(twice_max / (float(2 ** ADD_LEFT_SHIFT) * s_f))
    return [ADD_LEFT_SHIFT, m1, e1, m2, e2, mo, eo]


def scales_from_max_abs(config, max_abs):
    """s_P = maxAbs_P / 127; maxAbs must already hold the point maxima (features, cat1, cat2...)."""
    scales = {}
    for p in quant_points(config):
        v = float(max_abs[p]) / 127.0
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"scale of {p} is {v}: a tensor that is always 0 or non-finite")
        scales[p] = v
    return scales


def quantize_fp32(config, fp32_tensors, scales):
    """-> [(name, dtype, array)] in the section-5 layout."""
    s = dict(scales, image=1.0, output=1.0)
    out = []
    for spec in conv_specs(config):
        c = spec["name"]
        wname = f"{c}.weight"
        q = quantize_conv(fp32_tensors[wname], fp32_tensors[f"{c}.bias"], s[spec["inp"]], s[spec["out"]])
        out += [(f"{c}.weight", "i8", q["weight"]), (f"{c}.bias", "i32", q["bias"]),
                (f"{c}.multiplier", "i32", q["multiplier"]), (f"{c}.shift", "i32", q["shift"]),
                (f"{c}.weight_scale", "f32", q["weight_scale"])]
        if c.endswith(".confusion"):
            b = c.split(".")[1]
            out.append((f"body.{b}.add", "i32", np.array(quantize_add(s[f"body.{b}.confusion"], s["features"]),
                                                          dtype=np.int64)))
    return out


def fp32_checksum(fp32_bytes):
    """SPEC CHOICE: the CRC-32 the fp32 blob stores in its trailer (crc32 of all bytes before it)."""
    return zlib.crc32(fp32_bytes[:-4]) & 0xFFFFFFFF


def build_int8_blob(fp32_bytes, max_abs, images, size=None):
    """A Python calibrator's blob (section 5) from an fp32 blob and a calibration maxAbs record."""
    header, tensors = decode_container(fp32_bytes)
    if header.get("kind") != "msrn-fp32":
        raise ValueError(f"not an fp32 blob: {header.get('kind')!r}")
    config = validate_config(header["config"])
    scales = scales_from_max_abs(config, max_abs)
    extra = {"config": config, "fp32Checksum": fp32_checksum(fp32_bytes),
             "calibration": {"method": "max", "images": images, "size": size,
                             "maxAbs": {k: float(v) for k, v in max_abs.items()}},
             "scales": scales}
    return encode_container(KIND, extra, quantize_fp32(config, tensors, scales))


def verify_quantization(model, fp32_blob_path, verbose=False):
    """Recompute every quantized tensor from the fp32 weights and the blob's stored scales.

    Returns a list of mismatch strings (empty: bit exact)."""
    with open(fp32_blob_path, "rb") as f:
        fp32_bytes = f.read()
    problems = []
    fh, ft = decode_container(fp32_bytes)
    if fh.get("kind") != "msrn-fp32":
        return [f"{fp32_blob_path}: kind {fh.get('kind')!r}, not msrn-fp32"]
    if fh.get("config") != model.config:
        problems.append(f"config differs: int8 {model.config} vs fp32 {fh.get('config')}")
        return problems
    want = fp32_checksum(fp32_bytes)
    got = model.header.get("fp32Checksum")
    if got != want:
        hint = " (that is the CRC of the whole file, constant for every blob)" if got == zlib.crc32(fp32_bytes) else ""
        problems.append(f"fp32Checksum {got} != trailer CRC {want}{hint}")
    # scales vs the recorded ranges (s_P = range_P / 127 exactly, in float64), where the range is
    # maxAbs for max calibration and the recorded percentile range otherwise
    cal = model.header["calibration"]
    ma = cal["maxAbs"]
    ranges = ma if cal["method"] == "max" else cal["range"]
    for p in quant_points(model.config):
        if p in ranges:
            if float(ranges[p]) / 127.0 != float(model.scales[p]):
                problems.append(f"scale {p} = {model.scales[p]!r} != range {ranges[p]!r} / 127 = {float(ranges[p]) / 127.0!r}")
            if cal["method"] == "percentile" and float(ranges[p]) > float(ma.get(p, float("inf"))):
                problems.append(f"percentile range {p} = {ranges[p]!r} exceeds its maxAbs {ma.get(p)!r}")
        else:
            problems.append(f"calibration range lacks {p!r}")
    problems += _check_max_abs_record(model.config, ma)
    expected = quantize_fp32(model.config, ft, model.scales)
    for name, dtype, arr in expected:
        have = model.tensors[name]
        if dtype == "f32":
            same = np.array_equal(have.view(np.uint32), np.asarray(arr, dtype=np.float32).view(np.uint32))
        else:
            same = np.array_equal(have.astype(np.int64), np.asarray(arr, dtype=np.int64))
        if not same:
            if dtype == "f32":
                diff = np.nonzero(have.view(np.uint32).ravel() != np.asarray(arr, np.float32).view(np.uint32).ravel())[0]
            else:
                diff = np.nonzero(have.astype(np.int64).ravel() != np.asarray(arr, np.int64).ravel())[0]
            i = diff[0]
            problems.append(f"{name}: {diff.size} of {have.size} values differ, first at flat index {i}: "
                            f"blob {have.ravel()[i]!r}, expected {np.asarray(arr).ravel()[i]!r}")
        elif verbose:
            print(f"  ok {name}")
    return problems


def _check_max_abs_record(config, ma):
    """Consistency of the maxAbs record with section 4 (features = max(head, body.b), cat = max of its convs)."""
    problems = []
    for name in observed_tensors(config):
        if name not in ma:
            problems.append(f"calibration.maxAbs lacks the observed tensor {name!r}")
    if problems:
        return problems
    B = config["nBlocks"]
    feats = max([ma["head"]] + [ma[f"body.{b}"] for b in range(B)])
    if ma["features"] != feats:
        problems.append(f"maxAbs features {ma['features']} != max(head, body.*) {feats}")
    for b in range(B):
        p = f"body.{b}"
        for cat, a, c in (("cat1", "conv_3_1", "conv_5_1"), ("cat2", "conv_3_2", "conv_5_2")):
            if ma[f"{p}.{cat}"] != max(ma[f"{p}.{a}"], ma[f"{p}.{c}"]):
                problems.append(f"maxAbs {p}.{cat} {ma[f'{p}.{cat}']} != max({a}, {c})")
    return problems


# ---------------------------------------------------------------------------------------------
# fp32 side (PyTorch): calibration observer, used by the self-tests and the fixture generator
# ---------------------------------------------------------------------------------------------

def torch_model_from_fp32(fp32_bytes):
    import torch
    from msrn_model import MSRN
    header, tensors = decode_container(fp32_bytes)
    cfg = header["config"]
    model = MSRN(cfg["nFeats"], cfg["nBlocks"], cfg["scale"], cfg["rgbRange"], rgb_mean=cfg["rgbMean"]).eval()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    return model, cfg


def observe_fp32(model, image_u8_hwc):
    """Every tensor calibration observes (section 4), PyTorch float32, conv outputs after ReLU."""
    import torch
    t = {}
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(image_u8_hwc).transpose(2, 0, 1).astype(np.float32).copy())[None]
        x = model.sub_mean(x)
        t["input"] = x
        x = model.head(x)
        t["head"] = head = x
        outs = []
        for b, blk in enumerate(model.body):
            p = f"body.{b}"
            c31 = torch.relu(blk.conv_3_1(x))
            c51 = torch.relu(blk.conv_5_1(x))
            cat1 = torch.cat([c31, c51], 1)
            c32 = torch.relu(blk.conv_3_2(cat1))
            c52 = torch.relu(blk.conv_5_2(cat1))
            cat2 = torch.cat([c32, c52], 1)
            conf = blk.confusion(cat2)
            x = conf + x
            t.update({f"{p}.conv_3_1": c31, f"{p}.conv_5_1": c51, f"{p}.cat1": cat1, f"{p}.conv_3_2": c32,
                      f"{p}.conv_5_2": c52, f"{p}.cat2": cat2, f"{p}.confusion": conf, p: x})
            outs.append(x)
        y = model.tail[0](torch.cat(outs + [head], 1))
        t["tail.0"] = y
        y = model.tail[1](y)
        t["tail.1"] = y
        up = model.tail[2]
        for i in range(0, len(up), 2):
            y = up[i + 1](up[i](y))
            t[f"tail.2.{i}"] = y
        y = model.tail[3](y)
        t["tail.3"] = y
        t["output"] = model.add_mean(y)
    return {k: v[0].numpy() for k, v in t.items()}


def calibrate_torch(model, config, images):
    """maxAbs over images for every observed tensor, plus the point maxima (features)."""
    ma = {}
    for img in images:
        for k, v in observe_fp32(model, img).items():
            ma[k] = max(ma.get(k, 0.0), float(np.max(np.abs(v))))
    ma["features"] = max([ma["head"]] + [ma[f"body.{b}"] for b in range(config["nBlocks"])])
    return {k: ma[k] for k in observed_tensors(config)}


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def read_png_u8(path):
    from PIL import Image
    with Image.open(path) as im:
        return np.array(im.convert("RGB"), dtype=np.uint8)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Python reference of the msrn-ts int8 path (docs/INT8.md).")
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("--fp32", help="fp32 weight blob the int8 model was quantized from: verify section 3")
    ap.add_argument("--out", help="write the upscaled image (PNG)")
    args = ap.parse_args(argv)
    model = load_int8_blob(args.model)
    cfg = model.config
    print(f"{args.model}: msrn-int8 n_feats {cfg['nFeats']}, n_blocks {cfg['nBlocks']}, x{cfg['scale']}, "
          f"calibration {model.header['calibration']['images']} images, fp32Checksum {model.header['fp32Checksum']:08x}")
    status = 0
    if args.fp32:
        problems = verify_quantization(model, args.fp32)
        if problems:
            status = 1
            print(f"verify_quantization: {len(problems)} mismatch(es)")
            for p in problems:
                print("  " + p)
        else:
            print("verify_quantization: every tensor and add parameter matches bit for bit")
    img = read_png_u8(args.image)
    out, inter = run_int8(model, img)
    print(f"input {img.shape[1]}x{img.shape[0]} -> output {out.shape[2]}x{out.shape[1]}")
    for name in intermediate_names(cfg) + ["output"]:
        v = inter[name]
        crc = zlib.crc32(v.astype(np.int8 if name != "output" else np.int32).tobytes()) & 0xFFFFFFFF
        print(f"  {name:20s} {str(list(v.shape)):16s} min {int(v.min()):4d} max {int(v.max()):4d} "
              f"mean {float(v.mean()):8.3f} crc32 {crc:08x}")
    if args.out:
        from PIL import Image
        Image.fromarray(out.astype(np.uint8).transpose(1, 2, 0)).save(args.out)
        print(f"wrote {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
