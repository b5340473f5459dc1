import { describe, expect, it } from 'vitest';
import { Tensor, zerosI8, zerosU8 } from '../../src/tensor/tensor.js';
import { RowEpilogue, conv2dRows, packConv2d } from '../../src/ops/conv2d-core.js';
import { QuantizedConv2d, conv2dI8, conv2dI8PixelShuffle, conv2dI8Reference } from '../../src/quant/conv2d-i8.js';
import { pixelShuffleReference } from '../../src/ops/pixel-shuffle.js';
import { DEFAULT_WINOGRAD, WINOGRAD_VARIANTS, WinogradVariantName, packWinograd, winogradIntegerErrorBound, winogradRows } from '../../src/ops/conv2d-winograd.js';
import { convSumAt } from '../../src/ops/conv2d-reference.js';
import { conv2dRowsPairs, packConv2dI8Pairs } from '../../src/quant/conv2d-i8-packed.js';
import { addI8, addI8Reference } from '../../src/quant/add-i8.js';
import { planRequantize, quantizeAdd, quantizeMultiplier } from '../../src/quant/index.js';
import { FEW_CHANNELS_MAX, packConv2dI8FewChannels } from '../../src/quant/conv2d-i8-few-channels.js';
import { rng } from '../helpers/random.js';
import { randomRequantization } from '../helpers/requantization.js';

const random = rng(99);
const int8 = (count: number, lo = -127) => Int8Array.from({ length: count }, () => lo + Math.floor(random() * (128 - lo)));


describe('conv2dI8 (fast) equals the reference bit for bit', () => {
  const cases: [number, number, number, number, number][] = [
    [1, 1, 3, 1, 1],
    [3, 16, 3, 1, 1],
    [3, 3, 1, 5, 7],
    [2, 5, 5, 1, 7],
    [16, 16, 3, 9, 11],
    [16, 16, 5, 7, 6],
    [32, 32, 5, 5, 5],
    [64, 16, 1, 4, 9],
    [16, 64, 3, 3, 8],
    [7, 13, 3, 6, 5],
    // 1x1 rows over two and three of conv2d-core.ts's 126-pixel panels, ending in partial groups
    [16, 8, 1, 3, 136],
    [64, 16, 1, 2, 260],
  ];
  for (const [cin, cout, k, h, w] of cases) {
    for (const [lo, hi] of [[-127, 127], [0, 127]]) {
      it(`cin ${cin} cout ${cout} k ${k} ${h}x${w} clamp [${lo}, ${hi}]`, () => {
        const input = new Tensor(cin, h, w, int8(cin * h * w));
        const weight = int8(cout * cin * k * k);
        const bias = Int32Array.from({ length: cout }, () => Math.floor((random() - 0.5) * 200000));
        const { multiplier, shift } = randomRequantization(random, cout, 12);
        const expected = zerosI8(cout, h, w);
        conv2dI8Reference(input, weight, bias, multiplier, shift, lo, hi, expected, k);
        const pairs = packConv2dI8Pairs(weight, bias, cout, cin, k);
        expect(pairs).not.toBeNull();
        const winograd = k > 1 ? [{ winograd: packWinograd(weight, bias, cout, cin, k, DEFAULT_WINOGRAD[k]) }] : [];
        for (const variant of [{}, { pairs }, ...winograd]) {
          // Every fast loop: one channel per multiply-add, two (the packed pairs), and Winograd
          // rounded to the nearest integer.
          const actual = zerosI8(cout, h, w);
          actual.data.fill(99);
          conv2dI8(input, { packed: packConv2d(weight, bias, cout, cin, k), requantize: planRequantize(multiplier, shift, lo, hi), ...variant }, actual);
          expect(actual.data).toEqual(expected.data);
        }
      });
    }
  }

  it('takes a u8 image in and writes a u8 image out (the mean shifts), by every engine', () => {
    const input = new Tensor(3, 4, 5, Uint8Array.from({ length: 60 }, () => Math.floor(random() * 256)));
    input.data.set([0, 255], 0); // both ends of the u8 range
    const weight = Int8Array.from([127, 0, 0, 0, 127, -1, 3, -2, 120]);
    const bias = Int32Array.from([-14000, 500, 9000]);
    const m = quantizeMultiplier(1 / 127);
    const multiplier = new Int32Array(3).fill(m.multiplier);
    const shift = new Int32Array(3).fill(m.shift);
    const requantize = planRequantize(multiplier, shift, 0, 255);
    const expected = zerosU8(3, 4, 5);
    conv2dI8Reference(input, weight, bias, multiplier, shift, 0, 255, expected, 1);
    const fewChannels = packConv2dI8FewChannels(weight, bias, 3, 3, 1);
    expect(fewChannels).not.toBeNull();
    for (const engine of [{}, { pairs: packConv2dI8Pairs(weight, bias, 3, 3, 1) }, { fewChannels }]) {
      const actual = zerosU8(3, 4, 5);
      conv2dI8(input, { packed: packConv2d(weight, bias, 3, 3, 1), requantize, ...engine }, actual);
      expect(actual.data).toEqual(expected.data);
    }
    expect(expected.data.some((v) => v > 127)).toBe(true); // really uses the u8 range
    expect(expected.data.some((v) => v === 0)).toBe(true); // and its clamp
  });

  it('the few-channels 1x1 loop equals the reference: 1..4 channels, planes longer than its chunk, zero weights', () => {
    for (let trial = 0; trial < 12; trial++) {
      const cin = 1 + (trial % FEW_CHANNELS_MAX);
      const cout = 1 + ((trial * 7) % 5);
      const [h, w] = trial % 3 === 0 ? [23, 47] : [1 + (trial % 4), 1 + ((trial * 5) % 9)]; // 23 x 47 > 2 chunks
      const [lo, hi] = trial % 2 ? [-127, 127] : [0, 255];
      const weight = int8(cout * cin);
      weight[trial % weight.length] = 0;
      const bias = Int32Array.from({ length: cout }, () => Math.floor((random() - 0.5) * 40000));
      const { multiplier, shift } = randomRequantization(random, cout, 9);
      const input = trial % 2 ? new Tensor(cin, h, w, int8(cin * h * w, -128)) : new Tensor(cin, h, w, Uint8Array.from({ length: cin * h * w }, () => Math.floor(random() * 256)));
      const expected = lo === 0 ? zerosU8(cout, h, w) : zerosI8(cout, h, w);
      conv2dI8Reference(input, weight, bias, multiplier, shift, lo, hi, expected, 1);
      const fewChannels = packConv2dI8FewChannels(weight, bias, cout, cin, 1);
      const actual = lo === 0 ? zerosU8(cout, h, w) : zerosI8(cout, h, w);
      actual.data.fill(99);
      conv2dI8(input, { packed: packConv2d(weight, bias, cout, cin, 1), requantize: planRequantize(multiplier, shift, lo, hi), fewChannels }, actual);
      expect(actual.data).toEqual(expected.data);
    }
    // only 1x1 convs on few channels take it
    expect(packConv2dI8FewChannels(new Int8Array(9), new Int32Array(1), 1, 1, 3)).toBeNull();
    expect(packConv2dI8FewChannels(new Int8Array(5), new Int32Array(1), 1, 5, 1)).toBeNull();
  });
});

