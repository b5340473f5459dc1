#!/usr/bin/python3
"""Self-tests of tools/qat.py (run: /usr/bin/python3 tools/test_qat.py).

1. The simulation's exact mode (qat.forward with scales) equals tools/int8_reference.py's integer
   graph byte for byte, every quantization point and the output, on fixture models (x2, x3, x4)
   and on the shipped weights (a crop of a dev image when data/ exists, else a synthetic image).
2. The training mode (single rounding) stays within a level or two of the exact mode, and the
   straight-through estimator gives every parameter a finite gradient.
3. qat's max calibration gives the same point maxima as int8_reference.calibrate_torch.
4. Cross-layer equalization (qat.equalize) keeps the fp32 function and shrinks no point's use of
   its int8 range.
5. `budget`'s pieces: fake quantization of chosen points (none = the fp32 graph; all of them plus
   the weights = the integer graph up to its requantization roundings), per-channel weight
   rounding, and the added-noise prediction of a PSNR change.
"""
import glob
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import int8_reference as R  # noqa: E402
import qat  # noqa: E402
import torch  # noqa: E402
from blob_format import decode_container  # noqa: E402
from fixture_weights import smooth_image  # noqa: E402
from test_int8_reference import fp32_blob_bytes  # noqa: E402

ROOT = os.path.dirname(HERE)


def R_psnr(a, b):
    return qat.psnr(a.numpy(), b.numpy())


def torch_model(fp32_bytes):
    model, cfg = R.torch_model_from_fp32(fp32_bytes)
    return model.eval(), cfg


def int8_model(fp32_bytes, calib):
    model_t, cfg = torch_model(fp32_bytes)
    ma = R.calibrate_torch(model_t, cfg, calib)
    return R.parse_int8_blob(R.build_int8_blob(fp32_bytes, ma, images=len(calib)))


def sim_intermediates(model, img, scales, exact=True):
    """qat.forward in quantized mode, recording every conv / add output (integers)."""
    rec = []
    qconv, qadd = qat.qconv, qat.qadd

    def rconv(*a, **k):
        y = qconv(*a, **k)
        rec.append(y)
        return y

    def radd(*a, **k):
        y = qadd(*a, **k)
        rec.append(y)
        return y
    qat.qconv, qat.qadd = rconv, radd
    try:
        with torch.no_grad():
            out = qat.forward(model, qat.to_tensor(img, "cpu"), scales, exact=exact)
    finally:
        qat.qconv, qat.qadd = qconv, qadd
    return out, [r[0].numpy().astype(np.int64) for r in rec]


