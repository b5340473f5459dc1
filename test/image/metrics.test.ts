import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { Plane, psnr, rgbToY, shave, srMetrics, ssim } from '../../src/image/metrics.js';
import { decodeImage } from '../../src/image/codec.js';
import { rgbaToTensor } from '../../src/image/pixels.js';
import { FIXTURES } from '../helpers/fixtures.js';
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

  it("Y follows BT.601: 'float' is MSRN's single-precision luma, 'u8' rounds like rgb2ycbcr on uint8", () => {
    const rgb = new Tensor(3, 1, 3, new Float32Array([0, 255, 100, 0, 255, 150, 0, 255, 200]));
    const exact = [16, 235, 16 + (65.481 * 100 + 128.553 * 150 + 24.966 * 200) / 255];
    const float = rgbToY(rgb).data;
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(float[i] - exact[i])).toBeLessThan(255 * 2 ** -24); // float32 rounding of a value below 1, times 255
      expect(float[i]).toBe(Math.fround(float[i])); // a single-precision value
    }
    expect(float[2]).not.toBe(Math.round(float[2])); // not rounded to 8 bits
    expect(Array.from(rgbToY(rgb, 'u8').data)).toEqual(exact.map(Math.round));
    expect(Array.from(rgbToY(rgb, 'float').data)).toEqual(Array.from(float));
    expect(() => rgbToY(rgb, 'y8' as never)).toThrow(/unknown Y convention "y8"; expected float or u8/);
  });

  it("equals an independent numpy version of MSRN's Evaluate_PSNR_SSIM.m, both conventions", () => {
    const dir = join(FIXTURES, 'metrics');
    const { cases } = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as {
      cases: { name: string; shave: number; float: { psnr: number; ssim: number }; u8: { psnr: number; ssim: number } }[];
    };
    expect(cases.length).toBe(3);
    for (const c of cases) {
      const ref = rgbaToTensor(decodeImage(readFileSync(join(dir, `${c.name}_ref.png`))));
      const test = rgbaToTensor(decodeImage(readFileSync(join(dir, `${c.name}_test.png`))));
      for (const convention of ['float', 'u8'] as const) {
        const got = srMetrics(ref, test, c.shave, convention);
        expect(Math.abs(got.psnr - c[convention].psnr), `${c.name} ${convention} PSNR`).toBeLessThan(1e-6);
        expect(Math.abs(got.ssim - c[convention].ssim), `${c.name} ${convention} SSIM`).toBeLessThan(1e-9);
      }
      // The conventions differ by more than the tolerance, so the test tells them apart.
      expect(Math.abs(c.float.psnr - c.u8.psnr)).toBeGreaterThan(0.05);
      expect(srMetrics(ref, test, c.shave)).toEqual(srMetrics(ref, test, c.shave, 'float')); // the default
    }
  });

  it('shaves borders and scores like the SR papers', () => {
    const p = plane(6, 5, (x, y) => y * 6 + x);
    expect(Array.from(shave(p, 2).data)).toEqual([14, 15]);
    const a = new Tensor(3, 16, 16, Float32Array.from({ length: 768 }, () => Math.floor(random() * 256)));
    expect(srMetrics(a, a, 2)).toEqual({ psnr: Infinity, ssim: 1 });
  });
});
