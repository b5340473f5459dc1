import { describe, expect, it } from 'vitest';
import { Tensor, zerosF32, zerosI8 } from '../../src/tensor/tensor.js';
import { ConvWindow, Region, expandRegion } from '../../src/tensor/region.js';
import { conv2dF32, packConv2dF32 } from '../../src/ops/conv2d-f32.js';
import { DEFAULT_WINOGRAD, packWinograd } from '../../src/ops/conv2d-winograd.js';
import { packConv2d } from '../../src/ops/conv2d-core.js';
import { dihedral, dihedralRegion } from '../../src/ops/dihedral.js';
import { QuantizedConv2d, conv2dI8, conv2dI8PixelShuffle } from '../../src/quant/conv2d-i8.js';
import { packConv2dI8Pairs } from '../../src/quant/conv2d-i8-packed.js';
import { planRequantize } from '../../src/quant/index.js';
import { randomTensor, rng } from '../helpers/random.js';
import { randomRequantization } from '../helpers/requantization.js';

/**
 * A conv with a ConvWindow computes window.output as the same conv without one computes it on
 * the input with everything outside window.input set to zero, whatever lies outside
 * window.input: byte for byte. (The windowed Winograd conv starts its tile grid at the window's
 * corner, so its float64 sums round differently, by about 1e-14 relative: far from the float32
 * rounding of the output, which these shapes never cross; int8 rounds them to exact integers.)
 */
const random = rng(2024);

function randomRegion(height: number, width: number): Region {
  const y0 = Math.floor(random() * height);
  const x0 = Math.floor(random() * width);
  return { y0, y1: y0 + 1 + Math.floor(random() * (height - y0)), x0, x1: x0 + 1 + Math.floor(random() * (width - x0)) };
}

/** The input as a windowed conv sees it: zero outside `region`. */
function masked<B extends Float32Array | Int8Array>(t: Tensor<B>, region: Region): Tensor<B> {
  const data = t.data.slice() as B;
  for (let c = 0; c < t.channels; c++) {
    for (let y = 0; y < t.height; y++) {
      for (let x = 0; x < t.width; x++) {
        if (y < region.y0 || y >= region.y1 || x < region.x0 || x >= region.x1) data[(c * t.height + y) * t.width + x] = 0;
      }
    }
  }
  return new Tensor(t.channels, t.height, t.width, data);
}

/** Elements of `region` (scaled by `scale`) in every channel. */
function inside(t: Tensor<Float32Array | Int8Array>, region: Region, scale = 1): number[] {
  const out: number[] = [];
  for (let c = 0; c < t.channels; c++) {
    for (let y = region.y0 * scale; y < region.y1 * scale; y++) {
      for (let x = region.x0 * scale; x < region.x1 * scale; x++) out.push(t.data[(c * t.height + y) * t.width + x]);
    }
  }
  return out;
}

/**
 * Windows of the two kinds a tiled forward makes: the output somewhere, the input the output
 * grown by the kernel's radius (clipped), or by more.
 */
function windows(height: number, width: number, k: number): ConvWindow[] {
  const list: ConvWindow[] = [];
  for (let i = 0; i < 4; i++) {
    const output = randomRegion(height, width);
    list.push({ output, input: expandRegion(output, (k - 1) / 2 + (i % 2) * 3, height, width) });
  }
  const whole = { y0: 0, y1: height, x0: 0, x1: width };
  list.push({ output: { y0: height - 1, y1: height, x0: width - 1, x1: width }, input: whole }); // one corner pixel
  list.push({ output: whole, input: whole });
  return list;
}