def reference_sequence(inter, cfg):
    """int8_reference's intermediates in the order qat.forward produces them."""
    n = cfg["nFeats"]
    seq = [inter["input"], inter["head"]]
    for b in range(cfg["nBlocks"]):
        p = f"body.{b}"
        seq += [inter[f"{p}.cat1"][:n], inter[f"{p}.cat1"][n:], inter[f"{p}.cat2"][:2 * n],
                inter[f"{p}.cat2"][2 * n:], inter[f"{p}.confusion"], inter[p]]
    seq += [inter["tail.0"], inter["tail.1"]]
    for prefix, r in R.upsampler_stages(cfg["scale"]):
        t = inter[prefix]  # after PixelShuffle; qat records the conv output before it
        c, h, w = t.shape
        seq.append(t.reshape(c, h // r, r, w // r, r).transpose(0, 2, 4, 1, 3).reshape(c * r * r, h // r, w // r))
    seq += [inter["tail.3"], inter["output"]]
    return seq


class ExactSimulation(unittest.TestCase):
    CASES = ((4, 1, 2, 31, 12, 14), (4, 2, 3, 32, 9, 10), (3, 2, 4, 33, 7, 8), (16, 2, 2, 34, 20, 17))

    def check(self, fp32_bytes, model8, img):
        model_t, cfg = torch_model(fp32_bytes)
        out_ref, inter = R.run_int8(model8, img)
        out, seq = sim_intermediates(model_t, img, {k: float(v) for k, v in model8.scales.items()})
        ref = reference_sequence(inter, cfg)
        self.assertEqual(len(seq), len(ref))
        for i, (a, b) in enumerate(zip(seq, ref)):
            np.testing.assert_array_equal(a, b, f"intermediate #{i}")
        np.testing.assert_array_equal(out[0].numpy().astype(np.int64), out_ref)
        return model_t, cfg

    def test_fixture_models(self):
        for n, b, s, seed, h, w in self.CASES:
            with self.subTest(n=n, b=b, s=s):
                fp32 = fp32_blob_bytes(n, b, s, seed)
                calib = [smooth_image(seed * 10 + i, h + 3, w + 1) for i in range(2)]
                self.check(fp32, int8_model(fp32, calib), smooth_image(seed * 10 + 9, h, w))

    def test_shipped_weights(self):
        path = os.path.join(ROOT, "weights", "msrn_x2.bin")
        with open(path, "rb") as f:
            fp32 = f.read()
        dev = sorted(glob.glob(os.path.join(ROOT, "data", "dev", "*.png")))
        if dev:
            img = qat.load_rgb(dev[0])[40:88, 60:100]
            calib = [qat.load_rgb(p)[:64, :64] for p in dev[1:4]]
        else:
            img = smooth_image(7, 48, 40)
            calib = [smooth_image(8 + i, 60, 50) for i in range(2)]
        self.check(fp32, int8_model(fp32, calib), img)


class TrainingMode(unittest.TestCase):
    def test_single_rounding_close_and_gradients(self):
        fp32 = fp32_blob_bytes(8, 2, 2, 41)
        img = smooth_image(411, 16, 18)
        model8 = int8_model(fp32, [smooth_image(412, 20, 20)])
        model_t, _ = torch_model(fp32)
        scales = {k: float(v) for k, v in model8.scales.items()}
        exact, _ = sim_intermediates(model_t, img, scales, exact=True)
        fast, _ = sim_intermediates(model_t, img, scales, exact=False)
        # a random fixture net amplifies rounding flips (most pixels move by one level), yet the
        # two stay close: PSNR well above what int8 itself costs
        self.assertGreater(R_psnr(exact, fast), 45.0)
        model_t.train()
        out = qat.forward(model_t, qat.to_tensor(img, "cpu"), scales, exact=False)
        out.sub(128).abs().mean().backward()
        for name, p in model_t.named_parameters():
            self.assertIsNotNone(p.grad, name)
            self.assertTrue(torch.isfinite(p.grad).all(), name)
        self.assertGreater(float(model_t.head[0].weight.grad.abs().sum()), 0)


class Calibration(unittest.TestCase):
    def test_point_maxima_match_reference(self):
        fp32 = fp32_blob_bytes(6, 2, 2, 51)
        model_t, cfg = torch_model(fp32)
        imgs = [smooth_image(510 + i, 14, 15) for i in range(3)]
        ma = R.calibrate_torch(model_t, cfg, imgs)
        pm = qat.calibrate(model_t, imgs, "cpu").point_max(model_t)
        for p in R.quant_points(cfg):
            ref = ma["features"] if p == "features" else (
                max(ma[p.replace("cat1", "conv_3_1")], ma[p.replace("cat1", "conv_5_1")]) if p.endswith("cat1") else
                max(ma[p.replace("cat2", "conv_3_2")], ma[p.replace("cat2", "conv_5_2")]) if p.endswith("cat2") else ma[p])
            self.assertAlmostEqual(pm[p], ref, delta=1e-5 * max(1.0, ref), msg=p)


class Equalization(unittest.TestCase):
    def test_function_preserved(self):
        for n, b, s in ((6, 2, 2), (4, 1, 4), (5, 1, 3)):
            with self.subTest(n=n, b=b, s=s):
                fp32 = fp32_blob_bytes(n, b, s, 61)
                model_t, _ = torch_model(fp32)
                imgs = [smooth_image(610 + i, 12, 13) for i in range(2)]
                x = qat.to_tensor(smooth_image(619, 11, 9), "cpu")
                with torch.no_grad():
                    before = model_t(x)
                    obs = qat.calibrate(model_t, imgs, "cpu")
                    qat.equalize(model_t, obs, 1.0)
                    after = model_t(x)
                self.assertLess(float((before - after).abs().max()), 2e-3)
                obs2 = qat.calibrate(model_t, imgs, "cpu")
                # power 1: inside each point every channel now spans the point's whole range
                r = torch.cat([obs2.ch[f"body.0.conv_3_1"], obs2.ch[f"body.0.conv_5_1"]])
                live = r[r > 1e-6]
                self.assertLess(float(live.max() / live.min()), 1.0001)


class Budget(unittest.TestCase):
    def setUp(self):
        # the shipped weights on synthetic images (no data/ needed): a trained model, so the
        # activations span their ranges as in use
        with open(os.path.join(ROOT, "weights", "msrn_x2.bin"), "rb") as f:
            self.model, _ = torch_model(f.read())
        imgs = [smooth_image(15 + i, 60, 50) for i in range(2)]
        self.scales = qat.scales_from_max(qat.calibrate(self.model, imgs, "cpu").point_max(self.model))
        self.x = qat.to_tensor(smooth_image(7, 48, 40), "cpu")

    @torch.no_grad()
    def test_fake_quantization(self):
        fp32 = qat.forward(self.model, self.x)
        self.assertTrue(torch.equal(qat.forward(self.model, self.x, fake={}), fp32))
        fake = qat.fake_quant_spec(self.model, self.scales)
        self.assertEqual(fake["body.1.conv_5_2"], (self.scales["body.1.cat2"], qat.RELU))
        self.assertEqual(fake["body.0"], (self.scales["features"], qat.LINEAR))
        self.assertEqual(qat.fake_quant_spec(self.model, self.scales, ["features"]),
                         {n: (self.scales["features"], qat.LINEAR) for n in ("head", "body.0", "body.1")})
        plain = qat.to_u8(fp32)
        # everything, with rounded weights: the integer graph's noise level (not its pixels: one
        # rounding that falls the other way early on changes many later ones)
        wq = qat.copy.deepcopy(self.model)
        qat.quantize_weights_per_channel(wq)
        approx = qat.psnr(qat.to_u8(qat.forward(wq, self.x, fake=fake)), plain)
        exact = qat.psnr(qat.to_u8(qat.forward(self.model, self.x, self.scales)), plain)
        self.assertLess(exact, 60.0)
        self.assertAlmostEqual(approx, exact, delta=0.5)
        # one point alone (the head's output, on the features grid) adds less noise than all
        head = qat.psnr(qat.to_u8(qat.forward(self.model, self.x, fake={"head": fake["head"]})), plain)
        self.assertGreater(head, exact + 3.0)
        self.assertLess(head, 99.0)

    def test_weight_rounding(self):
        wq = qat.copy.deepcopy(self.model)
        qat.quantize_weights_per_channel(wq)
        for (name, a), (_, b) in zip(qat.conv_layers(self.model), qat.conv_layers(wq)):
            sw = a.weight.detach().abs().amax(dim=(1, 2, 3), keepdim=True) / 127.0
            k = b.weight.detach() / sw
            self.assertLess(float((k - k.round()).abs().max()), 1e-3, name)
            self.assertTrue(torch.allclose(b.weight.abs().amax(dim=(1, 2, 3)), a.weight.abs().amax(dim=(1, 2, 3))), name)

    def test_added_noise_prediction(self):
        rng = np.random.default_rng(5)
        hr = rng.uniform(0, 255, (400, 400))
        fp32 = hr + rng.normal(0, 3.0, hr.shape)
        for sigma in (0.5, 1.5, 4.0):
            q = fp32 + rng.normal(0, sigma, hr.shape)
            measured = qat.psnr(q, hr) - qat.psnr(fp32, hr)
            predicted = qat.added_noise_delta(qat.psnr(fp32, hr), qat.psnr(q, fp32))
            self.assertAlmostEqual(measured, predicted, delta=0.03, msg=sigma)


if __name__ == "__main__":
    unittest.main()
