#!/usr/bin/python3
"""Self-tests of tools/int8_reference.py (run: /usr/bin/python3 tools/test_int8_reference.py).

1. The integer primitives of docs/INT8.md section 2 on hand-computed values.
2. The vectorised int64 numpy versions == the Python-int versions, on edge and random values.
3. Graph pieces: PixelShuffle order, exact integer conv (float64 BLAS == int64 == torch), the
   residual add against its real-number meaning.
4. End to end without the TypeScript code: a Python-built int8 blob (fixture weights, max
   calibration with PyTorch) passes the loader and verify_quantization, and run_int8's output is
   close to PyTorch's fp32 output, layer by layer and at the end (graph wiring check).
5. The loader refuses what section 6 says it refuses.
"""
import math
import os
import random
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import int8_reference as R  # noqa: E402
from blob_format import decode_container, encode_container  # noqa: E402
from fixture_weights import smooth_image  # noqa: E402

I32MIN, I32MAX = R.INT32_MIN, R.INT32_MAX


class Primitives(unittest.TestCase):
    def test_round_half_away(self):
        cases = {0.5: 1, -0.5: -1, 1.5: 2, -1.5: -2, 2.5: 3, -2.5: -3, 0.49999999999999994: 0,
                 -0.49999999999999994: 0, 0.0: 0, -0.0: 0, 126.5: 127, -126.5: -127, 2.0 ** 52 + 1: 2 ** 52 + 1,
                 4503599627370495.5: 4503599627370496, 1.4999999999999998: 1}
        for x, want in cases.items():
            self.assertEqual(R.round_half_away(x), want, x)
        xs = np.array(list(cases), dtype=np.float64)
        np.testing.assert_array_equal(R.round_half_away_np(xs), np.array(list(cases.values()), dtype=np.float64))

    def test_quantize_multiplier(self):
        Q = R.quantize_multiplier
        self.assertEqual(Q(0.0), (0, 0))
        self.assertEqual(Q(0.5), (2 ** 30, 0))
        self.assertEqual(Q(0.75), (1610612736, 0))  # 0.75 * 2^31
        self.assertEqual(Q(1.0), (2 ** 30, 1))
        self.assertEqual(Q(1e-12), (0, 0))  # frexp exponent -39 < -31
        self.assertEqual(Q(1.0 - 2.0 ** -53), (2 ** 30, 1))  # round(q * 2^31) == 2^31 -> 2^30, e + 1
        self.assertEqual(Q((2.0 ** 31 - 0.5) / 2 ** 31), (2 ** 30, 1))  # tie rounds up to 2^31
        self.assertEqual(Q((2.0 ** 31 - 0.500001) / 2 ** 31), (2 ** 31 - 1, 0))
        self.assertEqual(Q((2.0 ** 30 + 0.5) / 2 ** 31), (2 ** 30 + 1, 0))  # tie: half away from zero
        self.assertEqual(Q(2.0 ** -31), (2 ** 30, -30))
        self.assertEqual(Q(2.0 ** -32), (2 ** 30, -31))
        self.assertEqual(Q(2.0 ** -33), (0, 0))
        self.assertEqual(Q(3.0), (1610612736, 2))
        self.assertEqual(Q(2.0 ** 29), (2 ** 30, 30))
        with self.assertRaises(ValueError):
            Q(2.0 ** 30)
        with self.assertRaises(ValueError):
            Q(float("inf"))
        rng = random.Random(1)
        for _ in range(2000):
            M = math.ldexp(rng.uniform(0.5, 1.0), rng.randint(-30, 30))
            m, e = Q(M)
            self.assertTrue(2 ** 30 <= m < 2 ** 31 and -31 <= e <= 30)
            self.assertLessEqual(abs(m * 2.0 ** (e - 31) - M), M * 2.0 ** -31)

    def test_srdhm(self):
        S = R.saturating_rounding_doubling_high_mul
        self.assertEqual(S(2 ** 30, 2 ** 30), 2 ** 29)
        self.assertEqual(S(I32MIN, I32MIN), I32MAX)
        self.assertEqual(S(I32MIN, 2 ** 30), -(2 ** 30))
        self.assertEqual(S(I32MAX, I32MAX), I32MAX - 1)  # (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31
        self.assertEqual(S(0, 12345), 0)
        self.assertEqual(S(1, 2 ** 30), 1)  # +0.5 -> 1
        self.assertEqual(S(-1, 2 ** 30), 0)  # -0.5: (-2^30 + 1 - 2^30) / 2^31 truncates to 0
        self.assertEqual(S(3, 2 ** 30), 2)  # 1.5 -> 2
        self.assertEqual(S(-3, 2 ** 30), -1)  # -1.5 -> -1 (the negative nudge is 1 - 2^30)
        self.assertEqual(S(-5, 2 ** 29), -1)  # -1.25 -> -1
        self.assertEqual(S(-7, 2 ** 29), -2)  # -1.75 -> -2
        self.assertEqual(S(1000, 1610612736), 750)

    def test_rdbp(self):
        D = R.rounding_divide_by_pot
        self.assertEqual(D(5, 1), 3)  # 2.5 -> 3
        self.assertEqual(D(-5, 1), -3)  # -2.5: remainder 1, threshold 0 + 1 = 1, 1 > 1 false -> -3
        self.assertEqual(D(-6, 2), -2)  # -1.5: remainder 2, threshold 1 + 1 = 2 -> -2 (away from zero)
        self.assertEqual(D(6, 2), 2)  # 1.5 -> 2
        self.assertEqual(D(-7, 2), -2)  # -1.75
        self.assertEqual(D(-5, 2), -1)  # -1.25
        self.assertEqual(D(-2, 2), -1)  # -0.5 -> -1
        self.assertEqual(D(2, 2), 1)  # 0.5 -> 1
        self.assertEqual(D(-1, 2), 0)  # -0.25
        self.assertEqual(D(-7, 0), -7)
        self.assertEqual(D(I32MIN, 0), I32MIN)
        self.assertEqual(D(I32MIN, 31), -1)
        self.assertEqual(D(I32MAX, 31), 1)
        self.assertEqual(D(2 ** 30, 31), 1)
        self.assertEqual(D(-(2 ** 30), 31), -1)
        self.assertEqual(D(2 ** 30 - 1, 31), 0)
        self.assertEqual(D(-(2 ** 30) + 1, 31), 0)
        self.assertEqual(D(-1, 31), 0)
        # definition: round half away from zero of x / 2^n
        for x in range(-70, 71):
            for n in range(0, 6):
                q = x / 2 ** n
                self.assertEqual(D(x, n), R.round_half_away(q), (x, n))

    def test_mbqm(self):
        M = R.multiply_by_quantized_multiplier
        self.assertEqual(M(100, 2 ** 30, 0), 50)
        self.assertEqual(M(100, 2 ** 30, 1), 100)
        self.assertEqual(M(1000, 1610612736, -2), 188)  # 187.5
        self.assertEqual(M(-1000, 1610612736, -2), -188)
        self.assertEqual(M(2 ** 30, 2 ** 30, 2), 2 ** 30)  # x * 4 saturates to INT32_MAX
        self.assertEqual(M(-(2 ** 30), 2 ** 30, 2), -(2 ** 30))  # saturates to INT32_MIN
        self.assertEqual(M(7 * 2 ** 19, 2 ** 30, -18), 7)
        self.assertEqual(M(12345, 0, 0), 0)


