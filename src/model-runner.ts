import { Tensor } from './tensor/tensor.js';
import { BlobFormatError } from './msrn/container.js';
import { forwardF32 } from './msrn/forward-f32.js';
import { MsrnModelF32, loadModelF32 } from './msrn/model-f32.js';
import { forwardInt8 } from './quant/forward-i8.js';
import { Int8Model, loadInt8Model } from './quant/int8-model.js';

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
  try {
    return { precision, model: loadInt8Model(bytes) };
  } catch (error) {
    if (error instanceof BlobFormatError && /found "msrn-fp32"/.test(error.message)) {
      throw new BlobFormatError(
        'precision int8 needs an int8 model, and these are fp32 weights: make one with `msrn calibrate <image-folder> -o model.int8.bin --weights <these weights>`',
      );
    }
    throw error;
  }
}

/** (3, H, W) image, values 0..255 -> (3, sH, sW): float for fp32 (unrounded), 8-bit for int8. */
export function forwardModel(loaded: LoadedModel, input: Tensor<Float32Array>): Tensor<Float32Array | Uint8Array> {
  return loaded.precision === 'fp32' ? forwardF32(loaded.model, input) : forwardInt8(loaded.model, input);
}
