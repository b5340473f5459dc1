import { PackedConv2dF32, packConv2dF32 } from '../ops/conv2d-f32.js';

/**
 * The last MSRB's confusion and residual add, folded into tail.0 (the fp32 forward, unobserved).
 *
 * tail.0 is a 1x1 conv over the concat of the block outputs and the head's,
 *   fusion = W_0 b_0 + ... + W_{B-1} b_{B-1} + W_h h + bias,
 * and the last block's output is only ever read there:
 *   b_{B-1} = C c + c_bias + b_{B-2}      (c: the block's 4n-channel cat2; b_{-1} is h)
 * so
 *   fusion = (W_{B-1} C) c  +  [W_0 .. W_{B-2} + W_{B-1} .. W_h] [b_0 .. b_{B-2}, h]  +  (bias + W_{B-1} c_bias)
 * with W_{B-1} added to the weights of whichever input was the last block's residual. Two 1x1
 * convs again, but the first has the confusion's shape (4n -> n) and the second one input slot
 * fewer than tail.0 (B n -> n instead of (B + 1) n -> n): n^2 multiply-adds a pixel fewer, and
 * the last block's output is never written. For the model card (n 16, 2 blocks) that is 256 of
 * the 1,792 the two 1x1s took.
 *
 * The fp32 forward keeps its feature slots in the order [b_0 .. b_{B-2}, h, tail.0's output] when
 * it folds (forward-f32.ts), so the second conv reads one contiguous channel range. Equal to the
 * official graph up to float rounding (tested, and against PyTorch through the golden fixtures).
 * Only fp32: the int8 graph rounds the block output before tail.0.
 */
export interface FoldedFusionF32 {
  /** W_{B-1} C: the last block's cat2 (4n) -> n, no bias */
  readonly confusion: PackedConv2dF32;
  /** [b_0 .. b_{B-2}, h] (B n) -> n, with tail.0's bias and the confusion's through W_{B-1} */
  readonly rest: PackedConv2dF32;
}

/**
 * From the PyTorch-layout 1x1 weights: the last block's confusion ([n][4n], [n]) and tail.0
 * ([n][(B + 1) n] over [b_0 .. b_{B-1}, h], [n]).
 */
export function foldFusionF32(
  confusionWeight: Float32Array,
  confusionBias: Float32Array,
  fusionWeight: Float32Array,
  fusionBias: Float32Array,
  n: number,
  blocks: number,
): FoldedFusionF32 {
  const cat2 = 4 * n;
  const fusionIn = (blocks + 1) * n;
  if (confusionWeight.length !== n * cat2 || confusionBias.length !== n || fusionWeight.length !== n * fusionIn || fusionBias.length !== n) {
    throw new RangeError(`foldFusionF32: weights do not match n = ${n} with ${blocks} blocks`);
  }
  const lastSlot = (blocks - 1) * n; // where W_{B-1} starts in tail.0's input
  // the last block's residual input, as a slot of the folded conv's input [b_0 .. b_{B-2}, h]
  const residualSlot = blocks >= 2 ? blocks - 2 : blocks - 1;

  const confusion = new Float64Array(n * cat2);
  const restIn = blocks * n;
  const rest = new Float64Array(n * restIn);
  const bias = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    bias[o] = fusionBias[o];
    for (let k = 0; k < n; k++) {
      const w = fusionWeight[o * fusionIn + lastSlot + k];
      bias[o] += w * confusionBias[k];
      for (let j = 0; j < cat2; j++) confusion[o * cat2 + j] += w * confusionWeight[k * cat2 + j];
      rest[o * restIn + residualSlot * n + k] += w;
    }
    // the other inputs keep their weights: b_0 .. b_{B-2} in place, h (tail.0's last slot) moved up one
    for (let s = 0; s < blocks; s++) {
      const from = s < blocks - 1 ? s : blocks; // official slot
      for (let k = 0; k < n; k++) rest[o * restIn + s * n + k] += fusionWeight[o * fusionIn + from * n + k];
    }
  }
  return {
    confusion: packConv2dF32(confusion, new Float64Array(n), n, cat2, 1),
    rest: packConv2dF32(rest, bias, n, restIn, 1),
  };
}
