import { packConv2d } from '../ops/conv2d-core.js';
import { MsrnConfig, upsamplerStages } from '../msrn/config.js';
import { QuantizedConv2d } from './conv2d-i8.js';
import { packConv2dI8Pairs } from './conv2d-i8-packed.js';
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
    convs.set(spec.prefix, {
      packed: packConv2d(weight, bias, spec.outChannels, spec.inChannels, spec.kernelSize),
      pairs: packConv2dI8Pairs(weight, bias, spec.outChannels, spec.inChannels, spec.kernelSize),
      multiplier: get<Int32Array>(`${spec.prefix}.multiplier`),
      shift: get<Int32Array>(`${spec.prefix}.shift`),
      lo: spec.lo,
      hi: spec.hi,
    });
  }
  const adds = new Map(graph.adds.map((a) => [a.name, get<Int32Array>(a.name)]));
  return { config: data.config, data, convs, adds, upsampler: upsamplerStages(data.config.scale) };
}
