import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { Plane, psnr, rgbToY, shave, srMetrics, ssim } from '../../src/image/metrics.js';
import { rng } from '../helpers/random.js';

const random = rng(17);
const plane = (width: number, height: number, f: (x: number, y: number) => number): Plane => {
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
};

describe('metrics', () => {
  it('PSNR: infinite for identical images, 20 log10(255 / d) for a constant offset d', () => {
    const a = plane(20, 15, () => Math.floor(random() * 200));
    expect(psnr(a, a)).toBe(Infinity);
    for (const d of [1, 3, 10]) {
      const b = plane(20, 15, (x, y) => a.data[y * 20 + x] + d);
      expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(255 / d), 12);
    }
    // Mixed offsets: MSE = (1 + 9) / 2 = 5.
    const c = plane(2, 1, (x) => (x === 0 ? 1 : 3));
    expect(psnr(plane(2, 1, () => 0), c)).toBeCloseTo(10 * Math.log10((255 * 255) / 5), 12);
  });

  it('SSIM: 1 for identical images, lower for noise, the closed form for a constant offset', () => {
    const a = plane(32, 24, (x, y) => 100 + 50 * Math.sin(x / 3) * Math.cos(y / 4));
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    const noisy = plane(32, 24, (x, y) => a.data[y * 32 + x] + (random() - 0.5) * 40);
    expect(ssim(a, noisy)).toBeLessThan(0.95);
    // Constant images mu1, mu2: variances are 0, so SSIM = (2 mu1 mu2 + C1) / (mu1^2 + mu2^2 + C1).
    const c1 = (0.01 * 255) ** 2;
    const s = ssim(plane(12, 12, () => 100), plane(12, 12, () => 110));
    expect(s).toBeCloseTo((2 * 100 * 110 + c1) / (100 * 100 + 110 * 110 + c1), 10);
    expect(() => ssim(plane(10, 10, () => 0), plane(10, 10, () => 0))).toThrow(/at least 11x11/);
  });

  it('Y follows BT.601 and rounds like MATLAB rgb2ycbcr on uint8', () => {
    const rgb = new Tensor(3, 1, 3, new Float32Array([0, 255, 100, 0, 255, 150, 0, 255, 200]));
    const exact = rgbToY(rgb, false).data;
    expect(exact[0]).toBeCloseTo(16, 12);
    expect(exact[1]).toBeCloseTo(235, 12);
    expect(exact[2]).toBeCloseTo(16 + (65.481 * 100 + 128.553 * 150 + 24.966 * 200) / 255, 12);
    expect(Array.from(rgbToY(rgb).data)).toEqual([16, 235, Math.round(exact[2])]);
  });

  it('shaves borders and scores like the SR papers', () => {
    const p = plane(6, 5, (x, y) => y * 6 + x);
    expect(Array.from(shave(p, 2).data)).toEqual([14, 15]);
    const a = new Tensor(3, 16, 16, Float32Array.from({ length: 768 }, () => Math.floor(random() * 256)));
    expect(srMetrics(a, a, 2)).toEqual({ psnr: Infinity, ssim: 1 });
  });
});
