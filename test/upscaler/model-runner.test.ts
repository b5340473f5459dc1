import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/msrn/config.js';
import { readWeightBlob, writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { decodeModel, decodeModelLazily, forwardModel, loadedConfig } from '../../src/upscaler/model-runner.js';
import { MaxCalibrator, QuantizationError, quantizeModel } from '../../src/quant/index.js';
import { buildModelF32 } from '../../src/msrn/model-f32.js';
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
