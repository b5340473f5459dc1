import { describe, expect, it } from 'vitest';
import { Tensor, zerosF32 } from '../../src/tensor/tensor.js';
import { conv2dF32Reference } from '../../src/ops/conv2d-reference.js';
import { conv2dF32, packConv2dF32 } from '../../src/ops/conv2d-f32.js';
import { maxRelativeError, randomF32, randomTensor, rng } from '../helpers/random.js';

describe('conv2dF32Reference', () => {
  it('matches a hand-computed 3x3 conv with zero padding and bias', () => {
    // 1 channel 2x2 input, all-ones 3x3 kernel: every output sums the whole (padded) neighbourhood.
    const input = new Tensor(1, 2, 2, new Float32Array([1, 2, 3, 4]));
    const out = zerosF32(1, 2, 2);
    conv2dF32Reference(input, new Float32Array(9).fill(1), new Float32Array([0.5]), out, 3, false);
    expect(Array.from(out.data)).toEqual([10.5, 10.5, 10.5, 10.5]);
  });

  it('places the kernel as PyTorch does (w[ky][kx] multiplies in[y + ky - p][x + kx - p])', () => {
    // A kernel with a single 1 at (ky=0, kx=2) reads the pixel up and to the right.
    const input = new Tensor(1, 3, 3, new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const w = new Float32Array(9);
    w[2] = 1;
    const out = zerosF32(1, 3, 3);
    conv2dF32Reference(input, w, new Float32Array([0]), out, 3, false);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 2, 3, 0, 5, 6, 0]);
  });

  it('applies ReLU when asked, and rejects bad shapes', () => {
    const input = new Tensor(1, 1, 2, new Float32Array([1, -1]));
    const out = zerosF32(1, 1, 2);
    conv2dF32Reference(input, new Float32Array([2]), new Float32Array([0]), out, 1, true);
    expect(Array.from(out.data)).toEqual([2, 0]);
    expect(() => conv2dF32Reference(input, new Float32Array(3), new Float32Array(1), out, 1, false)).toThrow(/weight has 3/);
    expect(() => conv2dF32Reference(input, new Float32Array(4), new Float32Array(1), out, 2, false)).toThrow(/odd/);
  });
});

describe('conv2dF32 (fast) equals the reference', () => {
  const random = rng(42);
  const cases: [number, number, number, number, number][] = [
    // cin, cout, k, height, width: edges first (1x1 images, 1-wide, odd sizes, cout not a multiple of 8)
    [1, 1, 3, 1, 1],
    [3, 16, 3, 1, 1],
    [2, 5, 5, 1, 7],
    [4, 9, 5, 7, 1],
    [3, 3, 3, 2, 3],
    [16, 16, 3, 13, 17],
    [16, 16, 5, 9, 12],
    [32, 32, 3, 6, 11],
    [32, 32, 5, 5, 5],
    [64, 16, 1, 7, 9],
    [48, 16, 1, 4, 3],
    [16, 64, 3, 5, 8],
    [16, 3, 3, 11, 10],
    [7, 13, 1, 3, 5],
    [5, 17, 5, 4, 4],
    // 1x1 rows wider than its panels (126 pixels in groups of 3: conv2d-core.ts), ending in
    // whole and partial groups of every size, over two and three panels
    [16, 8, 1, 3, 136],
    [11, 6, 1, 2, 260],
    [5, 4, 1, 2, 133],
    [6, 5, 1, 2, 128],
    [9, 7, 1, 1, 189],
  ];
  // 'direct' is the register-blocked loop; 'default' is what models use (Winograd for 3x3, 5x5).
  for (const [cin, cout, k, h, w] of cases) {
    for (const [relu, method] of [[false, 'direct'], [true, 'direct'], [false, 'default'], [true, 'default']] as const) {
      it(`cin ${cin} cout ${cout} k ${k} ${h}x${w} relu ${relu} ${method}`, () => {
        const input = randomTensor(cin, h, w, random, 100);
        const weight = randomF32(cout * cin * k * k, random, 0.3);
        const bias = randomF32(cout, random, 5);
        const expected = zerosF32(cout, h, w);
        conv2dF32Reference(input, weight, bias, expected, k, relu);
        const actual = zerosF32(cout, h, w);
        actual.data.fill(Number.NaN); // every output must be written
        const packed = packConv2dF32(weight, bias, cout, cin, k, method === 'direct' ? { method } : {});
        expect(packed.winograd !== undefined).toBe(method === 'default' && k > 1);
        conv2dF32(input, packed, actual, relu);
        expect(maxRelativeError(actual.data, expected.data)).toBeLessThan(1e-5);
      });
    }
  }

  for (const k of [3, 1]) {
    it(`writes into a channel slice without touching its neighbours (${k}x${k})`, () => {
      const input = randomTensor(4, 5, 6, random);
      const weight = randomF32(3 * 4 * k * k, random);
      const bias = randomF32(3, random);
      const big = zerosF32(9, 5, 6);
      big.data.fill(7);
      conv2dF32(input, packConv2dF32(weight, bias, 3, 4, k), big.channelSlice(3, 3), false);
      const expected = zerosF32(3, 5, 6);
      conv2dF32Reference(input, weight, bias, expected, k, false);
      expect(maxRelativeError(big.channelSlice(3, 3).data, expected.data)).toBeLessThan(1e-5);
      expect(big.channelSlice(0, 3).data.every((v) => v === 7)).toBe(true);
      expect(big.channelSlice(6, 3).data.every((v) => v === 7)).toBe(true);
    });
  }

  it('rejects mismatched channels and output shapes', () => {
    const packed = packConv2dF32(new Float32Array(2 * 3 * 9), new Float32Array(2), 2, 3, 3);
    expect(() => conv2dF32(zerosF32(4, 2, 2), packed, zerosF32(2, 2, 2), false)).toThrow(/4 channels/);
    expect(() => conv2dF32(zerosF32(3, 2, 2), packed, zerosF32(2, 2, 3), false)).toThrow(/expected 2x2x2/);
  });
});
