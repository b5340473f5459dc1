import { Tensor } from '../tensor/tensor.js';
import { PackedConv2d, checkConvCall, conv2dRows, packConv2d } from './conv2d-core.js';

/**
 * Fast fp32 conv2d: stride 1, 'same' zero padding, bias, optional fused ReLU. The loop itself is
 * conv2d-core.ts; this adds the float32 store (with ReLU). Reference: conv2d-reference.ts.
 */
export type PackedConv2dF32 = PackedConv2d;

export function packConv2dF32(
  weight: Float32Array,
  bias: Float32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): PackedConv2dF32 {
  return packConv2d(weight, bias, outChannels, inChannels, kernelSize);
}

export function conv2dF32(
  input: Tensor<Float32Array>,
  conv: PackedConv2dF32,
  output: Tensor<Float32Array>,
  relu: boolean,
): void {
  checkConvCall(input, conv, output);
  const { height, width } = input;
  const plane = height * width;
  const dst = output.data;
  const floor = relu ? 0 : -Infinity;
  conv2dRows(input, conv, (acc, stride, co0, lanes, y) => {
    for (let lane = 0; lane < lanes; lane++) {
      const o = (co0 + lane) * plane + y * width;
      const a = lane * stride;
      for (let x = 0; x < width; x++) {
        const v = acc[a + x];
        dst[o + x] = v < floor ? floor : v;
      }
    }
  });
}
