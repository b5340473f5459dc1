import { Tensor } from '../tensor/tensor.js';
import { RowEpilogue } from '../ops/conv2d-core.js';
import { checkConvShapes } from '../ops/conv2d-reference.js';
import { padToFloat64 } from '../ops/pad.js';

/**
 * The int8 conv loop with two output channels per multiply-add.
 *
 * Every int8 product and sum is a small integer, so one double can carry two accumulators:
 * the weights of channels j and j + 4 of a block are packed as w_j + w_{j+4} * 2^S, and
 *   sum_t x_t (w_j,t + w_{j+4},t 2^S) = A_j + A_{j+4} 2^S,
 * exactly, as long as |A_j| < 2^(S-1) (so A_{j+4} = round(acc / 2^S) and A_j = acc - A_{j+4} 2^S)
 * and the whole stays below 2^53. With |A| <= |bias| + taps * 127 * 255 (the u8 image is the
 * largest input) S is chosen per layer; a layer too large for the trick (S > 26) is not packed
 * and runs through the plain loop instead. Each pass computes 8 output channels x 4 pixels in
 * 16 accumulators: twice the work of the fp32 loop per multiply-add.
 */
export const PACKED_BLOCK_CHANNELS = 8;
const MAX_SHIFT = 26;

export interface PackedPairConv2d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** the packing shift S */
  readonly shift: number;
  /** [ceil(Cout / 8)][Cin * K * K][4]: w_j + w_{j+4} * 2^S */
  readonly weights: Float64Array;
  /** [ceil(Cout / 8) * 4], packed the same way */
  readonly bias: Float64Array;
}

/** Packs int8 weights two channels per double, or returns null when the sums could be too large. */
export function packConv2dI8Pairs(
  weight: Int8Array,
  bias: Int32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): PackedPairConv2d | null {
  checkConvShapes(inChannels, outChannels, kernelSize, weight.length, bias.length);
  const taps = inChannels * kernelSize * kernelSize;
  let maxBias = 0;
  for (let co = 0; co < outChannels; co++) maxBias = Math.max(maxBias, Math.abs(bias[co]));
  const bound = maxBias + taps * 127 * 255;
  const shift = Math.ceil(Math.log2(bound + 1)) + 1; // |A| <= bound < 2^(S-1)
  if (shift > MAX_SHIFT) return null;
  const scale = 2 ** shift;
  const blocks = Math.ceil(outChannels / PACKED_BLOCK_CHANNELS);
  const packed = new Float64Array(blocks * taps * 4);
  const packedBias = new Float64Array(blocks * 4);
  for (let co = 0; co < outChannels; co++) {
    const block = Math.floor(co / PACKED_BLOCK_CHANNELS);
    const lane = co % PACKED_BLOCK_CHANNELS;
    const factor = lane < 4 ? 1 : scale; // lanes 4..7 ride in the high part
    const slot = lane % 4;
    packedBias[block * 4 + slot] += bias[co] * factor;
    for (let t = 0; t < taps; t++) packed[(block * taps + t) * 4 + slot] += weight[co * taps + t] * factor;
  }
  return { inChannels, outChannels, kernelSize, shift, weights: packed, bias: packedBias };
}

export function conv2dRowsPairs(input: Tensor<Int8Array | Uint8Array>, conv: PackedPairConv2d, epilogue: RowEpilogue): void {
  const { channels: cin, height, width } = input;
  const k = conv.kernelSize;
  const pad = (k - 1) / 2;
  const src = padToFloat64(input, pad);
  const paddedWidth = width + 2 * pad;
  const paddedPlane = (height + 2 * pad) * paddedWidth;
  const taps = cin * k * k;
  const tapOffset = new Int32Array(taps);
  for (let ci = 0, t = 0; ci < cin; ci++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) tapOffset[t++] = ci * paddedPlane + ky * paddedWidth + kx;
    }
  }
  const wp = conv.weights;
  const bp = conv.bias;
  const scale = 2 ** conv.shift;
  const inverse = 2 ** -conv.shift;
  // As in conv2d-core.ts: up to 3 phantom pixels per row, never looked at.
  const stride = (width + 3) & ~3;
  const packedRow = new Float64Array(4 * stride);
  const acc = new Float64Array(PACKED_BLOCK_CHANNELS * stride);
  const blocks = Math.ceil(conv.outChannels / PACKED_BLOCK_CHANNELS);

  for (let block = 0; block < blocks; block++) {
    const co0 = block * PACKED_BLOCK_CHANNELS;
    const lanes = Math.min(PACKED_BLOCK_CHANNELS, conv.outChannels - co0);
    const wBase = block * taps * 4;
    const b0 = bp[block * 4], b1 = bp[block * 4 + 1], b2 = bp[block * 4 + 2], b3 = bp[block * 4 + 3];
    for (let y = 0; y < height; y++) {
      const rowIn = y * paddedWidth;
      for (let x = 0; x < width; x += 4) {
        let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
        let c0 = b0, c1 = b1, c2 = b2, c3 = b3;
        let d0 = b0, d1 = b1, d2 = b2, d3 = b3;
        let e0 = b0, e1 = b1, e2 = b2, e3 = b3;
        const base = rowIn + x;
        let wi = wBase;
        for (let t = 0; t < taps; t++) {
          const p = base + tapOffset[t];
          const i0 = src[p], i1 = src[p + 1], i2 = src[p + 2], i3 = src[p + 3];
          const w0 = wp[wi], w1 = wp[wi + 1], w2 = wp[wi + 2], w3 = wp[wi + 3];
          wi += 4;
          a0 += w0 * i0; c0 += w0 * i1; d0 += w0 * i2; e0 += w0 * i3;
          a1 += w1 * i0; c1 += w1 * i1; d1 += w1 * i2; e1 += w1 * i3;
          a2 += w2 * i0; c2 += w2 * i1; d2 += w2 * i2; e2 += w2 * i3;
          a3 += w3 * i0; c3 += w3 * i1; d3 += w3 * i2; e3 += w3 * i3;
        }
        packedRow[x] = a0; packedRow[x + 1] = c0; packedRow[x + 2] = d0; packedRow[x + 3] = e0;
        packedRow[stride + x] = a1; packedRow[stride + x + 1] = c1; packedRow[stride + x + 2] = d1; packedRow[stride + x + 3] = e1;
        packedRow[2 * stride + x] = a2; packedRow[2 * stride + x + 1] = c2; packedRow[2 * stride + x + 2] = d2; packedRow[2 * stride + x + 3] = e2;
        packedRow[3 * stride + x] = a3; packedRow[3 * stride + x + 1] = c3; packedRow[3 * stride + x + 2] = d3; packedRow[3 * stride + x + 3] = e3;
      }
      // Unpack: high = round(acc / 2^S) (no ties: |low| < 2^(S-1)), low = acc - high * 2^S.
      for (let slot = 0; slot < 4; slot++) {
        for (let x = 0; x < width; x++) {
          const v = packedRow[slot * stride + x];
          const high = Math.round(v * inverse);
          acc[slot * stride + x] = v - high * scale;
          acc[(slot + 4) * stride + x] = high;
        }
      }
      epilogue(acc, stride, co0, lanes, y);
    }
  }
}
