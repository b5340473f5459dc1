import { Tensor } from '../tensor/tensor.js';
import { CONV_BLOCK_CHANNELS, PackedConv2d, RowEpilogue, conv2dRows } from '../ops/conv2d-core.js';
import { ConvWindow } from '../tensor/region.js';
import { checkConvShapes } from '../ops/conv2d-reference.js';

/**
 * The int8 conv with two output channels per multiply-add.
 *
 * Every int8 product and sum is a small integer, so one double can carry two accumulators:
 * the weights of channels j and j + 4 of each group of 8 are packed as w_j + w_{j+4} * 2^S, and
 *   sum_t x_t (w_j,t + w_{j+4},t 2^S) = A_j + A_{j+4} 2^S,
 * exactly, as long as |A_j| < 2^(S-1) (then A_{j+4} = round(acc / 2^S), A_j = acc - A_{j+4} 2^S)
 * and the whole stays below 2^53. With |A| <= |bias| + taps * 127 * 255 (the u8 image is the
 * largest input), S is chosen per layer; a layer too large for the trick (S > 26) is not packed
 * and runs one channel per multiply-add instead.
 *
 * The packed weights of 8 real channels are exactly the 4-channel layout of conv2d-core.ts, so
 * the same register-blocked loop runs them (4 "channels" x 4 pixels per pass, now carrying 8
 * real channels); only the epilogue differs: it unpacks each row before passing it on.
 */
export const PAIRED_BLOCK_CHANNELS = 2 * CONV_BLOCK_CHANNELS;
const MAX_SHIFT = 26;

export interface PairedConv2d {
  readonly outChannels: number;
  /** the packing shift S */
  readonly shift: number;
  /** ceil(Cout / 8) * 4 packed channels in conv2d-core's layout */
  readonly packed: PackedConv2d;
}

/** Packs int8 weights two channels per double, or returns null when the sums could be too large. */
export function packConv2dI8Pairs(
  weight: Int8Array,
  bias: Int32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): PairedConv2d | null {
  checkConvShapes(inChannels, outChannels, kernelSize, weight.length, bias.length);
  const taps = inChannels * kernelSize * kernelSize;
  let maxBias = 0;
  for (let co = 0; co < outChannels; co++) maxBias = Math.max(maxBias, Math.abs(bias[co]));
  const bound = maxBias + taps * 127 * 255;
  const shift = Math.ceil(Math.log2(bound + 1)) + 1; // |A| <= bound < 2^(S-1)
  if (shift > MAX_SHIFT) return null;
  const scale = 2 ** shift;
  const groups = Math.ceil(outChannels / PAIRED_BLOCK_CHANNELS);
  const weights = new Float64Array(groups * taps * CONV_BLOCK_CHANNELS);
  const packedBias = new Float64Array(groups * CONV_BLOCK_CHANNELS);
  for (let co = 0; co < outChannels; co++) {
    const group = Math.floor(co / PAIRED_BLOCK_CHANNELS);
    const lane = co % PAIRED_BLOCK_CHANNELS;
    const factor = lane < CONV_BLOCK_CHANNELS ? 1 : scale; // lanes 4..7 ride in the high part
    const slot = lane % CONV_BLOCK_CHANNELS;
    packedBias[group * CONV_BLOCK_CHANNELS + slot] += bias[co] * factor;
    for (let t = 0; t < taps; t++) weights[(group * taps + t) * CONV_BLOCK_CHANNELS + slot] += weight[co * taps + t] * factor;
  }
  const packed = { inChannels, outChannels: groups * CONV_BLOCK_CHANNELS, kernelSize, weights, bias: packedBias };
  return { outChannels, shift, packed };
}

/** Runs the paired conv; `epilogue` receives unpacked rows of up to 8 real channels. */
export function conv2dRowsPairs(input: Tensor<Int8Array | Uint8Array>, conv: PairedConv2d, epilogue: RowEpilogue, window?: ConvWindow): void {
  const scale = 2 ** conv.shift;
  const inverse = 2 ** -conv.shift;
  let unpacked = new Float64Array(0);
  conv2dRows(input, conv.packed, (acc, stride, slot0, _slots, y, x0, x1) => {
    if (unpacked.length !== PAIRED_BLOCK_CHANNELS * stride) unpacked = new Float64Array(PAIRED_BLOCK_CHANNELS * stride);
    const co0 = (slot0 / CONV_BLOCK_CHANNELS) * PAIRED_BLOCK_CHANNELS;
    const lanes = Math.min(PAIRED_BLOCK_CHANNELS, conv.outChannels - co0);
    // Unpack: high = round(acc / 2^S) (no ties: |low| < 2^(S-1)), low = acc - high * 2^S.
    // Math.floor(x + 0.5) rather than Math.round, which V8 compiles to a data-dependent branch
    // (see requantizeRow); x + 0.5 is exact here (|x| < 2^27).
    for (let slot = 0; slot < CONV_BLOCK_CHANNELS; slot++) {
      for (let x = x0; x < x1; x++) {
        const v = acc[slot * stride + x];
        const high = Math.floor(v * inverse + 0.5);
        unpacked[slot * stride + x] = v - high * scale;
        unpacked[(slot + CONV_BLOCK_CHANNELS) * stride + x] = high;
      }
    }
    epilogue(unpacked, stride, co0, lanes, y, x0, x1);
  }, window);
}
