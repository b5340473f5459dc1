import { readFile } from 'node:fs/promises';
import { RgbaImage, decodeImage, hasTransparency, DEFAULT_MAX_PIXELS } from './image/codec.js';
import { rgbaChannel, rgbaToTensor, tensorToRgba } from './image/pixels.js';
import { imresizeBicubic } from './image/resize.js';
import { forwardF32 } from './msrn/forward-f32.js';
import { forwardInt8 } from './quant/forward-i8.js';
import { Tensor } from './tensor/tensor.js';
import { LoadedModel, PRECISIONS, Precision, WeightsSource, describeFsError, loadModel } from './weights-files.js';

/** A decoded image handed over directly: RGBA by default, RGB with channels: 3. */
export interface PixelInput {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels?: 3 | 4;
}

/** A file path, encoded PNG/JPEG bytes, or pixels. */
export type UpscaleInput = string | Uint8Array | PixelInput;

export interface UpscaleOptions {
  /** 'fp32' (default) or 'int8' (the integer-only path of the int8 accelerator build). */
  readonly precision?: Precision;
  /**
   * A weight blob path or its bytes: fp32 weights for 'fp32', an int8 model (msrn calibrate) for
   * 'int8'. Defaults to the blobs shipped in the package.
   */
  readonly weights?: WeightsSource;
  /** Refuse inputs with more pixels than this (default 50 MP), before allocating them. */
  readonly maxPixels?: number;
}

/** RGBA, shaped like ImageData. */
export interface UpscaledImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/**
 * Upscales an image by the model's scale (x2 for the shipped weights). RGB goes through MSRN;
 * an alpha channel, if any pixel is not opaque, is resized with MATLAB bicubic and carried along.
 */
export async function upscale(input: UpscaleInput, options: UpscaleOptions = {}): Promise<UpscaledImage> {
  checkOptions(options);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const image = await toRgba(input, maxPixels);
  const model = await loadModel(options.precision ?? 'fp32', options.weights);
  return upscaleRgba(model, image);
}

export function upscaleRgba(loaded: LoadedModel, image: RgbaImage): UpscaledImage {
  const input = rgbaToTensor(image);
  const rgb: Tensor<Float32Array> | Tensor<Uint8Array> =
    loaded.precision === 'fp32' ? forwardF32(loaded.model, input) : forwardInt8(loaded.model, input);
  const alpha = hasTransparency(image)
    ? imresizeBicubic(rgbaChannel(image, 3), loaded.model.config.scale, { roundTo8Bit: false })
    : undefined;
  return tensorToRgba(rgb, alpha);
}

function checkOptions(options: UpscaleOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('upscale options must be an object');
  if (options.precision !== undefined && !PRECISIONS.includes(options.precision)) {
    throw new RangeError(`unknown precision ${JSON.stringify(options.precision)}; expected one of: ${PRECISIONS.join(', ')}`);
  }
  if (options.maxPixels !== undefined && !(Number.isInteger(options.maxPixels) && options.maxPixels > 0)) {
    throw new RangeError(`maxPixels must be a positive integer, got ${options.maxPixels}`);
  }
}

async function toRgba(input: UpscaleInput, maxPixels: number): Promise<RgbaImage> {
  if (typeof input === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(input);
    } catch (error) {
      throw new Error(`cannot read ${input}: ${describeFsError(error)}`);
    }
    return decodeImage(bytes, maxPixels);
  }
  if (input instanceof Uint8Array) return decodeImage(input, maxPixels);
  if (typeof input === 'object' && input !== null && 'data' in input) return pixelsToRgba(input, maxPixels);
  throw new TypeError('upscale input must be a file path, PNG/JPEG bytes, or { data, width, height }');
}

function pixelsToRgba(input: PixelInput, maxPixels: number): RgbaImage {
  const { width, height, data } = input;
  const channels = input.channels ?? 4;
  if (channels !== 3 && channels !== 4) throw new RangeError(`channels must be 3 or 4, got ${channels}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (width * height > maxPixels) throw new RangeError(`image is ${width}x${height}, over the limit of ${maxPixels} pixels`);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError('pixel data must be a Uint8Array or Uint8ClampedArray');
  }
  const needed = width * height * channels;
  if (data.length < needed) {
    throw new RangeError(`pixel buffer has ${data.length} bytes, ${width}x${height}x${channels} needs ${needed}`);
  }
  if (channels === 4) return { width, height, data: data.subarray(0, needed) };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < needed; i += 3, j += 4) {
    rgba[j] = data[i];
    rgba[j + 1] = data[i + 1];
    rgba[j + 2] = data[i + 2];
    rgba[j + 3] = 255;
  }
  return { width, height, data: rgba };
}