describe('conv2dI8PixelShuffle', () => {
  const cases: [number, number, number, number, number, number][] = [
    // cin, cout, k, h, w, factor
    [16, 64, 3, 5, 9, 2],
    [3, 4, 3, 1, 1, 2],
    [5, 12, 3, 4, 3, 2],
    [4, 18, 3, 3, 5, 3],
    [8, 8, 1, 6, 7, 2],
    [3, 4, 1, 2, 3, 2], // few channels: conv2dI8 then pixelShuffle
  ];
  for (const [cin, cout, k, h, w, f] of cases) {
    it(`equals conv2dI8 then pixelShuffle, every engine: cin ${cin} cout ${cout} k ${k} ${h}x${w} factor ${f}`, () => {
      const input = new Tensor(cin, h, w, int8(cin * h * w));
      const weight = int8(cout * cin * k * k);
      const bias = Int32Array.from({ length: cout }, () => Math.floor((random() - 0.5) * 200000));
      const { multiplier, shift } = randomRequantization(random, cout, 12);
      const requantize = planRequantize(multiplier, shift, -127, 127);
      const packed = packConv2d(weight, bias, cout, cin, k);
      const expanded = zerosI8(cout, h, w);
      conv2dI8Reference(input, weight, bias, multiplier, shift, -127, 127, expanded, k);
      const expected = zerosI8(cout / (f * f), h * f, w * f);
      pixelShuffleReference(expanded, f, expected);
      const variants: Partial<QuantizedConv2d>[] = [{}, { pairs: packConv2dI8Pairs(weight, bias, cout, cin, k) }];
      if (k > 1) variants.push({ winograd: packWinograd(weight, bias, cout, cin, k, DEFAULT_WINOGRAD[k]) });
      if (k === 1) variants.push({ fewChannels: packConv2dI8FewChannels(weight, bias, cout, cin, k) });
      for (const variant of variants) {
        const actual = zerosI8(cout / (f * f), h * f, w * f);
        actual.data.fill(99);
        conv2dI8PixelShuffle(input, { packed, requantize, ...variant }, f, actual);
        expect(actual.data).toEqual(expected.data);
      }
    });
  }

  it('refuses an output of the wrong shape', () => {
    const weight = int8(8 * 2 * 9);
    const conv = { packed: packConv2d(weight, new Int32Array(8), 8, 2, 3), requantize: planRequantize(new Int32Array(8).fill(1 << 30), new Int32Array(8).fill(-8), -127, 127) };
    expect(() => conv2dI8PixelShuffle(zerosI8(2, 3, 3), conv, 2, zerosI8(2, 6, 5))).toThrow(/expected 2x6x6/);
  });
});

