import { describe, expect, it } from 'vitest';
import { Tensor, zerosF32 } from '../../src/tensor/tensor.js';
import { MsrnConfig, DEFAULT_CONFIG, Scale } from '../../src/msrn/config.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { loadModelF32 } from '../../src/msrn/model-f32.js';
import { writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { runFusedTailF32 } from '../../src/msrn/fused-tail.js';
import { conv2dF32Reference } from '../../src/ops/conv2d-reference.js';
import { pixelShuffleReference } from '../../src/ops/pixel-shuffle.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { maxAbsError, randomTensor, rng } from '../helpers/random.js';

const random = rng(31);

/**
 * The folded tail (fused-tail.ts) against the official one: the last upsampler conv, PixelShuffle,
 * tail.3 at HR and add_mean, here by the plain reference ops. Shapes include 1-pixel images (every
 * output pixel on the border ring), single rows and columns, and widths that are no multiple of
 * the Winograd tile.
 */
describe('the folded fp32 tail equals upsampler conv + PixelShuffle + tail.3 + add_mean', () => {
  const shapes: [number, number][] = [[1, 1], [1, 6], [5, 1], [2, 2], [7, 9], [13, 17]];
  for (const scale of [2, 3, 4] as Scale[]) {
    it(`x${scale}`, () => {
      const config: MsrnConfig = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale };
      const tensors = fixtureStateDict(config, 100 + scale);
      const model = loadModelF32(writeWeightBlob(config, tensors));
      const last = model.upsampler[model.upsampler.length - 1];
      const w = (name: string) => tensors.get(name)!;
      const n = config.nFeats;
      for (const [h, wd] of shapes) {
        const input = randomTensor(n, h, wd, random, 30); // activations of a few tens, as in a real net
        const f = last.factor;
        const expanded = zerosF32(n * f * f, h, wd);
        conv2dF32Reference(input, w(`${last.prefix}.weight`), w(`${last.prefix}.bias`), expanded, 3, false);
        const shuffled = zerosF32(n, h * f, wd * f);
        pixelShuffleReference(expanded, f, shuffled);
        const hr = zerosF32(3, h * f, wd * f);
        conv2dF32Reference(shuffled, w('tail.3.weight'), w('tail.3.bias'), hr, 3, false);
        const expected = zerosF32(3, h * f, wd * f);
        conv2dF32Reference(hr, w('add_mean.weight'), w('add_mean.bias'), expected, 1, false);

        const actual = runFusedTailF32(input, model.fusedTail);
        expect(actual.shape).toEqual(expected.shape);
        const scaleOfValues = Math.max(...expected.data.map(Math.abs));
        expect(scaleOfValues).toBeGreaterThan(10);
        expect(maxAbsError(actual.data, expected.data)).toBeLessThan(2e-6 * scaleOfValues);
      }
    });
  }

  it('forwardF32 folds without an observer and runs the official graph with one; the two agree', () => {
    for (const scale of [2, 3, 8] as Scale[]) {
      const config: MsrnConfig = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale };
      const model = loadModelF32(writeWeightBlob(config, fixtureStateDict(config, 7)));
      const image = new Tensor(3, 6, 5, Float32Array.from({ length: 90 }, () => Math.floor(random() * 256)));
      const seen: string[] = [];
      const official = forwardF32(model, image, (name) => seen.push(name));
      expect(seen).toContain('tail.3');
      const folded = forwardF32(model, image);
      expect(maxAbsError(folded.data, official.data)).toBeLessThan(1e-4);
    }
  });
});
