import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/msrn/config.js';
import { readWeightBlob, writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { decodeModel, decodeModelLazily, forwardModel, loadedConfig } from '../../src/upscaler/model-runner.js';
import { MaxCalibrator, QuantizationError, quantizeModel } from '../../src/quant/index.js';
import { buildModelF32 } from '../../src/msrn/model-f32.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { maxAbsError, rng, syntheticImage } from '../helpers/random.js';

describe('forwardModel', () => {
  it('takes and returns 0..255 pixels whatever rgb_range the model was trained with', () => {
    // A ReLU network with every bias divided by 255 computes f(x / 255) = f(x) / 255 exactly in
    // real arithmetic: the same model, trained on 0..1 pixels.
    const config = { ...DEFAULT_CONFIG, nFeats: 8, nBlocks: 1 };
    const tensors = fixtureStateDict(config, 9);
    const unit = new Map([...tensors].map(([name, v]) => [name, name.endsWith('.bias') ? v.map((b) => b / 255) : v]));
    const a = decodeModel('fp32', writeWeightBlob(config, tensors));
    const b = decodeModel('fp32', writeWeightBlob({ ...config, rgbRange: 1 }, unit));
    const image = syntheticImage(12, 10, rng(3));
    const outA = forwardModel(a, image).data as Float32Array;
    const outB = forwardModel(b, image).data as Float32Array;
    expect(maxAbsError(outB, outA)).toBeLessThan(1e-2);
  });

  it('reuseOutput: the same values in a reused slot, for whole images and tile cores', () => {
    const config = { ...DEFAULT_CONFIG, nFeats: 8, nBlocks: 1 };
    const model = decodeModel('fp32', writeWeightBlob(config, fixtureStateDict(config, 5)));
    const image = syntheticImage(14, 11, rng(8));
    const fresh = forwardModel(model, image).data.slice();
    const first = forwardModel(model, image, undefined, true);
    expect(first.data).toEqual(fresh);
    const core = { y0: 2, y1: 9, x0: 3, x1: 8 };
    const freshCore = forwardModel(model, image, core).data.slice();
    const again = forwardModel(model, image, core, true);
    expect(again.data.buffer).toBe(first.data.buffer); // the slot, not fresh memory
    for (let c = 0; c < 3; c++) {
      for (let y = 2 * core.y0; y < 2 * core.y1; y++) {
        for (let x = 2 * core.x0; x < 2 * core.x1; x++) {
          const i = (c * 28 + y) * 22 + x;
          expect(again.data[i]).toBe(freshCore[i]);
        }
      }
    }
  });

  it('forwardF32 writes into a given output, and refuses one of the wrong shape', () => {
    const config = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1 };
    const model = buildModelF32(readWeightBlob(writeWeightBlob(config, fixtureStateDict(config, 6))));
    const image = syntheticImage(6, 7, rng(2));
    const into = new Tensor(3, 12, 14, new Float32Array(3 * 12 * 14).fill(Number.NaN));
    expect(forwardF32(model, image, undefined, undefined, into)).toBe(into);
    expect(into.data).toEqual(forwardF32(model, image).data);
    expect(() => forwardF32(model, image, undefined, undefined, new Tensor(3, 12, 13, new Float32Array(3 * 12 * 13)))).toThrow(
      /forwardF32: output is 3x12x13, expected 3x12x14/,
    );
  });

  it('refuses int8 for a model that is not on 0..255', () => {
    const config = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, rgbRange: 1 };
    const blob = readWeightBlob(writeWeightBlob(config, fixtureStateDict(config, 2)));
    const calibrator = new MaxCalibrator(buildModelF32(blob));
    calibrator.addImage(syntheticImage(8, 8, rng(1)));
    expect(() => quantizeModel(blob, calibrator.result())).toThrow(QuantizationError);
    expect(() => quantizeModel(blob, calibrator.result())).toThrow(/rgb_range 255\); this one has rgb_range 1/);
  });
});

describe('decodeModelLazily', () => {
  it('validates at once, packs on first use, and runs the same model as decodeModel', () => {
    const config = { ...DEFAULT_CONFIG, nFeats: 8, nBlocks: 1 };
    const bytes = writeWeightBlob(config, fixtureStateDict(config, 4));
    const lazy = decodeModelLazily('fp32', bytes);
    expect(loadedConfig(lazy)).toEqual(config);
    expect(lazy.model).toBe(lazy.model); // packed once
    const image = syntheticImage(9, 7, rng(2));
    expect(forwardModel(lazy, image).data).toEqual(forwardModel(decodeModel('fp32', bytes), image).data);
    expect(loadedConfig(decodeModel('fp32', bytes))).toEqual(config);

    const corrupt = bytes.slice();
    corrupt[corrupt.length - 10] ^= 1;
    expect(() => decodeModelLazily('fp32', corrupt)).toThrow(/checksum|CRC/i);
    expect(() => decodeModelLazily('int8', bytes)).toThrow(/precision int8 needs an int8 model/);
    expect(() => decodeModel('int8', bytes)).toThrow(/precision int8 needs an int8 model/);
  });
});
