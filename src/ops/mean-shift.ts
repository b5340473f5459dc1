import { Tensor, assertSameShape } from '../tensor/tensor.js';
import { RowRange } from '../tensor/region.js';

/**
 * MSRN's MeanShift: a 1x1 conv from 3 channels to 3, i.e. out = W * in + b at every pixel, with W
 * a 3x3 matrix in PyTorch's [Cout, Cin] order. In a freshly built model W is identity and b is
 * -/+ rgbRange * rgbMean, but trained checkpoints may have moved both (the official code leaves
 * them trainable), so the full matrix is applied. Its reference is conv2dF32Reference with K = 1.
 * `output` may be `input` (in place). With `rows`, only those rows (every channel).
 */
export function meanShift(
  input: Tensor<Float32Array>,
  weight: Float32Array,
  bias: Float32Array,
  output: Tensor<Float32Array>,
  rows?: RowRange,
): void {
  if (input.channels !== 3) throw new RangeError(`meanShift: expects 3 channels, got ${input.channels}`);
  if (weight.length !== 9 || bias.length !== 3) {
    throw new RangeError(`meanShift: weight must have 9 values and bias 3, got ${weight.length} and ${bias.length}`);
  }
  assertSameShape('meanShift', input, output);
  const plane = input.planeSize;
  const src = input.data;
  const dst = output.data;
  const [w00, w01, w02, w10, w11, w12, w20, w21, w22] = weight;
  const [b0, b1, b2] = bias;
  const start = rows ? rows.y0 * input.width : 0;
  const end = rows ? rows.y1 * input.width : plane;
  for (let i = start; i < end; i++) {
    const r = src[i];
    const g = src[i + plane];
    const b = src[i + 2 * plane];
    // Same summation order as the reference conv: bias first, then channel 0, 1, 2.
    dst[i] = b0 + w00 * r + w01 * g + w02 * b;
    dst[i + plane] = b1 + w10 * r + w11 * g + w12 * b;
    dst[i + 2 * plane] = b2 + w20 * r + w21 * g + w22 * b;
  }
}