def _edge_ints():
    e = {0, 1, -1, 2, -2, 3, -3, I32MIN, I32MIN + 1, I32MAX, I32MAX - 1, 2 ** 30, -(2 ** 30), 2 ** 30 - 1,
         -(2 ** 30) + 1, 2 ** 30 + 1, 2 ** 29, -(2 ** 29), 2 ** 16, -(2 ** 16), 127, -127, 255}
    return sorted(e)


class Vectorised(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(7)

    def rand_i32(self, n):
        r = self.rng
        parts = [r.integers(I32MIN, I32MAX, n, endpoint=True), r.integers(-300, 300, n),
                 r.integers(-(2 ** 20), 2 ** 20, n), (r.integers(-4, 4, n) << r.integers(0, 31, n))]
        return np.clip(np.concatenate(parts), I32MIN, I32MAX).astype(np.int64)

    def test_numpy_semantics(self):
        a = np.array([-5, -6, I32MIN, -1], dtype=np.int64)
        np.testing.assert_array_equal(a & 3, [3, 2, 0, 3])  # two's complement
        np.testing.assert_array_equal(a >> 1, [-3, -3, -(2 ** 30), -1])  # arithmetic
        np.testing.assert_array_equal(a // 2, [-3, -3, -(2 ** 30), -1])  # floors (why trunc is by hand)

    def test_srdhm(self):
        edges = _edge_ints()
        a = np.array([x for x in edges for _ in edges] + list(self.rand_i32(3000)), dtype=np.int64)
        b = np.array([y for _ in edges for y in edges] + list(self.rand_i32(3000)[::-1]), dtype=np.int64)
        b[-3000::3] = self.rng.integers(2 ** 30, 2 ** 31, len(b[-3000::3]))
        got = R.saturating_rounding_doubling_high_mul_np(a, b)
        want = [R.saturating_rounding_doubling_high_mul(int(x), int(y)) for x, y in zip(a, b)]
        np.testing.assert_array_equal(got, want)

    def test_rdbp(self):
        edges = _edge_ints()
        xs = np.array([x for x in edges for _ in range(32)] + list(self.rand_i32(3000)), dtype=np.int64)
        ns = np.array([n for _ in edges for n in range(32)] + list(self.rng.integers(0, 32, 12000)), dtype=np.int64)
        # exact ties: x = (2k + 1) * 2^(n-1)
        k = self.rng.integers(-1000, 1000, 2000)
        n = self.rng.integers(1, 20, 2000)
        xs = np.concatenate([xs, (2 * k + 1) << (n - 1)])
        ns = np.concatenate([ns, n])
        got = R.rounding_divide_by_pot_np(xs, ns)
        want = [R.rounding_divide_by_pot(int(x), int(n)) for x, n in zip(xs, ns)]
        np.testing.assert_array_equal(got, want)

    def test_mbqm(self):
        r = self.rng
        xs = self.rand_i32(4000)
        ms = np.concatenate([r.integers(2 ** 30, 2 ** 31, len(xs) - 100), np.zeros(50, np.int64),
                             np.full(50, 2 ** 31 - 1)])
        es = r.integers(-31, 31, len(xs))
        es[:200] = 0
        es[200:400] = -31
        es[400:600] = 30
        es[600:800] = 1
        got = R.multiply_by_quantized_multiplier_np(xs, ms, es)
        want = [R.multiply_by_quantized_multiplier(int(x), int(m), int(e)) for x, m, e in zip(xs, ms, es)]
        np.testing.assert_array_equal(got, want)
        # broadcasting per channel, as conv_int8 uses it
        acc = r.integers(-(2 ** 24), 2 ** 24, (3, 4, 5))
        m = r.integers(2 ** 30, 2 ** 31, 3)
        e = np.array([-31, -7, 2])
        got = R.multiply_by_quantized_multiplier_np(acc, m[:, None, None], e[:, None, None])
        for c in range(3):
            for v, g in zip(acc[c].ravel(), got[c].ravel()):
                self.assertEqual(int(g), R.multiply_by_quantized_multiplier(int(v), int(m[c]), int(e[c])))


class GraphPieces(unittest.TestCase):
    def test_pixel_shuffle_matches_torch(self):
        import torch
        for r in (2, 3):
            x = np.arange(2 * r * r * 3 * 4, dtype=np.int64).reshape(2 * r * r, 3, 4)
            want = torch.pixel_shuffle(torch.from_numpy(x)[None], r)[0].numpy()
            np.testing.assert_array_equal(R.pixel_shuffle(x, r), want)

    def test_conv_exact(self):
        import torch
        rng = np.random.default_rng(3)
        for cin, cout, k, h, w in ((3, 5, 1, 4, 6), (4, 3, 3, 5, 7), (6, 2, 5, 3, 2), (2, 2, 5, 1, 1)):
            x = rng.integers(-127, 128, (cin, h, w))
            wq = rng.integers(-127, 128, (cout, cin, k, k))
            bq = rng.integers(-(2 ** 28), 2 ** 28, cout)
            a = R.conv_acc(x, wq, bq, "float64")
            b = R.conv_acc(x, wq, bq, "int64")
            np.testing.assert_array_equal(a, b)
            t = torch.nn.functional.conv2d(torch.from_numpy(x)[None].double(), torch.from_numpy(wq).double(),
                                           padding=k // 2)[0].numpy().astype(np.int64) + bq[:, None, None]
            np.testing.assert_array_equal(a, t)
            # a naive loop for one output pixel at a border
            p = k // 2
            s = int(bq[0])
            for ci in range(cin):
                for ky in range(k):
                    for kx in range(k):
                        yy, xx = 0 + ky - p, 0 + kx - p
                        if 0 <= yy < h and 0 <= xx < w:
                            s += int(wq[0, ci, ky, kx]) * int(x[ci, yy, xx])
            self.assertEqual(int(a[0, 0, 0]), s)

    def test_residual_add(self):
        p = R.quantize_add(0.5, 0.5)
        self.assertEqual(p, [20, 2 ** 30, 0, 2 ** 30, 0, 2 ** 30, -18])
        self.assertEqual(int(R.residual_add(np.array(3), np.array(4), p)), 7)
        self.assertEqual(int(R.residual_add(np.array(3), np.array(-4), p)), -1)
        self.assertEqual(int(R.residual_add(np.array(100), np.array(100), p)), 127)  # clamp
        self.assertEqual(int(R.residual_add(np.array(-100), np.array(-100), p)), -127)
        rng = np.random.default_rng(5)
        for s_c, s_f in ((0.3, 0.7), (1.7, 0.25), (0.0123, 0.0456)):
            p = R.quantize_add(s_c, s_f)
            qa = rng.integers(-127, 128, 5000)
            qx = rng.integers(-127, 128, 5000)
            got = R.residual_add(qa, qx, p)
            ideal = np.clip((qa * s_c + qx * s_f) / s_f, -127, 127)
            self.assertLessEqual(np.abs(got - ideal).max(), 0.5 + 1e-5)

    def test_quantize_conv_zero_channel(self):
        w = np.zeros((2, 1, 1, 1), np.float32)
        w[1] = 0.5
        q = R.quantize_conv(w, np.array([1.0, -1.0], np.float32), 0.1, 0.2)
        self.assertEqual(float(q["weight_scale"][0]), 1.0)
        np.testing.assert_array_equal(q["weight"].ravel(), [0, 127])
        self.assertEqual(int(q["bias"][0]), 10)  # 1 / (0.1 * 1)
        self.assertEqual(tuple(q["multiplier"][:1]) + tuple(q["shift"][:1]), R.quantize_multiplier(0.1 / 0.2))


# ---------------------------------------------------------------------------------------------
# End to end with a Python-built blob
# ---------------------------------------------------------------------------------------------

def fp32_blob_bytes(n, b, s, seed):
    import torch
    from export_blob import export
    from fixture_weights import fixture_state_dict
    from msrn_model import MSRN
    sd = fixture_state_dict(MSRN(n, b, s).state_dict(), seed)
    return export({k: torch.from_numpy(v) for k, v in sd.items()}, meta={"source": f"fixture seed {seed}"})


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def psnr(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


class EndToEnd(unittest.TestCase):
    CASES = ((4, 1, 2, 31, 12, 14), (4, 2, 3, 32, 9, 10), (3, 1, 4, 33, 7, 8))

    def test_python_blob_close_to_fp32(self):
        for n, b, s, seed, h, w in self.CASES:
            with self.subTest(n=n, b=b, s=s):
                self._case(n, b, s, seed, h, w)

    def _case(self, n, b, s, seed, h, w):
        fp32 = fp32_blob_bytes(n, b, s, seed)
        model_t, cfg = R.torch_model_from_fp32(fp32)
        calib = [smooth_image(seed * 10 + i, h + 3, w + 1) for i in range(2)]
        ma = R.calibrate_torch(model_t, cfg, calib)
        blob = R.build_int8_blob(fp32, ma, images=len(calib), size=None)
        with tempfile.TemporaryDirectory() as tmp:
            p8, p32 = os.path.join(tmp, "m.int8.bin"), os.path.join(tmp, "m.bin")
            write(p8, blob)
            write(p32, fp32)
            model = R.load_int8_blob(p8)
            self.assertEqual(R.verify_quantization(model, p32), [])
            # a tampered blob is caught by verify_quantization
            hdr, ts = decode_container(blob)
            ts["tail.1.bias"] = ts["tail.1.bias"] + np.arange(len(ts["tail.1.bias"]), dtype=np.int32)
            tens = [(t["name"], t["dtype"], ts[t["name"]]) for t in hdr["tensors"]]
            write(p8, encode_container(hdr["kind"], {k: v for k, v in hdr.items() if k not in ("kind", "tensors")}, tens))
            problems = R.verify_quantization(R.load_int8_blob(p8), p32)
            self.assertEqual(len(problems), 1)
            self.assertIn("tail.1.bias", problems[0])
        img = smooth_image(seed * 10 + 9, h, w)
        out, inter = R.run_int8(model, img)
        out64, inter64 = R.run_int8(model, img, backend="int64")
        np.testing.assert_array_equal(out, out64)
        for k in inter:
            np.testing.assert_array_equal(inter[k], inter64[k])
        self.assertEqual(out.shape, (3, h * s, w * s))
        self.assertEqual(set(inter), set(R.intermediate_names(cfg)) | {"output"})
        for k in R.intermediate_names(cfg):
            self.assertTrue(inter[k].min() >= -127 and inter[k].max() <= 127, k)
        self.assertTrue(out.min() >= 0 and out.max() <= 255)
        ref = R.observe_fp32(model_t, img)
        # layer by layer: dequantized int8 ~ fp32 (relative L2 error; a wiring mistake gives ~1)
        for k in R.intermediate_names(cfg):
            point = "features" if k == "head" or (k.startswith("body.") and k.count(".") == 1) else k
            deq = inter[k] * model.scale(point)
            rel = np.linalg.norm(deq - ref[k]) / np.linalg.norm(ref[k])
            self.assertLess(rel, 0.12, f"{k}: relative error {rel:.3f}")
        ref_img = np.clip(ref["output"], 0, 255)
        p = psnr(out, ref_img)
        self.assertGreater(p, 30.0, f"PSNR {p:.1f} dB")


class Loader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        fp32 = fp32_blob_bytes(2, 1, 2, 41)
        model_t, cfg = R.torch_model_from_fp32(fp32)
        ma = R.calibrate_torch(model_t, cfg, [smooth_image(410, 6, 7)])
        cls.blob = R.build_int8_blob(fp32, ma, images=1)
        cls.fp32 = fp32

    def mutate(self, fn_header=None, fn_tensors=None):
        hdr, ts = decode_container(self.blob)
        tensors = [(t["name"], t["dtype"], ts[t["name"]].copy()) for t in hdr["tensors"]]
        extra = {k: v for k, v in hdr.items() if k not in ("kind", "tensors")}
        kind = hdr["kind"]
        if fn_header:
            kind = fn_header(extra) or kind
        if fn_tensors:
            tensors = fn_tensors(tensors) or tensors
        return encode_container(kind, extra, tensors)

    def refused(self, data, fragment):
        with self.assertRaises(R.Int8FormatError) as cm:
            R.parse_int8_blob(data)
        self.assertIn(fragment, str(cm.exception))

    def set_tensor(self, name, index, value):
        def f(tensors):
            for n, _, a in tensors:
                if n == name:
                    a.ravel()[index] = value
        return f

    def test_accepts_valid(self):
        R.parse_int8_blob(self.blob)

    def test_refusals(self):
        self.refused(self.mutate(lambda h: "msrn-fp32"), "kind")
        self.refused(self.mutate(lambda h: h["scales"].__setitem__("tail.1", 0.0)), "tail.1")
        self.refused(self.mutate(lambda h: h["scales"].__setitem__("tail.1", -1.0)), "tail.1")
        self.refused(self.mutate(lambda h: h["scales"].pop("features") and None), "features")
        self.refused(self.mutate(lambda h: h["scales"].__setitem__("bogus", 1.0)), "bogus")
        self.refused(self.mutate(lambda h: h["config"].__setitem__("scale", 5)), "scale")
        self.refused(self.mutate(fn_tensors=self.set_tensor("head.0.weight_scale", 0, 0.0)), "weight_scale")
        self.refused(self.mutate(fn_tensors=self.set_tensor("head.0.weight_scale", 1, np.nan)), "weight_scale")
        self.refused(self.mutate(fn_tensors=self.set_tensor("tail.1.multiplier", 0, 2 ** 30 - 1)), "multiplier")
        self.refused(self.mutate(fn_tensors=self.set_tensor("tail.1.multiplier", 0, 0)), "multiplier")
        self.refused(self.mutate(fn_tensors=self.set_tensor("tail.1.shift", 0, 31)), "shift")
        self.refused(self.mutate(fn_tensors=self.set_tensor("tail.1.shift", 0, -32)), "shift")
        self.refused(self.mutate(fn_tensors=self.set_tensor("body.0.add", 0, 19)), "left shift")
        self.refused(self.mutate(fn_tensors=lambda t: t[:3] + [t[4], t[3]] + t[5:]), "order")
        self.refused(self.mutate(fn_tensors=lambda t: t[:-1]), "missing")
        # zero multiplier with shift 0 is valid
        R.parse_int8_blob(self.mutate(fn_tensors=lambda t: (self.set_tensor("tail.1.multiplier", 0, 0)(t),
                                                            self.set_tensor("tail.1.shift", 0, 0)(t))[0]))

    def test_checksum_and_config_pairing(self):
        with tempfile.TemporaryDirectory() as tmp:
            p32 = os.path.join(tmp, "m.bin")
            write(p32, self.fp32)
            bad = R.parse_int8_blob(self.mutate(lambda h: h.__setitem__("fp32Checksum", 0x2144DF1C)))
            probs = R.verify_quantization(bad, p32)
            self.assertTrue(any("fp32Checksum" in p for p in probs), probs)
            other = fp32_blob_bytes(2, 1, 2, 42)
            write(p32, other)
            probs = R.verify_quantization(R.parse_int8_blob(self.blob), p32)
            self.assertTrue(any("fp32Checksum" in p for p in probs))
            self.assertTrue(any("weight" in p for p in probs))


if __name__ == "__main__":
    unittest.main(verbosity=1)
