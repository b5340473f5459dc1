import { Tensor } from '../tensor/tensor.js';
import { Region, wholeRegion } from '../tensor/region.js';
import { scratchF32 } from '../tensor/scratch.js';
import { Gang, bandRows } from '../tensor/gang.js';
import { forEachRowRun } from '../ops/elementwise.js';
import { DIHEDRAL_COUNT, dihedral, dihedralRegion, dihedralRow, dihedralRowsInto, inverseDihedral, undoDihedral } from '../ops/dihedral.js';
import { BlobFormatError } from '../msrn/container.js';
import { forwardF32 } from '../msrn/forward-f32.js';
import { MsrnConfig } from '../msrn/config.js';
import { MsrnModelF32, buildModelF32, loadModelF32 } from '../msrn/model-f32.js';
import { readWeightBlob } from '../msrn/weights-blob.js';
import { forwardInt8 } from '../quant/forward-i8.js';
import { readInt8Blob } from '../quant/int8-blob.js';
import { Int8Model, buildInt8Model } from '../quant/int8-model.js';
import { Int8ModelData } from '../quant/quantize.js';

/**
 * One model of either precision, behind one forward function. No Node APIs: the main thread and
 * the tile workers share it.
 */
export type Precision = 'fp32' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

export type LoadedModel =
  | { readonly precision: 'fp32'; readonly model: MsrnModelF32 }
  | { readonly precision: 'int8'; readonly model: Int8Model };

/** Validates and loads fp32 weights or an int8 model blob. */
export function decodeModel(precision: Precision, bytes: Uint8Array): LoadedModel {
  if (precision === 'fp32') return { precision, model: loadModelF32(bytes) };
  return { precision, model: buildInt8Model(readInt8BlobFor(bytes)) };
}

/**
 * decodeModel's validation now (the blob is read and checked: kind, shapes, checksum), its
 * packing (Winograd transforms, int8 error bounds: most of the load time) on the first read of
 * `.model`. For a thread that only hands tiles to workers, which load the model themselves: a
 * cold `msrn upscale` on 2 threads spent ~140 ms packing a model its main thread never ran.
 * `loadedConfig` gives the config without packing.
 */
export function decodeModelLazily(precision: Precision, bytes: Uint8Array): LoadedModel {
  let model: MsrnModelF32 | Int8Model | undefined;
  if (precision === 'fp32') {
    const blob = readWeightBlob(bytes);
    const loaded = { precision, get model() { return (model ??= buildModelF32(blob)) as MsrnModelF32; } } as const;
    configs.set(loaded, blob.config);
    return loaded;
  }
  const data = readInt8BlobFor(bytes);
  const loaded = { precision, get model() { return (model ??= buildInt8Model(data)) as Int8Model; } } as const;
  configs.set(loaded, data.config);
  return loaded;
}

const configs = new WeakMap<LoadedModel, MsrnConfig>();

/** The model's config, without packing a lazily decoded model. */
export function loadedConfig(loaded: LoadedModel): MsrnConfig {
  return configs.get(loaded) ?? loaded.model.config;
}

function readInt8BlobFor(bytes: Uint8Array): Int8ModelData {
  try {
    return readInt8Blob(bytes);
  } catch (error) {
    if (error instanceof BlobFormatError && /found "msrn-fp32"/.test(error.message)) {
      throw new BlobFormatError(
        'precision int8 needs an int8 model, and these are fp32 weights: make one with `msrn calibrate <image-folder> -o model.int8.bin --weights <these weights>`',
      );
    }
    throw error;
  }
}

/**
 * (3, H, W) image, values 0..255 -> (3, sH, sW) on the same 0..255 scale: float for fp32
 * (unrounded), 8-bit for int8. A model trained with another rgb_range (e.g. 1) gets its inputs
 * and outputs rescaled here; int8 models are always 0..255 (quantizeModel requires it).
 * `core`: for a tile, the input pixels whose output is kept (see forwardF32); the output is
 * only meaningful there. `reuseOutput`: fp32 writes its output into this thread's scratch slot
 * (valid until the next call) instead of fresh memory; int8's 8-bit output is always fresh.
 * `gang`: one member of a gang pass (tensor/gang.ts): `input` is in the gang's shared memory and
 * complete, and so is the output (there too) when this returns.
 */