describe('packConv2dI8Pairs', () => {
  it('packs only when the sums provably fit, and the extremes still come out exact', () => {
    expect(packConv2dI8Pairs(new Int8Array(9), Int32Array.from([2 ** 30]), 1, 1, 3)).toBeNull();
    // All weights -127 or 127 and a u8 input of 255: the largest sums the bound allows for.
    const cin = 32;
    const k = 5;
    const cout = 8;
    const weight = Int8Array.from({ length: cout * cin * k * k }, (_, i) => (i % 3 === 0 ? -127 : 127));
    const bias = Int32Array.from({ length: cout }, (_, i) => (i % 2 ? 1 : -1) * 5_000_000);
    const pairs = packConv2dI8Pairs(weight, bias, cout, cin, k)!;
    expect(pairs.shift).toBeLessThanOrEqual(26);
    const input = new Tensor(cin, 6, 7, new Uint8Array(cin * 42).fill(255));
    // Compare the raw accumulators of both loops, row by row: they must be the exact sums.
    const collect = (run: (epilogue: RowEpilogue) => void) => {
      const rows: number[][] = [];
      run((acc, stride, co0, lanes, y) => {
        for (let lane = 0; lane < lanes; lane++) rows[(co0 + lane) * 6 + y] = Array.from(acc.subarray(lane * stride, lane * stride + 7));
      });
      return rows;
    };
    const plain = collect((e) => conv2dRows(input, packConv2d(weight, bias, cout, cin, k), e));
    const packed = collect((e) => conv2dRowsPairs(input, pairs, e));
    expect(packed).toEqual(plain);
    // Interior pixels see all 800 taps: |sum| reaches 5e6 + 800 * 127 * 255 / 3 or so.
    expect(Math.max(...plain.flat().map(Math.abs))).toBeGreaterThan(10_000_000);
  });
});

describe('addI8', () => {
  it('equals the BigInt reference and approximates the real sum', () => {
    const [sa, sx, so] = [0.031, 0.017, 0.04];
    const params = quantizeAdd(sa, sx, so);
    const a = new Tensor(2, 7, 9, int8(126));
    const x = new Tensor(2, 7, 9, int8(126));
    a.data.set([-127, 127, 0, -128], 0); // the extremes, and -128 which no layer writes but a caller could
    x.data.set([-127, 127, -128, 0], 0);
    const expected = zerosI8(2, 7, 9);
    const actual = zerosI8(2, 7, 9);
    addI8Reference(a, x, params, expected);
    addI8(a, x, params, actual);
    expect(actual.data).toEqual(expected.data);
    for (let i = 4; i < 126; i++) {
      const real = Math.max(-127 * so, Math.min(127 * so, a.data[i] * sa + x.data[i] * sx));
      expect(Math.abs(actual.data[i] * so - real)).toBeLessThanOrEqual(so / 2 + 1e-9);
    }
    addI8(a, x, params, a); // in place
    expect(a.data).toEqual(expected.data);
  });
});

describe('Winograd on integers: the rounding-error bound', () => {
  // The worst inputs for the transforms: the u8 image at its extremes and weights at +-127.
  for (const name of Object.keys(WINOGRAD_VARIANTS) as WinogradVariantName[]) {
    it(`${name}: the float64 result is within the bound of the exact sum, and the bound is far below 1/2`, () => {
      const k = WINOGRAD_VARIANTS[name].matrices.r;
      const [cin, cout, h, w] = [32, 8, 13, 14];
      const input = new Tensor(cin, h, w, Uint8Array.from({ length: cin * h * w }, () => (random() < 0.5 ? 0 : 255)));
      const weight = Int8Array.from({ length: cout * cin * k * k }, () => (random() < 0.5 ? -127 : 127));
      const bias = Int32Array.from({ length: cout }, () => Math.floor((random() - 0.5) * 2 ** 31));
      const bound = winogradIntegerErrorBound(weight, bias, cout, cin, name, 255);
      expect(bound).toBeGreaterThan(0);
      // worst-case weights and inputs, 32 channels: a <= 10 stays 5x below the 1/4 the int8 path
      // requires; a = 12's larger constants can pass it (F(8x8, 5x5): 0.30), which is why the
      // int8 model falls back to a smaller tile per layer (INT8_WINOGRAD_CANDIDATES)
      expect(bound).toBeLessThan(WINOGRAD_VARIANTS[name].matrices.alpha <= 10 ? 0.05 : 0.5);
      let worst = 0;
      winogradRows(input, packWinograd(weight, bias, cout, cin, k, name), (acc, stride, co0, lanes, y) => {
        for (let lane = 0; lane < lanes; lane++) {
          for (let x = 0; x < w; x++) {
            const exact = convSumAt(input, weight, k, co0 + lane, y, x, bias[co0 + lane]);
            worst = Math.max(worst, Math.abs(acc[lane * stride + x] - exact));
          }
        }
      });
      expect(worst).toBeLessThanOrEqual(bound);
    });
  }
});
