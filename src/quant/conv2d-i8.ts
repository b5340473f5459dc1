import { Tensor } from '../tensor/tensor.js';
import { ConvWindow, checkConvWindow } from '../tensor/region.js';
import { PackedConv2d, RowEpilogue, checkConvCall, conv2dRows } from '../ops/conv2d-core.js';
import { PackedWinograd, winogradRows } from '../ops/conv2d-winograd.js';
import { PairedConv2d, conv2dRowsPairs } from './conv2d-i8-packed.js';
import { checkReferenceShapes, convSumAt } from '../ops/conv2d-reference.js';
import { FewChannelsConv2d, conv1x1FewChannelsI8 } from './conv2d-i8-few-channels.js';
import { RequantizePlan, multiplyByQuantizedMultiplierReference, requantizeRow } from './requantize.js';
import { pixelShuffle, pixelShuffleShape } from '../ops/pixel-shuffle.js';

/**
 * Integer conv2d (docs/INT8.md section 4): int32 accumulation of int8 (or u8 image) inputs times
 * int8 weights plus an int32 bias, zero padding, then per-output-channel requantization and a
 * clamp (ReLU is the clamp [0, 127]; the output image clamps to [0, 255]).
 *
 * A 1x1 conv on at most 4 input channels (the mean shifts) sums whole planes
 * (conv2d-i8-few-channels.ts). Otherwise three engines compute the int32 accumulators, all
 * exactly:
 * - 3x3 and 5x5: the fp32 engine's Winograd conv (conv2d-winograd.ts), its float64 result
 *   rounded to the nearest integer. That is the exact sum because the layer's rounding-error
 *   bound (winogradIntegerErrorBound, computed from its weights at load) is below 1/4; a layer
 *   whose bound is not gets no Winograd packing.
 * - otherwise the loop of conv2d-i8-packed.ts (two channels per multiply-add) when the layer's
 *   sums allow it,
 * - else the direct loop of conv2d-core.ts: int8 values are exact in doubles and the sums stay
 *   far below 2^53.
 */
export interface QuantizedConv2d {
  readonly packed: PackedConv2d;
  /** the same weights two channels per double (conv2d-i8-packed.ts), when the layer allows it */
  readonly pairs?: PairedConv2d | null;
  /** the Winograd packing, when the layer's rounding-error bound allows it */
  readonly winograd?: PackedWinograd | null;
  /** the plane-summing loop (conv2d-i8-few-channels.ts), when the layer is a 1x1 conv on <= 4 channels */
  readonly fewChannels?: FewChannelsConv2d | null;
  /** multipliers, shifts and the output clamp, planned by planRequantize */
  readonly requantize: RequantizePlan;
}

type IntTensor = Tensor<Int8Array> | Tensor<Uint8Array>;

/**
 * With a window (tiled inference, see ConvWindow), only window.output is computed, from the
 * input inside window.input; the rest of the output is left as it was or written with bytes
 * nothing should read. The plane-summing 1x1 (the mean shifts) computes the window's output rows
 * whole (columns too).
 */
export function conv2dI8(input: IntTensor, conv: QuantizedConv2d, output: IntTensor, window?: ConvWindow): void {
  checkConvCall(input, conv.packed, output);
  checkConvWindow(window, input.height, input.width);
  if (conv.fewChannels) {
    conv1x1FewChannelsI8(input, conv.fewChannels, conv.requantize, output, window?.output);
    return;
  }
  const { height, width } = input;
  const plane = height * width;
  const dst = output.data;
  const plan = conv.requantize;
  const rowEpilogue = (round: boolean): RowEpilogue => (acc, stride, co0, lanes, y, x0, x1) => {
    for (let lane = 0; lane < lanes; lane++) {
      const co = co0 + lane;
      requantizeRow(acc, lane * stride + x0, x1 - x0, plan, co, dst, co * plane + y * width + x0, round);
    }
  };
  // Winograd accumulators are the exact integers to within its error bound: round them.
  if (conv.winograd) winogradRows(input, conv.winograd, rowEpilogue(true), undefined, window);
  else if (conv.pairs) conv2dRowsPairs(input, conv.pairs, rowEpilogue(false), window);
  else conv2dRows(input, conv.packed, rowEpilogue(false), window);
}

