import { Tensor } from '../tensor/tensor.js';
import { checkConvShapes } from './conv2d-reference.js';
import { padToFloat64 } from './pad.js';

/**
 * Fast fp32 conv2d (stride 1, 'same' zero padding, bias, optional fused ReLU).
 *
 * How it is fast in plain JavaScript, without SIMD:
 * - The input is copied once into a zero-padded Float64Array (pad.ts). The hot loop then never
 *   tests a border, and every load is already a double (no float32 -> float64 convert per tap).
 * - Register blocking: one pass of the inner loop produces 8 output channels x 2 neighbouring
 *   pixels, held in 16 local accumulators; each tap loads 2 inputs and 8 weights and does 16
 *   multiply-adds.
 * - Weights are repacked once (packConv2dF32) so the 8 weights of a tap are adjacent and the
 *   whole reduction reads them front to back: [block][ci][ky][kx][8].
 * - The (ci, ky, kx) reduction is one flat loop over a table of input offsets, so the loop
 *   overhead is paid once per tap, not per nesting level.
 * Odd widths compute a phantom second pixel that is never stored (the pad buffer has one spare
 * element so that read stays in bounds); channel counts not a multiple of 8 are packed with
 * zero weights.
 */
export const CONV_BLOCK_CHANNELS = 8;

export interface PackedConv2dF32 {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** [ceil(Cout / 8)][Cin * K * K][8] */
  readonly weights: Float64Array;
  /** [ceil(Cout / 8) * 8], zero past Cout */
  readonly bias: Float64Array;
}

/** Repack PyTorch-layout [Cout, Cin, K, K] weights for conv2dF32. Done once, at model load. */
export function packConv2dF32(
  weight: Float32Array,
  bias: Float32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): PackedConv2dF32 {
  checkConvShapes(inChannels, outChannels, kernelSize, weight.length, bias.length);
  const taps = inChannels * kernelSize * kernelSize;
  const blocks = Math.ceil(outChannels / CONV_BLOCK_CHANNELS);
  const packed = new Float64Array(blocks * taps * CONV_BLOCK_CHANNELS);
  const packedBias = new Float64Array(blocks * CONV_BLOCK_CHANNELS);
  for (let co = 0; co < outChannels; co++) {
    const block = Math.floor(co / CONV_BLOCK_CHANNELS);
    const lane = co % CONV_BLOCK_CHANNELS;
    packedBias[co] = bias[co];
    for (let t = 0; t < taps; t++) {
      packed[(block * taps + t) * CONV_BLOCK_CHANNELS + lane] = weight[co * taps + t];
    }
  }
  return { inChannels, outChannels, kernelSize, weights: packed, bias: packedBias };
}

