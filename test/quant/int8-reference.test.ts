import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeContainer } from '../../src/msrn/container.js';
import { receptiveFieldRadius } from '../../src/msrn/config.js';
import { buildModelF32 } from '../../src/msrn/model-f32.js';
import { forwardTiled } from '../../src/msrn/tiling.js';
import { readWeightBlob } from '../../src/msrn/weights-blob.js';
import { decodeImage } from '../../src/image/codec.js';
import { rgbaToTensor } from '../../src/image/pixels.js';
import { MaxCalibrator, forwardInt8, loadInt8Model, quantizeModel, writeInt8Blob } from '../../src/quant/index.js';
import { FIXTURES } from '../helpers/fixtures.js';

/**
 * Rung 3 of the correctness ladder: the TypeScript int8 path equals tools/int8_reference.py, an
 * independent implementation of docs/INT8.md with Python integers, byte for byte, on the output
 * and on every intermediate tensor (fixtures written by tools/make_int8_fixtures.py).
 */
const dir = join(FIXTURES, 'int8');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  name: string;
  blob: string;
  fp32: string;
  input: string;
  expected: string;
  calib: string;
}[];
const calibrationImages = ['0.png', '1.png', '2.png'].map((f) => rgbaToTensor(decodeImage(readFileSync(join(dir, 'calib', f)))));

describe('int8 path equals the independent Python reference bit for bit', () => {
  for (const fixture of manifest) {
    const blobBytes = readFileSync(join(dir, fixture.blob));
    const model = loadInt8Model(blobBytes);
    const image = rgbaToTensor(decodeImage(readFileSync(join(dir, fixture.input))));
    const expected = decodeContainer(readFileSync(join(dir, fixture.expected)), 'fixture').tensors;

    it(`${fixture.name}: output and every intermediate`, () => {
      const seen: string[] = [];
      const output = forwardInt8(model, image, (name, t) => {
        const reference = expected.get(name);
        expect(reference, `the reference has '${name}'`).toBeDefined();
        expect(t.shape, name).toEqual(reference!.shape);
        expect(Array.from(t.data), name).toEqual(Array.from(reference!.data));
        seen.push(name);
      });
      expect(seen).toContain('output');
      expect(seen.length).toBe(expected.size);
      expect(Array.from(output.data)).toEqual(Array.from(expected.get('output')!.data));
    });

    it(`${fixture.name}: same bytes when tiled`, () => {
      const tiled = forwardTiled((t) => forwardInt8(model, t), image, model.config.scale, 5, receptiveFieldRadius(model.config));
      expect(Array.from(tiled.data)).toEqual(Array.from(expected.get('output')!.data));
    });

    it(`${fixture.name}: calibrating again reproduces the blob byte for byte`, () => {
      const fp32 = readWeightBlob(readFileSync(join(dir, fixture.fp32)));
      const calibrator = new MaxCalibrator(buildModelF32(fp32));
      for (const calibrationImage of calibrationImages) calibrator.addImage(calibrationImage);
      expect(writeInt8Blob(quantizeModel(fp32, calibrator.result()))).toEqual(new Uint8Array(blobBytes));
    });
  }
});
