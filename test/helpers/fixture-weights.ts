/**
 * TypeScript twin of tools/fixture_weights.py: the same integer hash gives the same float32
 * weights bit for bit, so 23 MB fixtures (n_feats 64, n_blocks 8) are stored as a seed.
 */
import { MsrnConfig, expectedTensors, elementCount } from '../../src/msrn/config.js';
import { crc32 } from '../../src/msrn/crc32.js';

export function hash32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

function keyFor(seed: number, index: number): number {
  // seed * 1000003 + index, mod 2^32 (seed is small, so the double product is exact).
  return hash32((seed * 1000003 + index) % 2 ** 32);
}

export function uniform(seed: number, tensorIndex: number, count: number, bound: number): Float32Array {
  const key = keyFor(seed, tensorIndex);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = hash32((i ^ key) >>> 0) >>> 8;
    out[i] = ((u - 2 ** 23) / 2 ** 23) * bound;
  }
  return out;
}

function boundFor(name: string, shape: readonly number[]): number {
  if (/^(sub|add)_mean\./.test(name)) return name.endsWith('weight') ? 0.05 : 2.0;
  if (name.endsWith('.bias')) return 4.0;
  return Math.sqrt(3.0 / (shape[1] * shape[2] * shape[3]));
}

/** Official mean-shift value (identity, -/+ rgbRange * mean) as PyTorch builds it, in float32. */
function meanShiftBase(name: string, config: MsrnConfig): Float32Array {
  if (name.endsWith('.weight')) return new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const sign = name.startsWith('sub_') ? -1 : 1;
  // PyTorch: sign * rgb_range * Tensor(rgb_mean), i.e. the mean rounded to float32 first.
  const mean = new Float32Array(config.rgbMean);
  return new Float32Array([0, 1, 2].map((c) => Math.fround(sign * config.rgbRange * mean[c])));
}

export function fixtureStateDict(config: MsrnConfig, seed: number): Map<string, Float32Array> {
  const tensors = new Map<string, Float32Array>();
  expectedTensors(config).forEach((spec, t) => {
    const values = uniform(seed, t, elementCount(spec.shape), boundFor(spec.name, spec.shape));
    if (/^(sub|add)_mean\./.test(spec.name)) {
      const base = meanShiftBase(spec.name, config);
      for (let i = 0; i < values.length; i++) values[i] = values[i] + base[i];
    }
    tensors.set(spec.name, values);
  });
  return tensors;
}

/** CRC-32 over the little-endian float32 bytes of every tensor in order, as make_fixtures.py computes. */
export function stateDictCrc32(tensors: Map<string, Float32Array>): number {
  let crc = 0;
  for (const values of tensors.values()) {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    crc = crc32(bytes, crc);
  }
  return crc;
}