export function conv2dF32(
  input: Tensor<Float32Array>,
  conv: PackedConv2dF32,
  output: Tensor<Float32Array>,
  relu: boolean,
): void {
  const { channels: cin, height, width } = input;
  const k = conv.kernelSize;
  if (cin !== conv.inChannels) {
    throw new RangeError(`conv2d: input has ${cin} channels, the conv expects ${conv.inChannels}`);
  }
  if (output.channels !== conv.outChannels || output.height !== height || output.width !== width) {
    throw new RangeError(
      `conv2d: output is ${output.shape.join('x')}, expected ${conv.outChannels}x${height}x${width}`,
    );
  }
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
  const dst = output.data;
  const plane = height * width;
  const floor = relu ? 0 : -Infinity;
  const blocks = Math.ceil(conv.outChannels / CONV_BLOCK_CHANNELS);
  const spill = new Float64Array(2 * CONV_BLOCK_CHANNELS);

  for (let block = 0; block < blocks; block++) {
    const co0 = block * CONV_BLOCK_CHANNELS;
    const lanes = Math.min(CONV_BLOCK_CHANNELS, conv.outChannels - co0);
    const wBase = block * taps * CONV_BLOCK_CHANNELS;
    const b0 = bp[co0], b1 = bp[co0 + 1], b2 = bp[co0 + 2], b3 = bp[co0 + 3];
    const b4 = bp[co0 + 4], b5 = bp[co0 + 5], b6 = bp[co0 + 6], b7 = bp[co0 + 7];
    for (let y = 0; y < height; y++) {
      const rowIn = y * paddedWidth;
      const rowOut = co0 * plane + y * width;
      for (let x = 0; x < width; x += 2) {
        let a0 = b0, a1 = b1, a2 = b2, a3 = b3, a4 = b4, a5 = b5, a6 = b6, a7 = b7;
        let c0 = b0, c1 = b1, c2 = b2, c3 = b3, c4 = b4, c5 = b5, c6 = b6, c7 = b7;
        const base = rowIn + x;
        let wi = wBase;
        for (let t = 0; t < taps; t++) {
          const p = base + tapOffset[t];
          const i0 = src[p];
          const i1 = src[p + 1];
          const w0 = wp[wi], w1 = wp[wi + 1], w2 = wp[wi + 2], w3 = wp[wi + 3];
          const w4 = wp[wi + 4], w5 = wp[wi + 5], w6 = wp[wi + 6], w7 = wp[wi + 7];
          wi += 8;
          a0 += w0 * i0; c0 += w0 * i1;
          a1 += w1 * i0; c1 += w1 * i1;
          a2 += w2 * i0; c2 += w2 * i1;
          a3 += w3 * i0; c3 += w3 * i1;
          a4 += w4 * i0; c4 += w4 * i1;
          a5 += w5 * i0; c5 += w5 * i1;
          a6 += w6 * i0; c6 += w6 * i1;
          a7 += w7 * i0; c7 += w7 * i1;
        }
        const o = rowOut + x;
        if (lanes === CONV_BLOCK_CHANNELS && x + 1 < width) {
          dst[o] = a0 < floor ? floor : a0; dst[o + 1] = c0 < floor ? floor : c0;
          dst[o + plane] = a1 < floor ? floor : a1; dst[o + plane + 1] = c1 < floor ? floor : c1;
          dst[o + 2 * plane] = a2 < floor ? floor : a2; dst[o + 2 * plane + 1] = c2 < floor ? floor : c2;
          dst[o + 3 * plane] = a3 < floor ? floor : a3; dst[o + 3 * plane + 1] = c3 < floor ? floor : c3;
          dst[o + 4 * plane] = a4 < floor ? floor : a4; dst[o + 4 * plane + 1] = c4 < floor ? floor : c4;
          dst[o + 5 * plane] = a5 < floor ? floor : a5; dst[o + 5 * plane + 1] = c5 < floor ? floor : c5;
          dst[o + 6 * plane] = a6 < floor ? floor : a6; dst[o + 6 * plane + 1] = c6 < floor ? floor : c6;
          dst[o + 7 * plane] = a7 < floor ? floor : a7; dst[o + 7 * plane + 1] = c7 < floor ? floor : c7;
        } else {
          // Edge of the block or of the row: go through a small array, store only real outputs.
          spill[0] = a0; spill[1] = a1; spill[2] = a2; spill[3] = a3;
          spill[4] = a4; spill[5] = a5; spill[6] = a6; spill[7] = a7;
          spill[8] = c0; spill[9] = c1; spill[10] = c2; spill[11] = c3;
          spill[12] = c4; spill[13] = c5; spill[14] = c6; spill[15] = c7;
          const pixels = x + 1 < width ? 2 : 1;
          for (let lane = 0; lane < lanes; lane++) {
            for (let px = 0; px < pixels; px++) {
              const v = spill[px * CONV_BLOCK_CHANNELS + lane];
              dst[o + lane * plane + px] = v < floor ? floor : v;
            }
          }
        }
      }
    }
  }
}