export function forwardModel(
  loaded: LoadedModel,
  input: Tensor<Float32Array>,
  core?: Region,
  reuseOutput = false,
  gang?: Gang,
): Tensor<Float32Array | Uint8Array> {
  if (loaded.precision === 'int8') return forwardInt8(loaded.model, input, undefined, core, gang);
  const { rgbRange: range, scale, nColors } = loaded.model.config;
  const into = reuseOutput && !gang ? scratchF32('forwardModel.output', nColors, input.height * scale, input.width * scale) : undefined;
  if (range === 255) return forwardF32(loaded.model, input, undefined, core, into, gang);
  // each member scales its own copy of the (complete) input, and its band of the shared output
  const scaled = new Tensor(input.channels, input.height, input.width, input.data.map((v) => (v * range) / 255));
  const output = forwardF32(loaded.model, scaled, undefined, core, into, gang);
  const rows = bandRows(wholeRegion(output.height, output.width), gang, 1);
  if (rows) {
    forEachRowRun(output, rows, (start, end) => {
      for (let i = start; i < end; i++) output.data[i] = (output.data[i] * 255) / range;
    });
  }
  gang?.sync();
  return output;
}

/**
 * Self-ensemble (the paper's MSRN+, EDSR's geometric self-ensemble): the model on the 8 flips and
 * transposes of the input, each output transformed back, the 8 averaged in float and never
 * rounded in between. 8x the work of forwardModel; the same 0..255 scale, always float.
 *
 * `gang`: one member of a gang pass, as forwardModel's: each of the 8 forwards runs as a gang
 * pass, each member transforms its rows of the input and sums its rows of the outputs (its
 * sums stay its own: the same rows every time). The output is in the gang's shared memory.
 */
export function forwardModelEnsemble(loaded: LoadedModel, input: Tensor<Float32Array>, core?: Region, gang?: Gang): Tensor<Float32Array> {
  if (gang) return forwardEnsembleGang(loaded, input, gang, core);
  let sum: Float64Array | undefined;
  let output: Tensor<Float32Array | Uint8Array> | undefined;
  for (let k = 0; k < DIHEDRAL_COUNT; k++) {
    const coreK = core && dihedralRegion(core, k, input.height, input.width);
    output = undoDihedral(forwardModel(loaded, dihedral(input, k), coreK), k);
    sum ??= new Float64Array(output.data.length);
    for (let i = 0; i < sum.length; i++) sum[i] += output.data[i];
  }
  const mean = new Float32Array(sum!.length);
  for (let i = 0; i < mean.length; i++) mean[i] = sum![i] / DIHEDRAL_COUNT;
  return new Tensor(output!.channels, output!.height, output!.width, mean);
}

function forwardEnsembleGang(loaded: LoadedModel, input: Tensor<Float32Array>, gang: Gang, core?: Region): Tensor<Float32Array> {
  const { channels, height, width } = input;
  const { scale } = loadedConfig(loaded);
  const outHeight = height * scale;
  const outWidth = width * scale;
  const result = gang.memory.f32('ensemble.output', channels, outHeight, outWidth);
  const mine = bandRows(wholeRegion(outHeight, outWidth), gang, 1); // this member's output rows, every pass
  const sum = new Float64Array(mine ? channels * (mine.y1 - mine.y0) * outWidth : 0);
  for (let k = 0; k < DIHEDRAL_COUNT; k++) {
    const transposed = (k & 4) !== 0;
    const [h, w] = transposed ? [width, height] : [height, width];
    const turned = gang.memory.f32('ensemble.input', channels, h, w);
    const rows = bandRows(wholeRegion(h, w), gang, 1);
    if (rows) dihedralRowsInto(input, k, turned, rows.y0, rows.y1);
    gang.sync();
    const output = forwardModel(loaded, turned, core && dihedralRegion(core, k, height, width), true, gang);
    // undoDihedral(output, k) is dihedral(output, inverseDihedral(k)): walk its rows, mine only
    if (mine) {
      const back = inverseDihedral(k);
      const plane = output.height * output.width;
      for (let c = 0; c < channels; c++) {
        for (let y = mine.y0; y < mine.y1; y++) {
          const { start, step } = dihedralRow(back, output.height, output.width, y);
          const from = c * plane + start;
          const to = (c * (mine.y1 - mine.y0) + y - mine.y0) * outWidth;
          for (let x = 0; x < outWidth; x++) sum[to + x] += output.data[from + x * step];
        }
      }
    }
    // (the next pass writes its output only after several syncs, which this member's sum precedes)
  }
  if (mine) {
    const plane = outHeight * outWidth;
    for (let c = 0; c < channels; c++) {
      for (let y = mine.y0; y < mine.y1; y++) {
        const to = c * plane + y * outWidth;
        const from = (c * (mine.y1 - mine.y0) + y - mine.y0) * outWidth;
        for (let x = 0; x < outWidth; x++) result.data[to + x] = sum[from + x] / DIHEDRAL_COUNT;
      }
    }
  }
  gang.sync();
  return result;
}
