import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { contributions, cubic, imresizeBicubic } from '../../src/image/resize.js';

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
