"""Checks for tools/pack_patches.py and the samplers of tools/train.py (--pack, --device-sampler).

Run: /usr/bin/python3 tools/test_pack.py   (or with pytest); about 10 s on one CPU thread.
Two small synthetic images are packed into a temp dir; the packed crops, and the patches the
pack sampler draws from them, must equal the whole-image path (HR -> modcrop -> MATLAB bicubic
LR of the whole image, then the crop), and the device sampler must give the host sampler's
patches for the same draws.
"""
import os
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pack_patches  # noqa: E402
import train  # noqa: E402  (imported as a library: no argument parsing)
from matlab_imresize import imresize, modcrop  # noqa: E402


def synthetic(h, w, seed):
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 5.0 + seed) * np.cos(yy / 7.0)
    img = base[..., None] + r.normal(0, 20, (h, w, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def augment(a, aug):
    if aug & 1:
        a = a[:, ::-1]
    if aug & 2:
        a = a[::-1]
    if aug & 4:
        a = a.transpose(1, 0, 2)
    return a


class PackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.images = {"a.png": synthetic(71, 90, 1), "b.png": synthetic(52, 60, 2)}
        for sub, imgs in (("train", cls.images), ("dev", {"c.png": synthetic(30, 41, 3)}),
                          ("benchmark", {"d.png": synthetic(24, 24, 4)})):
            os.makedirs(os.path.join(d, sub))
            for n, im in imgs.items():
                Image.fromarray(im).save(os.path.join(d, sub, n))
        cls.out = os.path.join(d, "kit", "pack.npz")
        pack_patches.build(d, cls.out, scale=2, crop=12, budget_mib=1.0, log=lambda *a: None)
        cls.pack = pack_patches.load(cls.out)
        cls.whole = {}
        for n, im in cls.images.items():
            hr = modcrop(im, 2)
            cls.whole[n] = (hr, imresize(hr, 0.5))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_crops_are_cut_from_the_whole_image_lr(self):
        self.assertEqual({n for n, *_ in self.pack["train"]}, set(self.images))  # every image covered
        for name, (oy, ox), hr, lr in self.pack["train"]:
            HR, LR = self.whole[name]
            np.testing.assert_array_equal(lr, LR[oy:oy + lr.shape[0], ox:ox + lr.shape[1]])
            np.testing.assert_array_equal(hr, HR[2 * oy:2 * oy + hr.shape[0], 2 * ox:2 * ox + hr.shape[1]])
            self.assertEqual(hr.shape[:2], (2 * lr.shape[0], 2 * lr.shape[1]))
        # A small budget-free pack holds every grid window: no pixel stored twice.
        keys = [(n, o) for n, o, *_ in self.pack["train"]]
        self.assertEqual(len(keys), len(set(keys)))

    def test_pack_sampler_patches_equal_whole_image_path(self):
        p = 8
        sampler = train.PackSampler(self.pack, 2, p)
        lr_b, hr_b = sampler.batch(np.random.default_rng(7), 32, u8=True)
        lr_b, hr_b = lr_b.permute(0, 2, 3, 1).numpy(), hr_b.permute(0, 2, 3, 1).numpy()
        rng = np.random.default_rng(7)  # replay the sampler's draws
        idx = rng.choice(len(sampler.lr), size=32, p=sampler.prob)
        for k, i in enumerate(idx):
            lr = sampler.lr[i]
            y = int(rng.integers(0, lr.shape[0] - p + 1))
            x = int(rng.integers(0, lr.shape[1] - p + 1))
            aug = int(rng.integers(0, 8))
            HR, LR = self.whole[sampler.names[i]]
            oy, ox = sampler.origins[i]
            Y, X = oy + y, ox + x
            np.testing.assert_array_equal(lr_b[k], augment(LR[Y:Y + p, X:X + p], aug))
            np.testing.assert_array_equal(hr_b[k], augment(HR[2 * Y:2 * (Y + p), 2 * X:2 * (X + p)], aug))

    def test_device_sampler_equals_host_sampler(self):
        import torch
        for host in (train.PackSampler(self.pack, 2, 8),
                     train.PatchSampler([os.path.join(self.tmp.name, "train", n) for n in sorted(self.images)], 2, 10)):
            dev = train.DeviceSampler(host, torch.device("cpu"))
            r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
            for _ in range(3):
                a, b = host.batch(r1, 16), dev.batch(r2, 16)
                for x, y in zip(a, b):
                    self.assertEqual(x.dtype, y.dtype)
                    self.assertEqual(x.shape, y.shape)
                    self.assertTrue(torch.equal(x, y))
            self.assertEqual(r1.bit_generator.state, r2.bit_generator.state)

    def test_eval_sets_from_pack_equal_folders(self):
        for sub in ("dev", "benchmark"):
            a = train.EvalSet(os.path.join(self.tmp.name, sub), 2)
            b = train.EvalSet(None, 2, self.pack[sub])
            self.assertEqual(a.names, b.names)
            self.assertEqual(a.fingerprint(), b.fingerprint())
            self.assertEqual(a.bicubic, b.bicubic)


if __name__ == "__main__":
    unittest.main()
