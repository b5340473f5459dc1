/**
 * What every benchmark needs: a model of the model card's shape (n_feats 16, n_blocks 2, x2)
 * with seeded random weights, its int8 twin, and a seeded 270x480 frame. Speed does not depend
 * on the weight values, so random weights give the same timings as trained ones; pass
 * `--weights <fp32 blob>` to use real ones (e.g. weights/msrn_x2.bin once it ships).
 *
 * Everything here is deterministic (one PRNG, fixed seeds), so bench/peers feeds the peer
 * engines exactly the weights and the input that msrn-ts gets.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CONFIG,
  MaxCalibrator,
  MsrnConfig,
  MsrnModelF32,
  Int8Model,
  Tensor,
  elementCount,
  expectedTensors,
  loadInt8Model,
  loadModelF32,
  macsPerInputPixel,
  quantizeModel,
  readWeightBlob,
  writeInt8Blob,
  writeWeightBlob,
} from 'msrn-ts/core';

/** The LR frame of the numbers: 270x480 -> 540x960 at x2. */
export const FRAME_HEIGHT = 270;
export const FRAME_WIDTH = 480;

/** The repository root (holds package.json), found from this file in bench/ or dist-bench/bench/. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'msrn-ts') return dir;
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  throw new Error('bench: cannot find the msrn-ts repository root');
})();

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/** mulberry32: small, fast, and the same sequence on every platform. Returns [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random weights with PyTorch's default Conv2d init range (uniform in +-1/sqrt(fan_in)), so the
 * activations keep a sane scale through the network and the output lands near 0..255; the mean
 * shifts are the real ones (identity, -/+ 255 * mean).
 */
export function randomWeights(config: MsrnConfig = DEFAULT_CONFIG, seed = 20240601): Map<string, Float32Array> {
  const random = prng(seed);
  const tensors = new Map<string, Float32Array>();
  for (const spec of expectedTensors(config)) {
    const data = new Float32Array(elementCount(spec.shape));
    const meanShift = /^(sub|add)_mean\./.exec(spec.name);
    if (meanShift) {
      const sign = meanShift[1] === 'sub' ? -1 : 1;
      if (spec.name.endsWith('.weight')) for (let c = 0; c < 3; c++) data[c * 3 + c] = 1;
      else for (let c = 0; c < 3; c++) data[c] = sign * config.rgbRange * config.rgbMean[c];
    } else {
      const prefix = spec.name.slice(0, spec.name.lastIndexOf('.'));
      const weightShape = expectedTensors(config).find((s) => s.name === `${prefix}.weight`)!.shape;
      const fanIn = weightShape[1] * weightShape[2] * weightShape[3];
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * bound;
    }
    tensors.set(spec.name, data);
  }
  return tensors;
}

/**
 * A 0..255 integer RGB frame (3, H, W): smooth gradients with texture and noise, so it is not
 * constant (calibration and the output diff see real variation) and it is an 8-bit image (the
 * int8 path takes exactly those).
 */
export function syntheticFrame(height = FRAME_HEIGHT, width = FRAME_WIDTH, seed = 7): Tensor<Float32Array> {
  const random = prng(seed);
  const plane = height * width;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const smooth = 128 + 90 * Math.sin((x * (c + 1)) / 37 + y / 23) * Math.cos(y / (17 + 5 * c) - x / 61);
        const v = smooth + 24 * (random() - 0.5);
        data[c * plane + y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return new Tensor(3, height, width, data);
}

export interface BenchModels {
  readonly config: MsrnConfig;
  readonly source: string;
  readonly fp32Bytes: Uint8Array;
  readonly fp32: MsrnModelF32;
  readonly int8Bytes: Uint8Array;
  readonly int8: Int8Model;
  /** MACs per LR pixel of this config (103,536 for the model card's). */
  readonly macsPerPixel: number;
}

/**
 * fp32 model from `weightsPath` (or seeded random weights), and its int8 twin, max-calibrated on
 * one synthetic 96x96 image (the calibration only sets scales; speed does not depend on it).
 */
export function buildModels(weightsPath?: string): BenchModels {
  let fp32Bytes: Uint8Array;
  let source: string;
  if (weightsPath) {
    fp32Bytes = readFileSync(weightsPath);
    source = weightsPath;
  } else {
    fp32Bytes = writeWeightBlob(DEFAULT_CONFIG, randomWeights(), { source: 'bench: seeded random weights' });
    source = 'seeded random weights (PyTorch default init range), model card config';
  }
  const fp32 = loadModelF32(fp32Bytes);
  const calibrator = new MaxCalibrator(fp32);
  calibrator.addImage(syntheticFrame(96, 96, 11));
  const int8Data = quantizeModel(readWeightBlob(fp32Bytes), calibrator.result());
  const int8Bytes = writeInt8Blob(int8Data);
  const int8 = loadInt8Model(int8Bytes);
  return { config: fp32.config, source, fp32Bytes, fp32, int8Bytes, int8, macsPerPixel: macsPerInputPixel(fp32.config) };
}

/** `--name value` from process.argv. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function argNumber(name: string, fallback: number): number {
  const v = argValue(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
}
