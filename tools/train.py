"""Train the shipped MSRN weights (tools/msrn_model.MSRN) on the photos from tools/dataset.sh.

Recipe (see weights/README.md for the numbers it gave):
- data: data/train/*.png (HR). The LR of each whole image is made once with MATLAB-compatible
  bicubic (tools/matlab_imresize.imresize(modcrop(HR), 1/scale) on uint8) and kept in memory;
  patches are aligned crops of both: --patch LR pixels (default 48, so 96 HR at x2).
  Images are picked with probability proportional to sqrt(area) (big soft wallpapers would
  otherwise dominate); random h/v flips and rot90.
- loss: L1 on the 0..255 scale (rgb_range 255, as the official MSRN code), Adam(0.9, 0.999),
  peak LR --lr after a linear warm-up of --warmup steps, cosine decay to --min-lr at
  --total-steps. Batch --batch (16).
- init: --init bicubic (default) sets the linear path head -> tail.0 -> tail.1 -> upsampler ->
  last conv (there is no ReLU on it) to compute exact MATLAB bicubic x2, so step 0 already scores
  the bicubic PSNR and the MSRBs learn a residual on top; --init default is PyTorch's init.
- eval every --eval-every steps on data/dev: HR -> modcrop -> LR by matlab imresize -> model ->
  round/clamp to 8 bits -> PSNR on BT.601 Y (16 + (65.481 R + 128.553 G + 24.966 B) / 255),
  --scale pixels shaved, float64. Bicubic (matlab imresize x scale of the same LR) is the
  baseline. data/benchmark (if any) is reported too but never used for selection.
- checkpoint (--ckpt) every --save-every steps and on SIGTERM/SIGINT, written atomically
  (tmp + os.replace): model, optimizer, step, schedule, RNG states (torch, numpy, python),
  elapsed wall time, eval log. `--resume` continues exactly where it stopped (and starts fresh
  if the checkpoint does not exist yet). The best model by dev PSNR goes to --best
  (state_dict only).

- --pack gpu-kit/pack_x2.npz (tools/pack_patches.py) replaces data/train by packed aligned
  HR/LR crops cut from the whole-image LR (same sampling and augmentation over the crops); dev
  and benchmark come from the pack when --data has no dev folder (the device machine, where
  data/ does not travel). --max-seconds stops a run cleanly (eval + checkpoint) after that much
  wall time counted from process start; --fit-seconds sizes a fresh schedule (first run or
  --reschedule) to end by then, from the step rate measured during the warm-up. tools/gpu_train.sh
  is the prepared command for a lent CUDA GPU.

Use /usr/bin/python3 (Debian's torch). One CPU thread by default (--threads).
"""
import argparse
import glob
import hashlib
import math
import os
import random
import signal
import sys
import time

PROC_T0 = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "data"))
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--n-feats", type=int, default=16)
    p.add_argument("--n-blocks", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--patch", type=int, default=48, help="LR patch size")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--min-lr", type=float, default=1e-6)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--total-steps", type=int, default=200000, help="length of the cosine schedule")
    p.add_argument("--max-steps", type=int, default=0,
                   help="stop this run at this global step (0: run to --total-steps)")
    p.add_argument("--init", choices=["bicubic", "default"], default="bicubic")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ckpt", default=os.path.join(ROOT, "weights/checkpoints/msrn_x2.ckpt.pt"))
    p.add_argument("--best", default=os.path.join(ROOT, "weights/checkpoints/msrn_x2.best.pt"))
    p.add_argument("--resume", action="store_true")
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--no-benchmark", action="store_true", help="skip data/benchmark in evals")
    p.add_argument("--reschedule", action="store_true",
                   help="with --resume: replace the checkpoint's LR schedule by --lr/--min-lr/--warmup/"
                        "--total-steps, counted from the current step (warm-up and cosine start again)")
    p.add_argument("--from-best", action="store_true",
                   help="with --resume: continue from the best dev weights (--best) instead of the latest ones")
    p.add_argument("--pack", default="",
                   help="train on this tools/pack_patches.py pack instead of DATA/train (dev/benchmark "
                        "from it too when DATA/dev is absent)")
    p.add_argument("--max-seconds", type=float, default=0,
                   help="stop cleanly (eval + checkpoint) once this much wall time has passed since "
                        "the process started (0: no limit)")
    p.add_argument("--fit-seconds", type=float, default=0,
                   help="with a fresh schedule (new run or --reschedule): set --total-steps from the "
                        "step rate measured in the warm-up so that the cosine ends about this many "
                        "seconds after the process started (needs --warmup >= 60)")
    p.add_argument("--fast", action="store_true",
                   help="CUDA: cudnn.benchmark (picks the fastest conv algorithms; not deterministic)")
    p.add_argument("--device-sampler", action="store_true",
                   help="hold the training images/crops on --device and cut patches there (same "
                        "draws, same patches as the host sampler; for a GPU)")
    return p.parse_args(argv)


