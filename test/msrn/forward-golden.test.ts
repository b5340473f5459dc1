import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { loadModelF32 } from '../../src/msrn/model-f32.js';
import { writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { fixtureStateDict, stateDictCrc32 } from '../helpers/fixture-weights.js';
import { fp32Cases } from '../helpers/fixtures.js';
import { agreement, maxAbsError } from '../helpers/random.js';
import { toByte } from '../../src/image/pixels.js';

/**
 * Rung 2 of the correctness ladder: the fp32 forward pass equals PyTorch's (tools/make_fixtures.py)
 * to <= 1e-3 on the 0..255 output, and after 8-bit rounding >= 99.9% of values are identical with
 * none off by more than 1.
 */
describe('fp32 forward matches PyTorch on golden fixtures', () => {
  for (const fixture of fp32Cases()) {
    it(`${fixture.name} (n_feats ${fixture.config.nFeats}, n_blocks ${fixture.config.nBlocks}, x${fixture.config.scale}, ${fixture.inputShape[1]}x${fixture.inputShape[2]})`, () => {
      const tensors = fixtureStateDict(fixture.config, fixture.seed);
      // Both languages must have built the very same weights before outputs can be compared.
      expect(stateDictCrc32(tensors)).toBe(fixture.weightsCrc32);

      const model = loadModelF32(writeWeightBlob(fixture.config, tensors));
      const [c, h, w] = fixture.inputShape;
      // Both tails: folded into one LR conv (no observer), and the official graph (observed).
      const folded = forwardF32(model, new Tensor(c, h, w, fixture.input));
      const official = forwardF32(model, new Tensor(c, h, w, fixture.input), () => {});
      for (const output of [folded, official]) {
        expect(output.shape).toEqual(fixture.outputShape);
        expect(maxAbsError(output.data, fixture.output)).toBeLessThanOrEqual(1e-3);
        const rounded = agreement(Uint8Array.from(output.data, toByte), Uint8Array.from(fixture.output, toByte));
        expect(rounded.identical).toBeGreaterThanOrEqual(0.999);
        expect(rounded.worst).toBeLessThanOrEqual(1);
      }
    });
  }
});
