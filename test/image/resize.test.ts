import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeImage } from '../../src/image/codec.js';
import { rgbaToTensor } from '../../src/image/pixels.js';
import { contributions, cubic, imresizeBicubic, resizeBilinear } from '../../src/image/resize.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { agreement } from '../helpers/random.js';

describe('MATLAB bicubic', () => {
  it('uses the a = -0.5 cubic kernel', () => {
    expect([cubic(0), cubic(1), cubic(2), cubic(0.5), cubic(1.5)]).toEqual([1, 0, 0, 0.5625, -0.0625]);
  });

  it('has weights summing to 1 and mirrored indices in range', () => {
    for (const [inLen, outLen, scale] of [[10, 5, 0.5], [5, 10, 2], [7, 21, 3], [9, 3, 1 / 3]]) {
      const plan = contributions(inLen, outLen, scale);
      for (let i = 0; i < outLen; i++) {
        let sum = 0;
        for (let j = 0; j < plan.taps; j++) {
          sum += plan.weights[i * plan.taps + j];
          expect(plan.indices[i * plan.taps + j]).toBeGreaterThanOrEqual(0);
          expect(plan.indices[i * plan.taps + j]).toBeLessThan(inLen);
        }
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });

  it('x2 up: the first output sample sits a quarter pixel before input 0 (mirror edge)', () => {
    // u = 1/2 + 0.5 * (1 - 1/2) = 0.75 (1-based); left = floor(u - 2) = -2, so the taps are
    // 1-based -2..3 at distances 2.75 .. -2.25, and mirroring [1 2 3 4 4 3 2 1] maps them to 3 2 1 1 2 3.
    const plan = contributions(4, 8, 2);
    expect(plan.taps).toBe(6);
    const weights = Array.from(plan.weights.subarray(0, 6));
    const raw = [2.75, 1.75, 0.75, -0.25, -1.25, -2.25].map(cubic);
    const sum = raw.reduce((a, b) => a + b);
    weights.forEach((w, j) => expect(w).toBeCloseTo(raw[j] / sum, 14));
    expect(raw[0]).toBe(0);
    expect(Array.from(plan.indices.subarray(0, 6))).toEqual([2, 1, 0, 0, 1, 2]);
  });

  it('keeps a constant image constant and gives ceil(scale * size)', () => {
    const t = new Tensor(2, 5, 7, new Float32Array(70).fill(77));
    const down = imresizeBicubic(t, 0.5);
    expect(down.shape).toEqual([2, 3, 4]);
    expect(down.data.every((v) => v === 77)).toBe(true);
    const up = imresizeBicubic(t, 3);
    expect(up.shape).toEqual([2, 15, 21]);
    expect(up.data.every((v) => v === 77)).toBe(true);
  });
});

describe('MATLAB bicubic equals the independent numpy implementation (tools/matlab_imresize.py)', () => {
  const dir = join(FIXTURES, 'resize');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { input: string; scale: number; output: string }[];
  for (const { input, scale, output } of manifest) {
    it(`${input} x${scale.toFixed(4)}`, () => {
      const source = rgbaToTensor(decodeImage(readFileSync(join(dir, input))));
      const expected = rgbaToTensor(decodeImage(readFileSync(join(dir, output))));
      const actual = imresizeBicubic(source, scale);
      expect(actual.shape).toEqual(expected.shape);
      const { identical, worst } = agreement(actual.data, expected.data);
      expect(identical).toBeGreaterThanOrEqual(0.99);
      expect(worst).toBeLessThanOrEqual(2);
    });
  }
});

describe('bilinear resize (the model card pipeline)', () => {
  it('maps half-pixel centres like cv2.resize INTER_LINEAR', () => {
    const t = new Tensor(1, 1, 2, new Float32Array([0, 100]));
    // x2: source x = (i + 0.5) / 2 - 0.5 -> -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped to the edge)
    expect(Array.from(resizeBilinear(t, 1, 4).data)).toEqual([0, 25, 75, 100]);
    const c = new Tensor(3, 4, 5, new Float32Array(60).fill(42));
    expect(resizeBilinear(c, 7, 3).data.every((v) => v === 42)).toBe(true);
  });
});
