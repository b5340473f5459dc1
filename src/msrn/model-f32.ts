import { PackedConv2dF32, packConv2dF32 } from '../ops/conv2d-f32.js';
import { MsrnConfig, upsamplerStages } from './config.js';
import { WeightBlob, readWeightBlob } from './weights-blob.js';
import { FusedTailF32, fuseTailF32 } from './fused-tail.js';
import { FoldedFusionF32, foldFusionF32 } from './folded-fusion.js';

/** MSRN's fp32 weights, repacked once for the fast kernels (see conv2d-f32.ts). */
export interface MsrnBlockF32 {
  readonly conv3x3First: PackedConv2dF32; // conv_3_1
  readonly conv5x5First: PackedConv2dF32; // conv_5_1
  readonly conv3x3Second: PackedConv2dF32; // conv_3_2
  readonly conv5x5Second: PackedConv2dF32; // conv_5_2
  readonly confusion: PackedConv2dF32; // 1x1, 4n -> n
}

export interface MeanShiftWeights {
  readonly weight: Float32Array; // 3x3, [Cout, Cin]
  readonly bias: Float32Array; // 3
}

export interface MsrnModelF32 {
  readonly config: MsrnConfig;
  /** CRC-32 of the weight blob this model came from. */
  readonly checksum: number;
  readonly subMean: MeanShiftWeights;
  readonly head: PackedConv2dF32;
  readonly blocks: readonly MsrnBlockF32[];
  readonly fusion: PackedConv2dF32; // tail.0, 1x1 over the concat of all block outputs and the head
  readonly tailConv: PackedConv2dF32; // tail.1
  readonly upsampler: readonly { readonly factor: 2 | 3; readonly prefix: string; readonly conv: PackedConv2dF32 }[];
  readonly outputConv: PackedConv2dF32; // tail.3
  readonly addMean: MeanShiftWeights;
  /** the last upsampler stage, tail.3 and add_mean folded into one LR conv (fused-tail.ts) */
  readonly fusedTail: FusedTailF32;
  /** the last block's confusion and residual add folded into tail.0 (folded-fusion.ts) */
  readonly foldedFusion: FoldedFusionF32;
}

export function loadModelF32(bytes: Uint8Array): MsrnModelF32 {
  return buildModelF32(readWeightBlob(bytes));
}

export function buildModelF32(blob: WeightBlob): MsrnModelF32 {
  const { config, tensors } = blob;
  const tensor = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new Error(`internal: weight blob lacks '${name}' after validation`);
    return t;
  };
  const conv = (prefix: string, cout: number, cin: number, k: number) =>
    packConv2dF32(tensor(`${prefix}.weight`), tensor(`${prefix}.bias`), cout, cin, k);
  const n = config.nFeats;
  const c = config.nColors;
  const stages = upsamplerStages(config.scale);
  const last = stages[stages.length - 1];
  const fusedTail = fuseTailF32(
    {
      upsamplerWeight: tensor(`${last.prefix}.weight`),
      upsamplerBias: tensor(`${last.prefix}.bias`),
      outputConvWeight: tensor('tail.3.weight'),
      outputConvBias: tensor('tail.3.bias'),
      addMeanWeight: tensor('add_mean.weight'),
      addMeanBias: tensor('add_mean.bias'),
    },
    last.factor,
    n,
    c,
  );
  const lastBlock = `body.${config.nBlocks - 1}.confusion`;
  const foldedFusion = foldFusionF32(tensor(`${lastBlock}.weight`), tensor(`${lastBlock}.bias`), tensor('tail.0.weight'), tensor('tail.0.bias'), n, config.nBlocks);
  return {
    config,
    checksum: blob.checksum,
    subMean: { weight: tensor('sub_mean.weight'), bias: tensor('sub_mean.bias') },
    head: conv('head.0', n, c, 3),
    blocks: Array.from({ length: config.nBlocks }, (_, b) => ({
      conv3x3First: conv(`body.${b}.conv_3_1`, n, n, 3),
      conv5x5First: conv(`body.${b}.conv_5_1`, n, n, 5),
      conv3x3Second: conv(`body.${b}.conv_3_2`, 2 * n, 2 * n, 3),
      conv5x5Second: conv(`body.${b}.conv_5_2`, 2 * n, 2 * n, 5),
      confusion: conv(`body.${b}.confusion`, n, 4 * n, 1),
    })),
    fusion: conv('tail.0', n, n * (config.nBlocks + 1), 1),
    tailConv: conv('tail.1', n, n, 3),
    upsampler: stages.map((stage) => ({
      factor: stage.factor,
      prefix: stage.prefix,
      conv: conv(stage.prefix, stage.factor * stage.factor * n, n, 3),
    })),
    outputConv: conv('tail.3', c, n, 3),
    addMean: { weight: tensor('add_mean.weight'), bias: tensor('add_mean.bias') },
    fusedTail,
    foldedFusion,
  };
}
