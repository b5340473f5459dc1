import { Tensor } from '../tensor/tensor.js';
import { ConvWindow, checkConvWindow } from '../tensor/region.js';
import { PackedConv2d, RowEpilogue, checkConvCall, conv1x1F32, conv2dRows, packConv2d } from './conv2d-core.js';
import { DEFAULT_WINOGRAD, PackedWinograd, WinogradVariantName, packWinograd, winogradConvF32 } from './conv2d-winograd.js';

/**
 * Fast fp32 conv2d: stride 1, 'same' zero padding, bias, optional fused ReLU. 3x3 and 5x5
 * kernels run as Winograd convs (conv2d-winograd.ts, whose output transform stores into the
 * output itself: winogradConvF32), 1x1 convs as a register-blocked product that stores its
 * blocks itself (conv1x1F32), other sizes as the direct loop (conv2d-core.ts), which hands
 * finished rows to the float32 store below.
 * Reference: conv2d-reference.ts.
 */
export interface PackedConv2dF32 {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** Exactly one of the two is set. */
  readonly direct?: PackedConv2d;
  readonly winograd?: PackedWinograd;
}

export interface PackConv2dF32Options {
  /**
   * 'direct' forces the direct loop; a variant name picks a Winograd tile. The default is
   * DEFAULT_WINOGRAD for 3x3 and 5x5 kernels and direct for the rest.
   */
  readonly method?: 'direct' | WinogradVariantName;
}

export function packConv2dF32(
  weight: Float32Array | Float64Array,
  bias: Float32Array | Float64Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
  options: PackConv2dF32Options = {},
): PackedConv2dF32 {
  const method = options.method ?? DEFAULT_WINOGRAD[kernelSize] ?? 'direct';
  const shape = { inChannels, outChannels, kernelSize };
  if (method === 'direct') return { ...shape, direct: packConv2d(weight, bias, outChannels, inChannels, kernelSize) };
  return { ...shape, winograd: packWinograd(weight, bias, outChannels, inChannels, kernelSize, method) };
}

/**
 * With a window (tiled inference, see ConvWindow), only window.output is computed, from the
 * input inside window.input (zero outside it); the rest of the output is left as it was or
 * written with finite values that nothing should read.
 */
export function conv2dF32(
  input: Tensor<Float32Array>,
  conv: PackedConv2dF32,
  output: Tensor<Float32Array>,
  relu: boolean,
  window?: ConvWindow,
): void {
  checkConvCall(input, conv, output);
  const { height, width } = input;
  checkConvWindow(window, height, width);
  const plane = height * width;
  const dst = output.data;
  const store: RowEpilogue = (acc, stride, co0, lanes, y, x0, x1) => {
    for (let lane = 0; lane < lanes; lane++) {
      const o = (co0 + lane) * plane + y * width;
      const a = lane * stride;
      if (relu) {
        // max(v, 0) as (v + |v|) / 2: exact, and without the branch on the sign that a compare
        // would compile to (conv outputs change sign at random, so it would mispredict)
        for (let x = x0; x < x1; x++) {
          const v = acc[a + x];
          dst[o + x] = (v + Math.abs(v)) * 0.5;
        }
      } else {
        for (let x = x0; x < x1; x++) dst[o + x] = acc[a + x];
      }
    }
  };
  if (conv.winograd) winogradConvF32(input, conv.winograd, output, relu, undefined, window);
  else if (conv.direct?.kernelSize === 1) conv1x1F32(input, conv.direct, output, relu, window?.output);
  else if (conv.direct) conv2dRows(input, conv.direct, store, window);
  else throw new Error('internal: PackedConv2dF32 has neither a direct nor a Winograd packing');
}
