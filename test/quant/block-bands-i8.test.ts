import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { DEFAULT_CONFIG, MsrnConfig } from '../../src/msrn/config.js';
import { buildModelF32 } from '../../src/msrn/model-f32.js';
import { readWeightBlob, writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { MaxCalibrator } from '../../src/quant/calibrate.js';
import { quantizeModel } from '../../src/quant/quantize.js';
import { buildInt8Model } from '../../src/quant/int8-model.js';
import { conv2dI8 } from '../../src/quant/conv2d-i8.js';
import { addI8, addI8FromBand, addI8Reference } from '../../src/quant/add-i8.js';
import { blockBandsI8, blockSecondHalfI8 } from '../../src/quant/block-bands-i8.js';
import { ConvWindow, wholeWindow } from '../../src/tensor/region.js';
import { threadMemory } from '../../src/tensor/gang.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { rng, syntheticImage } from '../helpers/random.js';

const random = rng(61);

function randomI8(c: number, h: number, w: number, lo: number): Tensor<Int8Array> {
  const data = new Int8Array(c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = lo + Math.floor(random() * (128 - lo));
  return new Tensor(c, h, w, data);
}

/**
 * The int8 banded MSRB second half (block-bands-i8.ts) against the same layers run whole:
 * conv_3_2 and conv_5_2 into a whole cat2, the confusion, the requantizing add; byte for byte on
 * the window's rows and columns, nothing written outside them. The same shapes, windows and
 * chunks as the fp32 test.
 */
describe('blockSecondHalfI8 equals conv_3_2, conv_5_2, confusion and addI8 run whole', () => {
  const n = 4;
  const config: MsrnConfig = { ...DEFAULT_CONFIG, nFeats: n, nBlocks: 1 };
  const fp32 = writeWeightBlob(config, fixtureStateDict(config, 62));
  const calibrator = new MaxCalibrator(buildModelF32(readWeightBlob(fp32)));
  calibrator.addImage(syntheticImage(20, 20, random));
  const model = buildInt8Model(quantizeModel(readWeightBlob(fp32), calibrator.result()));
  const conv = (name: string) => model.convs.get(`body.0.${name}`)!;

  const cases: { h: number; w: number; window?: ConvWindow; rows?: [number, number] }[] = [
    { h: 1, w: 1 },
    { h: 9, w: 12 },
    { h: 77, w: 21 },
    { h: 50, w: 19, window: { output: { y0: 6, y1: 41, x0: 3, x1: 15 }, input: { y0: 4, y1: 43, x0: 1, x1: 17 } } },
    { h: 80, w: 9, rows: [16, 59] },
  ];
  for (const { h, w, window, rows } of cases) {
    it(`${h}x${w}${window ? ', a tile window' : ''}${rows ? `, rows ${rows[0]}..${rows[1]}` : ''}`, () => {
      const whole = window ?? wholeWindow(h, w);
      const cat1 = randomI8(2 * n, h, w, 0); // ReLU outputs: 0..127
      const blockInput = randomI8(n, h, w, -127);
      const y0 = rows ? rows[0] : whole.output.y0;
      const y1 = rows ? rows[1] : whole.output.y1;

      const cat2 = new Tensor(4 * n, h, w, new Int8Array(4 * n * h * w));
      conv2dI8(cat1, conv('conv_3_2'), cat2.channelSlice(0, 2 * n), whole);
      conv2dI8(cat1, conv('conv_5_2'), cat2.channelSlice(2 * n, 2 * n), whole);
      const expected = new Tensor(n, h, w, new Int8Array(n * h * w));
      conv2dI8(cat2, conv('confusion'), expected, { input: whole.output, output: whole.output });
      addI8(expected, blockInput, model.adds.get('body.0.add')!, expected);

      const sentinel = 99; // marks the bytes not written
      const got = new Tensor(n, h, w, new Int8Array(n * h * w).fill(sentinel));
      blockSecondHalfI8(model, 0, cat1, blockInput, got, whole, { y0, y1 }, blockBandsI8(threadMemory, n, h, w));
      let inside = 0;
      for (let c = 0; c < n; c++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const i = (c * h + y) * w + x;
            if (y >= y0 && y < y1 && x >= whole.output.x0 && x < whole.output.x1) {
              expect(got.data[i]).toBe(expected.data[i]);
              inside++;
            } else {
              expect(got.data[i]).toBe(sentinel);
            }
          }
        }
      }
      expect(inside).toBe(n * (y1 - y0) * (whole.output.x1 - whole.output.x0));
    });
  }
});

describe('addI8FromBand', () => {
  it('is addI8Reference on the band rows it names', () => {
    const params = Int32Array.from([20, 1518500250, -1, 1518500250, -2, 1073741824, -19]);
    const [c, h, w] = [3, 10, 7];
    const residual = randomI8(c, h, w, -127);
    const band = randomI8(c, 6, w, -127);
    const out = new Tensor(c, h, w, new Int8Array(c * h * w).fill(5));
    addI8FromBand(band, 1, residual, params, out, 4, 8, 2, 6); // band rows 1..4 -> rows 4..7, columns 2..5
    const shifted = new Tensor(c, h, w, new Int8Array(c * h * w));
    for (let ch = 0; ch < c; ch++) for (let y = 4; y < 8; y++) for (let x = 0; x < w; x++) shifted.data[(ch * h + y) * w + x] = band.data[(ch * 6 + y - 3) * w + x];
    const expected = new Tensor(c, h, w, new Int8Array(c * h * w));
    addI8Reference(shifted, residual, params, expected);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (ch * h + y) * w + x;
          expect(out.data[i]).toBe(y >= 4 && y < 8 && x >= 2 && x < 6 ? expected.data[i] : 5);
        }
      }
    }
  });

  it('rejects a band that does not hold the rows', () => {
    const t = new Tensor(2, 8, 4, new Int8Array(64));
    const band = new Tensor(2, 3, 4, new Int8Array(24));
    expect(() => addI8FromBand(band, 1, t, Int32Array.from([20, 1, -1, 1, -1, 1, -1]), t, 0, 3, 0, 4)).toThrow(/does not hold rows 0\.\.2/);
  });
});
