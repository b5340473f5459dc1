import { packConv2d } from '../ops/conv2d-core.js';
import { DEFAULT_WINOGRAD, PackedWinograd, WinogradVariantName, packWinograd, winogradIntegerErrorBound } from '../ops/conv2d-winograd.js';
import { MsrnConfig, upsamplerStages } from '../msrn/config.js';
import { QuantizedConv2d } from './conv2d-i8.js';
import { packConv2dI8Pairs } from './conv2d-i8-packed.js';
import { packConv2dI8FewChannels } from './conv2d-i8-few-channels.js';
import { planRequantize } from './requantize.js';
import { int8Graph } from './graph.js';
import { Int8ModelData } from './quantize.js';
import { readInt8Blob } from './int8-blob.js';

/** The int8 model ready to run: each conv packed for the fast kernel, each add's parameters. */
export interface Int8Model {
  readonly config: MsrnConfig;
  readonly data: Int8ModelData;
  readonly convs: ReadonlyMap<string, QuantizedConv2d>;
  readonly adds: ReadonlyMap<string, Int32Array>;
  readonly upsampler: readonly { readonly factor: 2 | 3; readonly prefix: string }[];
}

export function loadInt8Model(bytes: Uint8Array): Int8Model {
  return buildInt8Model(readInt8Blob(bytes));
}

export function buildInt8Model(data: Int8ModelData): Int8Model {
  const byName = new Map(data.tensors.map((t) => [t.name, t.data]));
  const get = <T>(name: string) => {
    const t = byName.get(name);
    if (!t) throw new Error(`internal: int8 model lacks '${name}' after validation`);
    return t as unknown as T;
  };
  const graph = int8Graph(data.config);
  const convs = new Map<string, QuantizedConv2d>();
  for (const spec of graph.convs) {
    const weight = get<Int8Array>(`${spec.prefix}.weight`);
    const bias = get<Int32Array>(`${spec.prefix}.bias`);
    const { inChannels, outChannels, kernelSize } = spec;
    const requantize = planRequantize(get<Int32Array>(`${spec.prefix}.multiplier`), get<Int32Array>(`${spec.prefix}.shift`), spec.lo, spec.hi);
    const fewChannels = packConv2dI8FewChannels(weight, bias, outChannels, inChannels, kernelSize);
    const winograd = fewChannels ? null : packWinogradIfExact(weight, bias, outChannels, inChannels, kernelSize);
    convs.set(spec.prefix, {
      packed: packConv2d(weight, bias, outChannels, inChannels, kernelSize),
      // conv2dI8 takes the first of fewChannels, Winograd, pairs that the layer has
      pairs: fewChannels || winograd ? null : packConv2dI8Pairs(weight, bias, outChannels, inChannels, kernelSize),
      winograd,
      fewChannels,
      requantize,
    });
  }
  const adds = new Map(graph.adds.map((a) => [a.name, get<Int32Array>(a.name)]));
  return { config: data.config, data, convs, adds, upsampler: upsamplerStages(data.config.scale) };
}

/**
 * The Winograd packing of an int8 conv when rounding its float64 result provably gives the exact
 * accumulator: error bound below 1/4 for inputs up to 255 (the u8 image; int8 tensors stay
 * within 128). The largest tile is tried first; its larger constants widen the bound, so a
 * layer whose weights push F(8x8, 5x5) past 1/4 (possible: all-+-127 weights over 32 input
 * channels reach 0.30) takes F(6x6, 5x5) instead. For the shipped model every 5x5 layer keeps
 * F(8x8, 5x5) (bounds in test/quant/int8-model.test.ts).
 */
export const WINOGRAD_INT8_MAX_ERROR = 0.25;

/** Per kernel size, the Winograd variants the int8 path tries, fastest first. */
export const INT8_WINOGRAD_CANDIDATES: Readonly<Record<number, readonly WinogradVariantName[]>> = {
  3: [DEFAULT_WINOGRAD[3]],
  5: [DEFAULT_WINOGRAD[5], 'F6_5'],
};

export function packWinogradIfExact(
  weight: Int8Array,
  bias: Int32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): PackedWinograd | null {
  for (const variant of INT8_WINOGRAD_CANDIDATES[kernelSize] ?? []) {
    const bound = winogradIntegerErrorBound(weight, bias, outChannels, inChannels, variant, 255);
    if (bound < WINOGRAD_INT8_MAX_ERROR) return packWinograd(weight, bias, outChannels, inChannels, kernelSize, variant);
  }
  return null;
}