let shuffleRow = new Int8Array(0);

/**
 * conv2dI8 then PixelShuffle(factor) (the int8 upsampler), without the (Cout, H, W) tensor in
 * between: each requantized row goes straight to its places in the (Cout / f^2, f H, f W)
 * output, every f-th byte of one output row. A permutation of conv2dI8's bytes (tested against
 * conv2dI8 followed by pixelShuffle). Saves the shuffle's pass over the upsampled tensor and
 * the LR tensor itself (64 channels on the frame: 8.3 MB written, then read back).
 */
export function conv2dI8PixelShuffle(input: IntTensor, conv: QuantizedConv2d, factor: number, output: Tensor<Int8Array>, window?: ConvWindow): void {
  const f = factor;
  const { height, width } = input;
  const [c, h, w] = pixelShuffleShape(conv.packed.outChannels, height, width, f);
  if (input.channels !== conv.packed.inChannels) {
    throw new RangeError(`conv2d: input has ${input.channels} channels, the conv expects ${conv.packed.inChannels}`);
  }
  if (output.channels !== c || output.height !== h || output.width !== w) {
    throw new RangeError(`conv2dI8PixelShuffle: output is ${output.shape.join('x')}, expected ${c}x${h}x${w}`);
  }
  checkConvWindow(window, height, width);
  if (conv.fewChannels) {
    const expanded = new Tensor(conv.packed.outChannels, height, width, new Int8Array(conv.packed.outChannels * height * width));
    conv2dI8(input, conv, expanded, window);
    pixelShuffle(expanded, f, output);
    return;
  }
  if (shuffleRow.length < width) shuffleRow = new Int8Array(width);
  const row = shuffleRow;
  const dst = output.data;
  const plan = conv.requantize;
  const f2 = f * f;
  const outPlane = h * w;
  const rowEpilogue = (round: boolean): RowEpilogue => (acc, stride, co0, lanes, y, x0, x1) => {
    for (let lane = 0; lane < lanes; lane++) {
      const co = co0 + lane;
      requantizeRow(acc, lane * stride + x0, x1 - x0, plan, co, row, 0, round);
      const oc = Math.floor(co / f2);
      const phase = co - oc * f2;
      const dy = Math.floor(phase / f);
      scatterRow(row, x1 - x0, dst, oc * outPlane + (y * f + dy) * w + x0 * f + (phase - dy * f), f);
    }
  };
  if (conv.winograd) winogradRows(input, conv.winograd, rowEpilogue(true), undefined, window);
  else if (conv.pairs) conv2dRowsPairs(input, conv.pairs, rowEpilogue(false), window);
  else conv2dRows(input, conv.packed, rowEpilogue(false), window);
}

function scatterRow(row: Int8Array, width: number, dst: Int8Array, base: number, step: number): void {
  for (let x = 0, d = base; x < width; x++, d += step) dst[d] = row[x];
}

/** The same conv as plain loops with BigInt requantization: slow and obviously right. */
export function conv2dI8Reference(
  input: IntTensor,
  weight: Int8Array,
  bias: Int32Array,
  multiplier: Int32Array,
  shift: Int32Array,
  lo: number,
  hi: number,
  output: IntTensor,
  kernelSize: number,
): void {
  checkReferenceShapes(input, weight, bias, output, kernelSize);
  const { height, width } = output;
  for (let co = 0; co < output.channels; co++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const acc = convSumAt(input, weight, kernelSize, co, y, x, bias[co]);
        const v = multiplyByQuantizedMultiplierReference(acc, multiplier[co], shift[co]);
        output.data[(co * height + y) * width + x] = Math.min(hi, Math.max(lo, v));
      }
    }
  }
}
