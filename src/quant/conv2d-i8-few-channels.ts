import { Tensor } from '../tensor/tensor.js';
import { RowRange } from '../tensor/region.js';
import { checkConvShapes } from '../ops/conv2d-reference.js';
import { RequantizePlan, requantizeRow } from './requantize.js';

/**
 * The int8 1x1 conv on few input channels: the mean shifts (3 -> 3, sub_mean on the u8 image,
 * add_mean at HR onto it). With 3 input channels the register-blocked engines waste most of
 * their work: the paired loop packs 8 output lanes for 3 channels, copies panels and unpacks
 * every row (measured: 75 M values/s). Here each output channel is a weighted sum of a few whole
 * planes, accumulated a chunk of pixels at a time in an L1-sized buffer (exact: small integers
 * in doubles) and requantized by requantizeRow.
 */
export const FEW_CHANNELS_MAX = 4;
const CHUNK = 512;

export interface FewChannelsConv2d {
  readonly inChannels: number;
  readonly outChannels: number;
  /** [Cout][Cin] */
  readonly weight: Float64Array;
  readonly bias: Float64Array;
}

/** The layer's weights for conv1x1FewChannelsI8, or null unless it is a 1x1 conv on at most 4 channels. */
export function packConv2dI8FewChannels(
  weight: Int8Array,
  bias: Int32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): FewChannelsConv2d | null {
  checkConvShapes(inChannels, outChannels, kernelSize, weight.length, bias.length);
  if (kernelSize !== 1 || inChannels > FEW_CHANNELS_MAX) return null;
  return { inChannels, outChannels, weight: Float64Array.from(weight), bias: Float64Array.from(bias) };
}

const chunkScratch = new Float64Array(CHUNK);

/** With `rows`, only those rows of the output (a pointwise conv: from the same rows of the input). */
export function conv1x1FewChannelsI8(
  input: Tensor<Int8Array> | Tensor<Uint8Array>,
  conv: FewChannelsConv2d,
  plan: RequantizePlan,
  output: Tensor<Int8Array> | Tensor<Uint8Array>,
  rows?: RowRange,
): void {
  const plane = input.height * input.width;
  const first = rows ? rows.y0 * input.width : 0;
  const end = rows ? rows.y1 * input.width : plane;
  const src = input.data;
  const dst = output.data;
  const { inChannels: cin, weight, bias } = conv;
  const acc = chunkScratch;
  for (let co = 0; co < conv.outChannels; co++) {
    for (let start = first; start < end; start += CHUNK) {
      const n = Math.min(CHUNK, end - start);
      acc.fill(bias[co], 0, n);
      // channel 0, 1, ... in order, as the other engines sum (the sums are exact either way)
      for (let ci = 0; ci < cin; ci++) {
        const w = weight[co * cin + ci];
        if (w === 0) continue;
        const from = ci * plane + start;
        for (let i = 0; i < n; i++) acc[i] += w * src[from + i];
      }
      requantizeRow(acc, 0, n, plan, co, dst, co * plane + start, false);
    }
  }
}

