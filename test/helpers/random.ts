import { Tensor } from '../../src/tensor/tensor.js';

/** Small seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(count: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

export function randomTensor(c: number, h: number, w: number, random: () => number, scale = 1): Tensor<Float32Array> {
  return new Tensor(c, h, w, randomF32(c * h * w, random, scale));
}

/** max |a - b| / max(1, |b|) over all elements. */
export function maxRelativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

export function maxAbsError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** A photo-like 8-bit test image (3, H, W): smooth colour gradients, a few edges, a little noise. */
export function syntheticImage(height: number, width: number, random: () => number): Tensor<Float32Array> {
  const data = new Float32Array(3 * height * width);
  const f = Array.from({ length: 6 }, () => 0.05 + random() * 0.3);
  const phase = Array.from({ length: 6 }, () => random() * 6.28);
  const edgeX = Math.floor(random() * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = 128 + 60 * Math.sin(f[c] * x + phase[c]) + 40 * Math.cos(f[c + 3] * y + phase[c + 3]);
        if (x > edgeX) v += 50 - 30 * c;
        v += (random() - 0.5) * 16;
        data[(c * height + y) * width + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return new Tensor(3, height, width, data);
}

/** How two 8-bit images (or any value arrays) agree: the fraction of identical values and the largest difference. */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): { identical: number; worst: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let same = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d === 0) same++;
    worst = Math.max(worst, d);
  }
  return { identical: same / a.length, worst };
}