describe('conv2dF32 with a window', () => {
  const shapes: [number, number, number, number, number][] = [
    [3, 16, 3, 21, 30],
    [16, 16, 5, 26, 19],
    [8, 12, 5, 9, 40],
    [64, 16, 1, 13, 17],
    [5, 6, 3, 17, 11],
  ];
  for (const [cin, cout, k, h, w] of shapes) {
    for (const method of k > 1 ? (['winograd', 'direct'] as const) : (['direct'] as const)) {
      it(`${cin}->${cout} ${k}x${k} ${method} on ${h}x${w}`, () => {
        const weight = randomTensor(cout, cin, k * k, random).data;
        const bias = randomTensor(1, 1, cout, random).data;
        const conv = packConv2dF32(weight, bias, cout, cin, k, method === 'direct' ? { method: 'direct' } : {});
        for (const window of windows(h, w, k)) {
          const input = randomTensor(cin, h, w, random, 2);
          // far outside the activations' range: any use of it would show
          const polluted = masked(input, window.input);
          for (let i = 0; i < polluted.data.length; i++) if (polluted.data[i] === 0) polluted.data[i] = 1e6;
          const forWindow = method === 'winograd' ? polluted : input; // the direct conv never reads past window.input for window.output
          for (const relu of [false, true]) {
            const expected = zerosF32(cout, h, w);
            conv2dF32(masked(input, window.input), conv, expected, relu);
            const actual = zerosF32(cout, h, w);
            actual.data.fill(Number.NaN);
            conv2dF32(forWindow, conv, actual, relu, window);
            expect(inside(actual, window.output)).toEqual(inside(expected, window.output));
          }
        }
      });
    }
  }

  it('rejects a window outside the tensor or empty', () => {
    const conv = packConv2dF32(new Float32Array(9), new Float32Array(1), 1, 1, 3);
    const input = zerosF32(1, 4, 5);
    const output = zerosF32(1, 4, 5);
    const whole = { y0: 0, y1: 4, x0: 0, x1: 5 };
    expect(() => conv2dF32(input, conv, output, false, { input: whole, output: { y0: 0, y1: 5, x0: 0, x1: 5 } })).toThrow(/output window.*not a non-empty part of the 5x4 tensor/);
    expect(() => conv2dF32(input, conv, output, false, { input: { y0: 2, y1: 2, x0: 0, x1: 5 }, output: whole })).toThrow(/input window/);
  });
});

describe('conv2dI8 with a window', () => {
  const int8 = (count: number) => Int8Array.from({ length: count }, () => -127 + Math.floor(random() * 255));
  function quantized(cin: number, cout: number, k: number, engine: 'winograd' | 'pairs' | 'direct'): QuantizedConv2d {
    const weight = int8(cout * cin * k * k);
    const bias = Int32Array.from({ length: cout }, () => Math.floor((random() - 0.5) * 200000));
    const { multiplier, shift } = randomRequantization(random, cout, 12);
    return {
      packed: packConv2d(weight, bias, cout, cin, k),
      requantize: planRequantize(multiplier, shift, -127, 127),
      winograd: engine === 'winograd' ? packWinograd(weight, bias, cout, cin, k, DEFAULT_WINOGRAD[k]) : null,
      pairs: engine === 'pairs' ? packConv2dI8Pairs(weight, bias, cout, cin, k) : null,
    };
  }
  const shapes: [number, number, number, number, number][] = [
    [16, 16, 3, 19, 23],
    [8, 8, 5, 25, 18],
    [64, 16, 1, 12, 20],
    [16, 12, 3, 14, 31],
  ];
  for (const [cin, cout, k, h, w] of shapes) {
    for (const engine of k > 1 ? (['winograd', 'pairs', 'direct'] as const) : (['pairs', 'direct'] as const)) {
      it(`${cin}->${cout} ${k}x${k} ${engine} on ${h}x${w}, and with its PixelShuffle`, () => {
        const conv = quantized(cin, cout, k, engine);
        for (const window of windows(h, w, k)) {
          const input = new Tensor(cin, h, w, int8(cin * h * w));
          const expected = zerosI8(cout, h, w);
          conv2dI8(masked(input, window.input), conv, expected);
          const actual = zerosI8(cout, h, w);
          actual.data.fill(99);
          // int8 Winograd is exact for any int8 input, so no value outside the window can show:
          // what matters is that window.output is computed
          conv2dI8(input, conv, actual, window);
          expect(inside(actual, window.output)).toEqual(inside(expected, window.output));
          if (cout % 4 !== 0) continue;
          const shuffledExpected = zerosI8(cout / 4, h * 2, w * 2);
          conv2dI8PixelShuffle(masked(input, window.input), conv, 2, shuffledExpected);
          const shuffled = zerosI8(cout / 4, h * 2, w * 2);
          shuffled.data.fill(99);
          conv2dI8PixelShuffle(input, conv, 2, shuffled, window);
          expect(inside(shuffled, window.output, 2)).toEqual(inside(shuffledExpected, window.output, 2));
        }
      });
    }
  }
});

describe('dihedralRegion', () => {
  it('gives where the pixels of a region land under each of the 8 transforms', () => {
    const [h, w] = [5, 7];
    for (let trial = 0; trial < 6; trial++) {
      const region = randomRegion(h, w);
      const marked = masked(new Tensor(1, h, w, new Float32Array(h * w).fill(1)), region);
      for (let k = 0; k < 8; k++) {
        const moved = dihedral(marked, k);
        const expected = masked(new Tensor(1, moved.height, moved.width, new Float32Array(h * w).fill(1)), dihedralRegion(region, k, h, w));
        expect(moved.data).toEqual(expected.data);
      }
    }
  });
});