# Imported as a library (tools/qat.py reuses the data, metric and init code): no argument parsing
# and no thread setup here; the importer does both.
ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # Thread counts must be fixed before torch/numpy start their pools.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, HERE)
from matlab_imresize import contributions, imresize, modcrop  # noqa: E402
from msrn_model import MSRN  # noqa: E402

if ARGS is not None:
    torch.set_num_threads(ARGS.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- data

def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def list_pngs(folder):
    return sorted(glob.glob(os.path.join(folder, "*.png")))


class PatchSampler:
    """Aligned random HR/LR patches from whole images held in memory (LR made once).

    batch(..., u8=True) returns the same patches as uint8 tensors (the caller converts them to
    float on the device: the same values, less to copy).
    """

    def __init__(self, paths, scale, patch):
        self.scale, self.patch = scale, patch
        self.hr, self.lr = [], []
        t = time.time()
        for path in paths:
            hr = modcrop(load_rgb(path), scale)
            lr = imresize(hr, 1.0 / scale)
            if lr.shape[0] < patch or lr.shape[1] < patch:
                continue
            self.hr.append(hr)
            self.lr.append(lr)
        w = np.array([math.sqrt(l.shape[0] * l.shape[1]) for l in self.lr])
        self.prob = w / w.sum()
        npx = sum(h.shape[0] * h.shape[1] for h in self.hr)
        log(f"train: {len(self.hr)} images, {npx / 1e6:.1f} MP HR, LR made in {time.time() - t:.1f} s")

    def draws(self, rng, n, shapes=None):
        """[(image, y, x, aug)] of one batch, in the order the RNG is consumed: every sampler
        (this one and DeviceSampler) takes its patches from here, so they get the same ones."""
        p = self.patch
        shapes = shapes or [l.shape[:2] for l in self.lr]
        out = []
        for i in rng.choice(len(shapes), size=n, p=self.prob):
            h, w = shapes[i]
            y = int(rng.integers(0, h - p + 1))
            x = int(rng.integers(0, w - p + 1))
            out.append((int(i), y, x, int(rng.integers(0, 8))))
        return out

    def batch(self, rng, n, u8=False):
        s, p = self.scale, self.patch
        lrs, hrs = [], []
        for i, y, x, aug in self.draws(rng, n):
            a = self.lr[i][y:y + p, x:x + p]
            b = self.hr[i][y * s:(y + p) * s, x * s:(x + p) * s]
            if aug & 1:
                a, b = a[:, ::-1], b[:, ::-1]
            if aug & 2:
                a, b = a[::-1], b[::-1]
            if aug & 4:
                a, b = a.transpose(1, 0, 2), b.transpose(1, 0, 2)
            lrs.append(a)
            hrs.append(b)
        lr = torch.from_numpy(np.ascontiguousarray(np.stack(lrs))).permute(0, 3, 1, 2)
        hr = torch.from_numpy(np.ascontiguousarray(np.stack(hrs))).permute(0, 3, 1, 2)
        if u8:
            return lr, hr
        return lr.float(), hr.float()


class PackSampler(PatchSampler):
    """The same sampler over the aligned crops of a tools/pack_patches.py pack.

    Crops are picked with probability proportional to their LR area (the pack already holds
    crops per image in proportion to sqrt(area), the whole-image sampler's weights); the
    position, flips and transpose are drawn exactly as in PatchSampler.batch.
    """

    def __init__(self, pack, scale, patch):
        if pack["scale"] != scale:
            sys.exit(f"pack is x{pack['scale']}, --scale is {scale}")
        self.scale, self.patch = scale, patch
        self.hr, self.lr, self.names, self.origins = [], [], [], []
        small = 0
        for name, origin, hr, lr in pack["train"]:
            if lr.shape[0] < patch or lr.shape[1] < patch:
                small += 1
                continue
            self.hr.append(hr)
            self.lr.append(lr)
            self.names.append(name)
            self.origins.append(origin)
        if not self.lr:
            sys.exit(f"no packed crop holds a {patch} px LR patch")
        w = np.array([l.shape[0] * l.shape[1] for l in self.lr], dtype=np.float64)
        self.prob = w / w.sum()
        npx = sum(h.shape[0] * h.shape[1] for h in self.hr)
        log(f"train (pack): {len(self.hr)} crops from {len(set(self.names))} images, {npx / 1e6:.1f} MP HR"
            + (f", {small} crops smaller than the patch left out" if small else ""))


class DeviceSampler:
    """PatchSampler.batch with the crops cut on the training device.

    All images (or packed crops) live on the device, zero-padded to one (N, H, W, 3) uint8
    tensor; the random draws are the host sampler's, in its order, so a run consumes the RNG
    exactly as with the host sampler and gets the same patches (tools/test_pack.py checks this).
    Each batch is one gather: no per-patch host work and nothing to copy but the draws.
    """

    def __init__(self, host, device):
        self.host, self.device = host, device
        self.scale, self.patch, self.prob = host.scale, host.patch, host.prob
        self.shapes = [l.shape[:2] for l in host.lr]
        hmax = max(h for h, _ in self.shapes)
        wmax = max(w for _, w in self.shapes)
        s = self.scale
        self.lr = torch.zeros((len(host.lr), hmax, wmax, 3), dtype=torch.uint8, device=device)
        self.hr = torch.zeros((len(host.hr), hmax * s, wmax * s, 3), dtype=torch.uint8, device=device)
        for i, (l, h) in enumerate(zip(host.lr, host.hr)):
            self.lr[i, :l.shape[0], :l.shape[1]] = torch.from_numpy(np.array(l)).to(device)
            self.hr[i, :h.shape[0], :h.shape[1]] = torch.from_numpy(np.array(h)).to(device)
        log(f"device sampler: {(self.lr.numel() + self.hr.numel()) / 2 ** 20:.0f} MiB on {device}")

    @staticmethod
    def _gather(data, idx, y, x, aug, p):
        u = torch.arange(p, device=data.device)
        U, V = u.view(1, p, 1), u.view(1, 1, p)
        t = ((aug & 4) != 0).view(-1, 1, 1)
        r, c = torch.where(t, V, U), torch.where(t, U, V)              # transpose
        r = torch.where(((aug & 2) != 0).view(-1, 1, 1), p - 1 - r, r)  # vertical flip
        c = torch.where(((aug & 1) != 0).view(-1, 1, 1), p - 1 - c, c)  # horizontal flip
        return data[idx.view(-1, 1, 1), y.view(-1, 1, 1) + r, x.view(-1, 1, 1) + c]

    def batch(self, rng, n, u8=False):
        p = self.patch
        draws = self.host.draws(rng, n, self.shapes)
        d = torch.tensor(draws, dtype=torch.int64).to(self.device, non_blocking=True)
        i, y, x, aug = d[:, 0], d[:, 1], d[:, 2], d[:, 3]
        lr = self._gather(self.lr, i, y, x, aug, p).permute(0, 3, 1, 2)
        hr = self._gather(self.hr, i, y * self.scale, x * self.scale, aug, p * self.scale).permute(0, 3, 1, 2)
        if u8:
            return lr, hr
        return lr.float(), hr.float()


# ----------------------------------------------------------------------------- metrics

def y_channel(rgb_u8):
    rgb = rgb_u8.astype(np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def psnr_y(a_u8, b_u8, shave):
    ya, yb = y_channel(a_u8), y_channel(b_u8)
    if shave:
        ya, yb = ya[shave:-shave, shave:-shave], yb[shave:-shave, shave:-shave]
    mse = np.mean((ya - yb) ** 2)
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


class EvalSet:
    """HR images of a folder (or (name, rgb) pairs, e.g. from a pack) with their LR and bicubic PSNR."""

    def __init__(self, folder, scale, images=None):
        self.names, self.hr, self.lr, self.bicubic = [], [], [], []
        if images is None:
            images = [(os.path.basename(p), load_rgb(p)) for p in list_pngs(folder)]
        for name, rgb in images:
            hr = modcrop(rgb, scale)
            lr = imresize(hr, 1.0 / scale)
            self.names.append(name)
            self.hr.append(hr)
            self.lr.append(lr)
            self.bicubic.append(psnr_y(imresize(lr, scale), hr, scale))
        self.scale = scale

    def __len__(self):
        return len(self.hr)

    def fingerprint(self):
        h = hashlib.sha1()
        for n, hr in zip(self.names, self.hr):
            h.update(n.encode())
            h.update(hr.tobytes())
        return h.hexdigest()

    @torch.no_grad()
    def run(self, model, device):
        model.eval()
        out = []
        # cuDNN convolutions default to TF32 on Ampere and later, whose 10-bit mantissa moves
        # 8-bit rounding of the output: evaluate in full fp32 so PSNRs match the CPU's.
        tf32 = None
        if device.type == "cuda":
            try:
                tf32 = torch.backends.cudnn.allow_tf32
                torch.backends.cudnn.allow_tf32 = False
            except Exception as e:  # a torch whose TF32 switches changed: evaluate as it is
                log(f"eval: could not turn TF32 off ({e})")
                tf32 = None
        try:
            out = self._run(model, device)
        finally:
            if tf32 is not None:
                torch.backends.cudnn.allow_tf32 = tf32
            model.train()
        return out

    def _run(self, model, device):
        out = []
        for lr, hr in zip(self.lr, self.hr):
            x = torch.from_numpy(lr).permute(2, 0, 1)[None].float().to(device)
            sr = model(x)[0].permute(1, 2, 0).round().clamp(0, 255).byte().cpu().numpy()
            out.append(psnr_y(sr, hr, self.scale))
        return out


# ----------------------------------------------------------------------------- init

def bicubic_phase_filters(scale):
    """f[phase][tap] for MATLAB bicubic x`scale`, taps relative to LR pixel m: offsets -2..2."""
    w, idx = contributions(64, 64 * scale, float(scale))
    filt = np.zeros((scale, 5))
    for phase in range(scale):
        o = 32 * scale + phase  # an interior output pixel: HR index (0-based) = m * scale + phase
        m = o // scale
        for k in range(w.shape[1]):
            filt[phase, idx[o, k] - m + 2] += w[o, k]
    return filt


@torch.no_grad()
def init_bicubic_path(model):
    """Make head -> tail.0 -> tail.1 -> upsampler -> last conv compute exact bicubic x2.

    That path is linear (ReLUs live only inside the MSRBs). Colour c rides channel c through
    head, tail.0; tail.1 makes four diagonal shifts (+-1, +-1) of it (channels 4c..4c+3); the
    upsampler conv combines those with its own 3x3 taps, reaching offsets -2..2, into the
    PixelShuffle channel (c, phase) = 4c + 2i + j; the last conv copies channel c to colour c.
    Weights not on the path keep PyTorch's init, except the last conv's other inputs, which are
    scaled by 0.1 so the random features start as a small perturbation of bicubic.
    """
    assert model.scale == 2, "bicubic init implemented for x2"
    n = model.n_feats
    assert n >= 12
    head, t0, t1, up, last = (model.head[0], model.tail[0], model.tail[1], model.tail[2][0],
                              model.tail[3])
    res0 = n * model.n_blocks  # head output's first channel inside the concat
    for c in range(3):
        head.weight[c].zero_()
        head.weight[c, c, 1, 1] = 1.0
        head.bias[c] = 0.0
        t0.weight[c].zero_()
        t0.weight[c, res0 + c, 0, 0] = 1.0
        t0.bias[c] = 0.0
    shifts = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    for c in range(3):
        for k, (dy, dx) in enumerate(shifts):
            ch = 4 * c + k
            t1.weight[ch].zero_()
            t1.weight[ch, c, 1 + dy, 1 + dx] = 1.0  # output(y, x) = input(y + dy, x + dx)
            t1.bias[ch] = 0.0
    f = bicubic_phase_filters(2)  # (2 phases, 5 taps at offsets -2..2)
    # Linear system: target 5x5 filter at offsets (a, b) = sum_k sum_t W_k[t] [s_k + t = (a, b)].
    A = np.zeros((25, 36))
    for k, (dy, dx) in enumerate(shifts):
        for ty in range(3):
            for tx in range(3):
                a, b = dy + ty - 1, dx + tx - 1
                A[(a + 2) * 5 + (b + 2), k * 9 + ty * 3 + tx] = 1.0
    for c in range(3):
        for i in range(2):
            for j in range(2):
                target = np.outer(f[i], f[j]).reshape(25)
                sol, *_ = np.linalg.lstsq(A, target, rcond=None)
                assert np.allclose(A @ sol, target, atol=1e-12)
                oc = 4 * c + 2 * i + j
                up.weight[oc].zero_()
                for k in range(4):
                    up.weight[oc, 4 * c + k] = torch.from_numpy(sol[k * 9:(k + 1) * 9].reshape(3, 3))
                up.bias[oc] = 0.0
    last.weight.mul_(0.1)
    last.bias.zero_()
    for c in range(3):
        last.weight[c, :3].zero_()
        last.weight[c, c, 1, 1] = 1.0


# ----------------------------------------------------------------------------- checkpoint

def load_ckpt(path):
    """torch.load onto the CPU (a checkpoint written on CUDA loads anywhere), full pickle
    (torch >= 2.6 defaults to weights_only, which our RNG states need not pass through)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch < 1.13
        return torch.load(path, map_location="cpu")


def to_cpu(obj):
    """Tensors moved to the CPU (no-op there), so a checkpoint saved on CUDA loads anywhere."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        out = type(obj)((k, to_cpu(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):  # state_dict version info
            out._metadata = obj._metadata
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def atomic_save(obj, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(to_cpu(obj), tmp)
    os.replace(tmp, path)


def lr_at(step, a):
    """Linear warm-up then cosine decay; a rescheduled run counts both from its "start" step."""
    step -= a.get("start", 0)
    if step < a["warmup"]:
        return a["lr"] * (step + 1) / a["warmup"]
    t = min(1.0, (step - a["warmup"]) / max(1, a["total_steps"] - a["warmup"]))
    return a["min_lr"] + 0.5 * (a["lr"] - a["min_lr"]) * (1 + math.cos(math.pi * t))


def main():
    a = ARGS
    device = torch.device("cuda" if (a.device == "auto" and torch.cuda.is_available())
                          else ("cpu" if a.device == "auto" else a.device))
    sched_keys = ("lr", "min_lr", "warmup", "total_steps")
    ckpt = None
    if a.resume and os.path.exists(a.ckpt):
        ckpt = load_ckpt(a.ckpt)
        for k in ("scale", "n_feats", "n_blocks"):
            if ckpt["args"][k] != getattr(a, k):
                sys.exit(f"--{k} {getattr(a, k)} != checkpoint's {ckpt['args'][k]}")
        if a.reschedule:
            # A new warm-up + cosine from here, over --total-steps more steps.
            sched = {**{k: getattr(a, k) for k in sched_keys}, "start": ckpt["step"]}
            sched["total_steps"] = a.total_steps
        else:
            # The schedule is fixed by the run that set it (first run, or the last --reschedule).
            sched = {k: ckpt["args"][k] for k in sched_keys}
            sched["start"] = ckpt["args"].get("start", 0)
        log(f"resuming {a.ckpt} at step {ckpt['step']} (elapsed {ckpt['elapsed'] / 3600:.2f} h)")
    else:
        if a.resume:
            log(f"--resume: {a.ckpt} does not exist yet, starting fresh")
        sched = {k: getattr(a, k) for k in sched_keys}
    fit = a.fit_seconds > 0 and (ckpt is None or a.reschedule)
    if a.fit_seconds > 0 and not fit:
        log("--fit-seconds ignored: the checkpoint's schedule is kept (no --reschedule)")
    if fit and sched["warmup"] < 60:
        sys.exit("--fit-seconds measures the step rate during the warm-up: use --warmup >= 60")
    if device.type == "cuda" and a.fast:
        torch.backends.cudnn.benchmark = True

    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    random.seed(a.seed)

    model = MSRN(a.n_feats, a.n_blocks, a.scale, rgb_range=255)
    if ckpt is None and a.init == "bicubic":
        init_bicubic_path(model)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=sched["lr"], betas=(0.9, 0.999))
    step, elapsed0, evals, best = 0, 0.0, [], -1.0
    if ckpt is not None:
        if a.from_best:
            # The latest Adam moments belong to other weights: start them afresh.
            model.load_state_dict(load_ckpt(a.best))
            log(f"continuing from the best dev weights {a.best} (best dev PSNR {ckpt['best_psnr']:.3f}), fresh optimizer")
        else:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
        step, elapsed0, evals, best = ckpt["step"], ckpt["elapsed"], ckpt["evals"], ckpt["best_psnr"]
        torch.set_rng_state(ckpt["rng"]["torch"])
        if device.type == "cuda" and ckpt["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(ckpt["rng"]["cuda"])
        rng.bit_generator.state = ckpt["rng"]["numpy"]
        random.setstate(ckpt["rng"]["python"])
    if device.type == "cuda":
        log(f"torch {torch.__version__}, numpy {np.__version__}, {torch.cuda.get_device_name(device)}")
    log(f"device {device}, threads {torch.get_num_threads()}, model MSRN({a.n_feats}, {a.n_blocks}, "
        f"x{a.scale}), params {sum(p.numel() for p in model.parameters())}, schedule {sched}")

    dev_dir, bench_dir = os.path.join(a.data, "dev"), os.path.join(a.data, "benchmark")
    if a.pack:
        t = time.time()
        sys.path.insert(0, HERE)
        import pack_patches
        pack = pack_patches.load(a.pack)
        log(f"pack {a.pack}: {os.path.getsize(a.pack) / 2 ** 20:.1f} MiB, decoded in {time.time() - t:.1f} s")
        sampler = PackSampler(pack, a.scale, a.patch)
    else:
        sampler = PatchSampler(list_pngs(os.path.join(a.data, "train")), a.scale, a.patch)
    if a.device_sampler:
        sampler = DeviceSampler(sampler, device)
    if a.pack and not os.path.isdir(dev_dir):
        log(f"{dev_dir} absent: dev and benchmark from the pack")
        dev = EvalSet(None, a.scale, pack["dev"])
        bench = None if a.no_benchmark else EvalSet(None, a.scale, pack["benchmark"])
    else:
        dev = EvalSet(dev_dir, a.scale)
        bench = EvalSet(bench_dir, a.scale) if (not a.no_benchmark and os.path.isdir(bench_dir)) else None
    if bench is not None and len(bench) == 0:
        bench = None
    log(f"dev: {len(dev)} images, bicubic Y-PSNR {np.mean(dev.bicubic):.3f} dB"
        + (f"; benchmark: {' '.join(f'{n}={p:.3f}' for n, p in zip(bench.names, bench.bicubic))}"
           if bench else ""))

    run_t0 = time.time()

    def elapsed():
        """Wall time of all runs so far (training, evals, saves), carried in the checkpoint."""
        return elapsed0 + time.time() - run_t0

    dev_fp = dev.fingerprint()
    if ckpt is not None and ckpt.get("dev_fingerprint") != dev_fp:
        # Dev PSNRs are not comparable across dev sets: restart best-model selection.
        log("dev set differs from the checkpoint's: best dev PSNR reset")
        best = -1.0
        evals.append({"step": step, "note": "dev set changed; earlier dev_psnr not comparable"})

    stop = {"sig": None}
    eval_cost = {"s": 0.0, "overhead": 0.0}  # last eval's time; all eval + save time of this run

    def on_signal(signum, _frame):
        stop["sig"] = signum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def save():
        t = time.time()
        state = {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
            "args": {**vars(a), **sched}, "elapsed": elapsed(), "evals": evals, "best_psnr": best,
            "dev_fingerprint": dev_fp,
            "rng": {"torch": torch.get_rng_state(), "numpy": rng.bit_generator.state,
                    "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state() if device.type == "cuda" else None},
            "torch_version": torch.__version__,
        }
        atomic_save(state, a.ckpt)
        eval_cost["overhead"] += time.time() - t

    def evaluate(train_loss):
        nonlocal best
        t = time.time()
        d = dev.run(model, device)
        rec = {"step": step, "elapsed_s": round(elapsed(), 1), "train_l1": train_loss,
               "dev_psnr": float(np.mean(d)), "dev_bicubic": float(np.mean(dev.bicubic)),
               "dev_per_image": {n: round(p, 3) for n, p in zip(dev.names, d)}}
        if bench is not None:
            b = bench.run(model, device)
            rec["bench"] = {n: round(p, 3) for n, p in zip(bench.names, b)}
            rec["bench_bicubic"] = {n: round(p, 3) for n, p in zip(bench.names, bench.bicubic)}
        evals.append(rec)
        msg = (f"eval step {step}: dev Y-PSNR {rec['dev_psnr']:.3f} dB (bicubic "
               f"{rec['dev_bicubic']:.3f}, +{rec['dev_psnr'] - rec['dev_bicubic']:.3f})")
        if bench is not None:
            msg += " | benchmark " + " ".join(f"{n}={p}" for n, p in rec["bench"].items())
        if rec["dev_psnr"] > best:
            best = rec["dev_psnr"]
            atomic_save(model.state_dict(), a.best)
            msg += " [best]"
        eval_cost["s"] = time.time() - t
        eval_cost["overhead"] += eval_cost["s"]
        log(msg + f" ({eval_cost['s']:.1f} s)")

    last_step = sched.get("start", 0) + sched["total_steps"]
    end = last_step if not a.max_steps else min(a.max_steps, last_step)
    if step == 0 or fit:
        evaluate(None)  # with --fit-seconds also to time an eval
    loss_sum, loss_n, t_log, steps_log = 0.0, 0, time.time(), 0
    last_loss = None
    start = sched.get("start", 0)
    probe = (start + min(20, sched["warmup"] // 3), start + min(sched["warmup"], 300)) if fit else None
    probe_t0 = None
    out_of_time = False
    while step < end and stop["sig"] is None:
        if a.max_seconds and time.time() - PROC_T0 >= a.max_seconds:
            out_of_time = True
            break
        if probe is not None and step == probe[0]:
            if device.type == "cuda":
                torch.cuda.synchronize()
            probe_t0 = time.time() - eval_cost["overhead"]
        if probe is not None and step == probe[1]:
            if device.type == "cuda":
                torch.cuda.synchronize()
            rate = (time.time() - eval_cost["overhead"] - probe_t0) / (probe[1] - probe[0])
            left = a.fit_seconds - (time.time() - PROC_T0) - 2 * eval_cost["s"] - 2.0
            per_step = rate + eval_cost["s"] / a.eval_every + 0.05 / a.save_every
            more = max(0, int(0.97 * left / per_step))
            sched["total_steps"] = step - start + more
            last_step = start + sched["total_steps"]
            end = last_step if not a.max_steps else min(a.max_steps, last_step)
            log(f"--fit-seconds {a.fit_seconds:g}: {rate * 1000:.1f} ms/step, eval {eval_cost['s']:.1f} s, "
                f"{left:.0f} s left -> total_steps {sched['total_steps']} (ends at step {last_step})")
            probe = None
        lr_now = lr_at(step, sched)
        for g in opt.param_groups:
            g["lr"] = lr_now
        lr_b, hr_b = sampler.batch(rng, a.batch, u8=True)
        lr_b = lr_b.to(device, non_blocking=True).float()
        hr_b = hr_b.to(device, non_blocking=True).float()
        loss = F.l1_loss(model(lr_b), hr_b)
        opt.zero_grad(set_to_none=True)
        if torch.isfinite(loss):
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            loss_n += 1
        else:
            log(f"step {step}: non-finite loss, batch skipped")
        step += 1
        steps_log += 1
        if step % a.log_every == 0:
            dt = (time.time() - t_log) / max(1, steps_log)
            last_loss = loss_sum / max(1, loss_n)
            log(f"step {step}/{last_step} l1 {last_loss:.4f} lr {lr_now:.2e} "
                f"{dt:.3f} s/step elapsed {elapsed() / 3600:.2f} h")
            loss_sum, loss_n, t_log, steps_log = 0.0, 0, time.time(), 0
        if step % a.eval_every == 0 or step == end:
            evaluate(last_loss)
        if step % a.save_every == 0 or step == end:
            save()
    if stop["sig"] is not None:
        save()
        log(f"signal {stop['sig']}: checkpoint saved at step {step}, exiting")
    elif out_of_time:
        if probe is not None:
            # Stopped before --fit-seconds could size the schedule: end it here, so that the
            # checkpoint does not keep the placeholder --total-steps (the next run reschedules).
            sched["total_steps"] = step - start
            last_step = step
            log("--max-seconds came before the step rate was measured: schedule ended at this step")
        if not evals or evals[-1].get("step") != step:
            evaluate(last_loss)
        save()
        log(f"--max-seconds {a.max_seconds:g}: stopped at step {step} of {last_step}, checkpoint saved "
            f"({time.time() - PROC_T0:.0f} s since start)")
    else:
        log(f"done at step {step}")


if __name__ == "__main__":
    main()
