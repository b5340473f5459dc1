import { availableParallelism } from 'node:os';
import { RgbaImage, decodeImage, DEFAULT_MAX_PIXELS } from '../image/codec.js';
import { decodeModel, decodeModelLazily } from '../upscaler/model-runner.js';
import { UpscaleCallOptions, UpscaledImage } from '../upscaler/tiled-upscale.js';
import {
  CommonUpscalerOptions,
  DEFAULT_TILE_SIZE,
  PixelInput,
  Upscaler as UpscalerOf,
  assembleUpscaler,
  checkUpscalerOptions,
  isPixelInput,
  pixelsToRgba,
} from '../upscaler/upscaler.js';
import { WorkerPool } from '../upscaler/worker-pool.js';
import { nodeWorkers } from './node-workers.js';
import { WeightsSource, readModelBytes } from './weights-files.js';
import { readImageFile } from './image-files.js';

/** A file path, encoded PNG/JPEG bytes, or pixels. */
export type UpscaleInput = string | Uint8Array | PixelInput;

export interface UpscalerOptions extends CommonUpscalerOptions {
  /**
   * A weight blob path or its bytes: fp32 weights for 'fp32', an int8 model (msrn calibrate) for
   * 'int8'. Defaults to the blobs shipped in the package.
   */
  readonly weights?: WeightsSource;
  /**
   * Worker threads (default: the available cores); 1 runs on the calling thread. Several run
   * each tile together, on shared memory (upscaler/gang-tile.ts). Same result for any count
   * (int8 bit for bit; fp32 to float32 rounding, which moves a byte rarely).
   */
  readonly threads?: number;
}

export type UpscaleOptions = UpscalerOptions & UpscaleCallOptions;
export type Upscaler = UpscalerOf<UpscaleInput>;
export type { PixelInput, UpscaleCallOptions, UpscaledImage };
export { DEFAULT_TILE_SIZE };

/**
 * Upscales an image by the model's scale (x2 for the shipped weights). RGB goes through MSRN
 * tile by tile; an alpha channel, if any pixel is not opaque, is resized with MATLAB bicubic.
 * Loads the model and starts workers for this one call: use createUpscaler for many images.
 */
export async function upscale(input: UpscaleInput, options: UpscaleOptions = {}): Promise<UpscaledImage> {
  const upscaler = await createUpscaler(options);
  try {
    return await upscaler.upscale(input, options);
  } finally {
    await upscaler.dispose();
  }
}

/** Loads the weights and starts the worker threads once, for many upscale calls. */
export async function createUpscaler(options: UpscalerOptions = {}): Promise<Upscaler> {
  checkUpscalerOptions(options);
  const precision = options.precision ?? 'fp32';
  const weights = await readModelBytes(precision, options.weights);
  const threads = options.threads ?? availableParallelism();
  // validates before any worker starts; with workers, this thread packs the model only if asked
  const loaded = threads > 1 ? decodeModelLazily(precision, weights) : decodeModel(precision, weights);
  return assembleUpscaler({
    loaded,
    pool: threads > 1 ? new WorkerPool(threads, nodeWorkers({ precision, weights })) : undefined,
    tileSize: options.tileSize ?? DEFAULT_TILE_SIZE,
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    toRgba,
  });
}

async function toRgba(input: UpscaleInput, maxPixels: number): Promise<RgbaImage> {
  if (typeof input === 'string') return readImageFile(input, maxPixels);
  if (input instanceof Uint8Array) return decodeImage(input, maxPixels);
  if (isPixelInput(input)) return pixelsToRgba(input, maxPixels);
  throw new TypeError('upscale input must be a file path, PNG/JPEG bytes, or { data, width, height }');
}
