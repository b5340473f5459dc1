"""Deterministic MSRN weights for golden fixtures, reproducible in TypeScript (test/helpers/fixture-weights.ts).

A 64/8 model is 23 MB of float32: too much to commit. Both languages instead derive every value
from a counter-based integer hash, so the fixtures only store a seed:

  key(t)      = hash32(seed * 1000003 + t)            t: tensor index in state_dict order
  u(t, i)     = hash32(i ^ key(t)) >> 8               24 random bits
  value(t, i) = float32(((u - 2^23) / 2^23) * bound(t))

hash32 is the "lowbias32" integer hash (all arithmetic mod 2^32). The float64 product is exact
enough in both languages and is rounded to float32 once, so the values are bit-identical.
"""
import math

import numpy as np

M32 = 0xFFFFFFFF


def hash32(x):
    x = np.asarray(x, dtype=np.uint32)
    with np.errstate(over="ignore"):  # wrapping mod 2^32 is the point
        x = x ^ (x >> np.uint32(16))
        x = x * np.uint32(0x7FEB352D)
        x = x ^ (x >> np.uint32(15))
        x = x * np.uint32(0x846CA68B)
        x = x ^ (x >> np.uint32(16))
    return x


def uniform(seed, tensor_index, count, bound):
    key = hash32(np.uint32((seed * 1000003 + tensor_index) & M32))
    idx = np.arange(count, dtype=np.uint32)
    u = (hash32(idx ^ key) >> np.uint32(8)).astype(np.float64)
    return (((u - 2.0 ** 23) / 2.0 ** 23) * bound).astype(np.float32)


def bound_for(name, shape):
    """Variance-keeping ranges, so activations stay in a realistic 0..255-ish range through deep configs."""
    if name.startswith(("sub_mean", "add_mean")):
        return 0.05 if name.endswith("weight") else 2.0
    if name.endswith(".bias"):
        return 4.0
    fan_in = shape[1] * shape[2] * shape[3]
    return math.sqrt(3.0 / fan_in)


def fixture_state_dict(reference_state_dict, seed):
    """Same names and shapes as the reference; mean shifts = their official value + a perturbation,
    so a loader that assumed identity / the standard mean would fail the fixture."""
    out = {}
    for t, (name, ref) in enumerate(reference_state_dict.items()):
        shape = tuple(ref.shape)
        noise = uniform(seed, t, int(np.prod(shape)), bound_for(name, shape)).reshape(shape)
        if name.startswith(("sub_mean", "add_mean")):
            noise = noise + ref.numpy().astype(np.float32)
        out[name] = noise.astype(np.float32)
    return out


def smooth_image(seed, h, w):
    """Deterministic 0..255 HxWx3 uint8 image: hashed noise (as make_fixtures.fixture_input),
    box-blurred twice so it looks more like a photo than like noise."""
    key = hash32(np.uint32((seed * 1000003 + 1000) & 0xFFFFFFFF))
    raw = (hash32(np.arange(3 * h * w, dtype=np.uint32) ^ key) >> np.uint32(24)).astype(np.float64)
    img = raw.reshape(h, w, 3)
    for _ in range(2):
        img = (img + np.roll(img, 1, 0) + np.roll(img, -1, 0) + np.roll(img, 1, 1) + np.roll(img, -1, 1)) / 5
    return np.clip(np.floor(img + 0.5), 0, 255).astype(np.uint8)
