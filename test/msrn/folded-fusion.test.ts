import { describe, expect, it } from 'vitest';
import { Tensor, zerosF32 } from '../../src/tensor/tensor.js';
import { DEFAULT_CONFIG, MsrnConfig } from '../../src/msrn/config.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { loadModelF32 } from '../../src/msrn/model-f32.js';
import { writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { foldFusionF32 } from '../../src/msrn/folded-fusion.js';
import { bandsSaveMemory } from '../../src/msrn/block-bands.js';
import { conv2dF32 } from '../../src/ops/conv2d-f32.js';
import { conv2dF32Reference } from '../../src/ops/conv2d-reference.js';
import { add } from '../../src/ops/elementwise.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { maxAbsError, randomF32, randomTensor, rng } from '../helpers/random.js';

const random = rng(57);

/**
 * The last block's confusion and residual add folded into tail.0 (folded-fusion.ts) against the
 * official order: confusion, residual add, then the 1x1 fusion over [block 0 .. block B-1, head],
 * by the plain reference conv.
 */
describe('foldFusionF32: confusion + residual add + tail.0 as two 1x1 convs', () => {
  for (const blocks of [1, 2, 3]) {
    it(`${blocks} block${blocks > 1 ? 's' : ''}`, () => {
      const n = 4;
      const [h, w] = [5, 7];
      const confusionWeight = randomF32(n * 4 * n, random, 0.5);
      const confusionBias = randomF32(n, random, 0.5);
      const fusionWeight = randomF32(n * (blocks + 1) * n, random, 0.5);
      const fusionBias = randomF32(n, random, 0.5);
      const cat2 = randomTensor(4 * n, h, w, random, 10);
      // official: [b_0 .. b_{B-1}, h], b_{B-1} = confusion(cat2) + (b_{B-2}, or h with one block)
      const official = zerosF32((blocks + 1) * n, h, w);
      official.data.set(randomF32((blocks - 1) * n * h * w, random, 10)); // b_0 .. b_{B-2}
      official.channelSlice(blocks * n, n).data.set(randomF32(n * h * w, random, 10)); // h
      const last = official.channelSlice((blocks - 1) * n, n);
      conv2dF32Reference(cat2, confusionWeight, confusionBias, last, 1, false);
      add(last, official.channelSlice((blocks >= 2 ? blocks - 2 : blocks) * n, n), last);
      const expected = zerosF32(n, h, w);
      conv2dF32Reference(official, fusionWeight, fusionBias, expected, 1, false);

      const folded = foldFusionF32(confusionWeight, confusionBias, fusionWeight, fusionBias, n, blocks);
      // folded: [b_0 .. b_{B-2}, h] through `rest`, plus cat2 through `confusion`
      const rest = zerosF32(blocks * n, h, w);
      rest.data.set(official.data.subarray(0, (blocks - 1) * n * h * w));
      rest.channelSlice((blocks - 1) * n, n).data.set(official.channelSlice(blocks * n, n).data);
      const actual = zerosF32(n, h, w);
      conv2dF32(rest, folded.rest, actual, false);
      const fromCat2 = zerosF32(n, h, w);
      conv2dF32(cat2, folded.confusion, fromCat2, false);
      add(actual, fromCat2, actual);

      const scale = Math.max(...expected.data.map(Math.abs));
      expect(scale).toBeGreaterThan(5);
      expect(maxAbsError(actual.data, expected.data)).toBeLessThan(2e-6 * scale);
    });
  }

  it('rejects weights of the wrong size', () => {
    expect(() => foldFusionF32(new Float32Array(63), new Float32Array(4), new Float32Array(48), new Float32Array(4), 4, 2)).toThrow(/n = 4 with 2 blocks/);
  });
});

describe('forwardF32 folds the last confusion into tail.0 without an observer; it agrees with the official graph', () => {
  // 70x70 bands the second half on one thread, 9x11 keeps cat2 whole: both ways of the last block
  const cases: [number, number, number][] = [[1, 9, 11], [2, 9, 11], [3, 9, 11], [2, 70, 70], [1, 70, 70]];
  for (const [nBlocks, h, w] of cases) {
    it(`${nBlocks} block${nBlocks > 1 ? 's' : ''}, ${h}x${w}${bandsSaveMemory(h, w, 1) ? ' (banded)' : ''}`, () => {
      const config: MsrnConfig = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks };
      const model = loadModelF32(writeWeightBlob(config, fixtureStateDict(config, 40 + nBlocks)));
      const image = new Tensor(3, h, w, Float32Array.from({ length: 3 * h * w }, () => Math.floor(random() * 256)));
      const seen: string[] = [];
      const official = forwardF32(model, image, (name) => seen.push(name));
      expect(seen).toContain('tail.0');
      const folded = forwardF32(model, image);
      expect(maxAbsError(folded.data, official.data)).toBeLessThan(1e-3);
      // and tiles (layer windows) of the folded graph agree with it
      const core = { y0: 2, y1: h - 3, x0: 1, x1: w - 2 };
      const tile = forwardF32(model, image, undefined, core);
      for (let c = 0; c < 3; c++) {
        for (let y = core.y0 * 2; y < core.y1 * 2; y++) {
          const row = (c * h * 2 + y) * w * 2;
          expect(maxAbsError(tile.data.subarray(row + core.x0 * 2, row + core.x1 * 2), folded.data.subarray(row + core.x0 * 2, row + core.x1 * 2))).toBeLessThan(1e-3);
        }
      }
    });
  }
});
