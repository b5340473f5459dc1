import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { loadModelF32 } from '../../src/msrn/model-f32.js';
import { writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { fixtureStateDict, stateDictCrc32 } from '../helpers/fixture-weights.js';
import { fp32Cases } from '../helpers/fixtures.js';

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
      const output = forwardF32(model, new Tensor(c, h, w, fixture.input));
      expect(output.shape).toEqual(fixture.outputShape);

      let maxAbs = 0;
      let identical = 0;
      let maxRounded = 0;
      const round8 = (v: number) => Math.round(Math.min(255, Math.max(0, v)));
      for (let i = 0; i < output.data.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(output.data[i] - fixture.output[i]));
        const d = Math.abs(round8(output.data[i]) - round8(fixture.output[i]));
        if (d === 0) identical++;
        maxRounded = Math.max(maxRounded, d);
      }
      expect(maxAbs).toBeLessThanOrEqual(1e-3);
      expect(identical / output.data.length).toBeGreaterThanOrEqual(0.999);
      expect(maxRounded).toBeLessThanOrEqual(1);
    });
  }
});
