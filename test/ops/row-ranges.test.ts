/**
 * The pointwise ops with a row range (what a gang member computes of them, tensor/gang.ts):
 * inside the rows, exactly what the whole op gives; outside, nothing touched.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, TypedBuffer } from '../../src/tensor/tensor.js';
import { add, addFromBand, addReference } from '../../src/ops/elementwise.js';
import { meanShift } from '../../src/ops/mean-shift.js';
import { pixelShuffle } from '../../src/ops/pixel-shuffle.js';
import { packConv2d } from '../../src/ops/conv2d-core.js';
import { addI8 } from '../../src/quant/add-i8.js';
import { conv2dI8 } from '../../src/quant/conv2d-i8.js';
import { packConv2dI8FewChannels } from '../../src/quant/conv2d-i8-few-channels.js';
import { planRequantize, quantizeMultiplier } from '../../src/quant/requantize.js';
import { randomTensor, rng } from '../helpers/random.js';

const random = rng(5);
const SENTINEL = 77;

/** `run(out, rows)` on rows y0..y1 of a tensor of `outRows` rows must equal the whole op there and leave the rest at SENTINEL. */
function checkRows<B extends TypedBuffer>(make: () => Tensor<B>, run: (out: Tensor<B>, rows?: { y0: number; y1: number }) => void, rowsOut: (y0: number, y1: number) => [number, number], height: number): void {
  const whole = make();
  run(whole);
  for (const [y0, y1] of [[0, 1], [2, height], [1, height - 1], [0, height]]) {
    const part = make();
    part.data.fill(SENTINEL);
    run(part, { y0, y1 });
    const [r0, r1] = rowsOut(y0, y1);
    for (let c = 0; c < part.channels; c++) {
      for (let y = 0; y < part.height; y++) {
        const from = (c * part.height + y) * part.width;
        const got = Array.from(part.data.subarray(from, from + part.width));
        const want = y >= r0 && y < r1 ? Array.from(whole.data.subarray(from, from + part.width)) : got.map(() => SENTINEL);
        expect(got, `rows ${y0}..${y1}, channel ${c}, row ${y}`).toEqual(want);
      }
    }
  }
}

describe('pointwise ops on a row range', () => {
  const [h, w] = [7, 5];
  const same = (y0: number, y1: number): [number, number] => [y0, y1];

  it('add and meanShift', () => {
    const a = randomTensor(3, h, w, random, 100);
    const b = randomTensor(3, h, w, random, 100);
    checkRows(() => new Tensor(3, h, w, new Float32Array(3 * h * w)), (out, rows) => add(a, b, out, rows), same, h);
    const weight = Float32Array.from({ length: 9 }, () => random() - 0.5);
    const bias = Float32Array.from([-110, -100, -90]);
    checkRows(() => new Tensor(3, h, w, new Float32Array(3 * h * w)), (out, rows) => meanShift(a, weight, bias, out, rows), same, h);
  });

  it('pixelShuffle: input rows y0..y1 make output rows r y0 .. r y1', () => {
    for (const r of [2, 3]) {
      const input = randomTensor(2 * r * r, h, w, random);
      checkRows(() => new Tensor(2, h * r, w * r, new Float32Array(2 * h * r * w * r)), (out, rows) => pixelShuffle(input, r, out, rows), (y0, y1) => [y0 * r, y1 * r], h);
    }
  });

  it('addI8 and the few-channels int8 1x1 (through conv2dI8 with a window)', () => {
    const int8 = (n: number) => Int8Array.from({ length: n }, () => Math.floor(random() * 255) - 127);
    const a = new Tensor(3, h, w, int8(3 * h * w));
    const b = new Tensor(3, h, w, int8(3 * h * w));
    const params = Int32Array.from([20, 1 << 30, -1, 1 << 30, -1, 1 << 30, -19]);
    checkRows(() => new Tensor(3, h, w, new Int8Array(3 * h * w)), (out, rows) => addI8(a, b, params, out, rows), same, h);
    const weight = Int8Array.from([127, 0, 0, 0, 127, -1, 3, -2, 120]);
    const bias = Int32Array.from([-1400, 50, 900]);
    const m = quantizeMultiplier(1 / 127);
    const requantize = planRequantize(new Int32Array(3).fill(m.multiplier), new Int32Array(3).fill(m.shift), 0, 255);
    const conv = { packed: packConv2d(weight, bias, 3, 3, 1), requantize, fewChannels: packConv2dI8FewChannels(weight, bias, 3, 3, 1) };
    const image = new Tensor(3, h, w, Uint8Array.from({ length: 3 * h * w }, () => Math.floor(random() * 256)));
    const whole = { y0: 0, y1: h, x0: 0, x1: w };
    checkRows(
      () => new Tensor(3, h, w, new Uint8Array(3 * h * w)),
      (out, rows) => conv2dI8(image, conv, out, rows && { input: whole, output: { ...whole, ...rows } }),
      same,
      h,
    );
  });
});

describe('addFromBand', () => {
  it('is addReference on the band rows it names, and touches nothing else', () => {
    const [c, h, w] = [3, 10, 7];
    const residual = randomTensor(c, h, w, random, 5);
    const band = randomTensor(c, 6, w, random, 5);
    const out = new Tensor(c, h, w, new Float32Array(c * h * w).fill(SENTINEL));
    addFromBand(band, 1, residual, out, 4, 8, 2, 6); // band rows 1..4 -> rows 4..7, columns 2..5
    const shifted = new Tensor(c, h, w, new Float32Array(c * h * w));
    for (let ch = 0; ch < c; ch++) for (let y = 4; y < 8; y++) for (let x = 0; x < w; x++) shifted.data[(ch * h + y) * w + x] = band.data[(ch * 6 + y - 3) * w + x];
    const expected = new Tensor(c, h, w, new Float32Array(c * h * w));
    addReference(shifted, residual, expected);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (ch * h + y) * w + x;
          expect(out.data[i]).toBe(y >= 4 && y < 8 && x >= 2 && x < 6 ? expected.data[i] : SENTINEL);
        }
      }
    }
  });

  it('rejects a band that does not hold the rows', () => {
    const t = new Tensor(2, 8, 4, new Float32Array(64));
    const band = new Tensor(2, 3, 4, new Float32Array(24));
    expect(() => addFromBand(band, 1, t, t, 0, 3, 0, 4)).toThrow(/addFromBand: .* does not hold rows 0\.\.2/);
    expect(() => addFromBand(new Tensor(1, 8, 4, new Float32Array(32)), 0, t, t, 0, 3, 0, 4)).toThrow(/does not hold rows/);
  });
});
