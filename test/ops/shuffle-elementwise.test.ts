import { describe, expect, it } from 'vitest';
import { Tensor, zerosF32, zerosI8 } from '../../src/tensor/tensor.js';
import { pixelShuffle, pixelShuffleReference } from '../../src/ops/pixel-shuffle.js';
import {
  add,
  addReference,
  concatChannels,
  concatChannelsReference,
  relu,
  reluReference,
} from '../../src/ops/elementwise.js';
import { meanShift } from '../../src/ops/mean-shift.js';
import { conv2dF32Reference } from '../../src/ops/conv2d-reference.js';
import { maxRelativeError, randomF32, randomTensor, rng } from '../helpers/random.js';

const random = rng(7);

describe('pixelShuffle', () => {
  it("follows PyTorch's order on a hand example (4 channels, r = 2)", () => {
    // Channel k holds the value k everywhere: output (0,0)=c0, (0,1)=c1, (1,0)=c2, (1,1)=c3.
    const input = new Tensor(4, 1, 2, new Float32Array([0, 0, 1, 1, 2, 2, 3, 3]));
    const out = zerosF32(1, 2, 4);
    pixelShuffle(input, 2, out);
    expect(Array.from(out.data)).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
  });

  for (const [c, r, h, w] of [[1, 2, 1, 1], [3, 2, 5, 7], [2, 3, 4, 1], [16, 2, 3, 9], [4, 3, 2, 5], [1, 4, 3, 3]]) {
    it(`fast == reference, f32 and int8: ${c * r * r} channels r=${r} ${h}x${w}`, () => {
      const input = randomTensor(c * r * r, h, w, random);
      const expected = zerosF32(c, h * r, w * r);
      const actual = zerosF32(c, h * r, w * r);
      pixelShuffleReference(input, r, expected);
      pixelShuffle(input, r, actual);
      expect(actual.data).toEqual(expected.data);

      const input8 = new Tensor(c * r * r, h, w, Int8Array.from(input.data, (v) => Math.round(v * 127)));
      const expected8 = zerosI8(c, h * r, w * r);
      const actual8 = zerosI8(c, h * r, w * r);
      pixelShuffleReference(input8, r, expected8);
      pixelShuffle(input8, r, actual8);
      expect(actual8.data).toEqual(expected8.data);
    });
  }

  it('rejects channel counts that are not a multiple of r*r', () => {
    expect(() => pixelShuffle(zerosF32(3, 2, 2), 2, zerosF32(1, 4, 4))).toThrow(/not a multiple/);
  });
});

describe('element-wise ops', () => {
  for (const [c, h, w] of [[1, 1, 1], [3, 5, 7], [16, 4, 9]]) {
    it(`relu, add and concat: fast == reference for ${c}x${h}x${w}`, () => {
      const a = randomTensor(c, h, w, random, 10);
      const b = randomTensor(c, h, w, random, 10);
      const r1 = zerosF32(c, h, w);
      const r2 = zerosF32(c, h, w);
      reluReference(a, r1);
      relu(a, r2);
      expect(r2.data).toEqual(r1.data);
      expect(r1.data.every((v) => v >= 0)).toBe(true);

      addReference(a, b, r1);
      add(a, b, r2);
      expect(r2.data).toEqual(r1.data);

      const c1 = zerosF32(2 * c + 1, h, w);
      const c2 = zerosF32(2 * c + 1, h, w);
      const one = randomTensor(1, h, w, random);
      concatChannelsReference([a, one, b], c1);
      concatChannels([a, one, b], c2);
      expect(c2.data).toEqual(c1.data);
      // A channel slice of the concat is the input it came from: what the MSRN graph relies on.
      expect(c1.channelSlice(c + 1, c).data).toEqual(b.data);
      expect(c1.channelSlice(c, 1).data).toEqual(one.data);
    });
  }

  it('add works in place and concat checks shapes', () => {
    const a = new Tensor(1, 1, 2, new Float32Array([1, 2]));
    add(a, a, a);
    expect(Array.from(a.data)).toEqual([2, 4]);
    expect(() => concatChannels([zerosF32(1, 2, 2)], zerosF32(2, 2, 2))).toThrow(/1 channels in all/);
    expect(() => concatChannels([zerosF32(1, 2, 3)], zerosF32(1, 2, 2))).toThrow(/2x3/);
  });
});

describe('meanShift', () => {
  it('equals a 1x1 reference conv with an arbitrary 3x3 matrix, also in place', () => {
    const input = randomTensor(3, 6, 5, random, 255);
    const weight = randomF32(9, random);
    const bias = randomF32(3, random, 100);
    const expected = zerosF32(3, 6, 5);
    conv2dF32Reference(input, weight, bias, expected, 1, false);
    const actual = zerosF32(3, 6, 5);
    meanShift(input, weight, bias, actual);
    expect(maxRelativeError(actual.data, expected.data)).toBeLessThan(1e-6);
    meanShift(input, weight, bias, input);
    expect(input.data).toEqual(actual.data);
  });
});

describe('Tensor', () => {
  it('channel slices share memory and check bounds', () => {
    const t = zerosF32(4, 2, 3);
    t.channelSlice(2, 1).data.fill(5);
    expect(Array.from(t.data.subarray(12, 18))).toEqual([5, 5, 5, 5, 5, 5]);
    expect(t.data.subarray(0, 12).every((v) => v === 0)).toBe(true);
    expect(() => t.channelSlice(3, 2)).toThrow(/outside/);
    expect(() => new Tensor(2, 2, 2, new Float32Array(7))).toThrow(/needs 8/);
    expect(() => zerosF32(0, 2, 2)).toThrow(/positive integer/);
  });
});
