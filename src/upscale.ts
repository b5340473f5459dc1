import { availableParallelism } from 'node:os';
import { RgbaImage, decodeImage, hasTransparency, DEFAULT_MAX_PIXELS } from './image/codec.js';
import { rgbaChannel, rgbaToTensor, toByte } from './image/pixels.js';
import { imresizeBicubic } from './image/resize.js';
import { receptiveFieldRadius } from './msrn/config.js';
import { Tile, planTiles, tileCore, tileInput } from './msrn/tiling.js';
import { LoadedModel, PRECISIONS, Precision, decodeModel, forwardModel } from './model-runner.js';
import { WorkerPool } from './node/worker-pool.js';
import { WeightsSource, readModelBytes } from './weights-files.js';
import { readImageFile } from './image-files.js';

/** A decoded image handed over directly: RGBA by default, RGB with channels: 3. */
export interface PixelInput {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels?: 3 | 4;
}

/** A file path, encoded PNG/JPEG bytes, or pixels. */
export type UpscaleInput = string | Uint8Array | PixelInput;

export interface UpscalerOptions {
  /** 'fp32' (default) or 'int8' (the integer-only path of the int8 accelerator build). */
  readonly precision?: Precision;
  /**
   * A weight blob path or its bytes: fp32 weights for 'fp32', an int8 model (msrn calibrate) for
   * 'int8'. Defaults to the blobs shipped in the package.
   */
  readonly weights?: WeightsSource;
  /**
   * Tiles hold at most tileSize x tileSize LR pixels (default 256 x 256; any shape): bounds the
   * memory per thread. The result does not depend on it.
   */
  readonly tileSize?: number;
  /** Worker threads (default: the available cores); 1 runs on the calling thread. Same result for any count. */
  readonly threads?: number;
  /** Refuse inputs with more pixels than this (default 50 MP), before decoding them. */
  readonly maxPixels?: number;
}

export interface UpscaleCallOptions {
  /** Called after every tile with the fraction done (rises, and the last call is 1) and the tile counts. */
  readonly onProgress?: (fraction: number, tiles: { readonly done: number; readonly total: number }) => void;
  /** Abort: the promise rejects with an error named 'AbortError' and no more tiles run. */
  readonly signal?: AbortSignal;
}

export type UpscaleOptions = UpscalerOptions & UpscaleCallOptions;

/** RGBA, shaped like ImageData. */
export interface UpscaledImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export interface Upscaler {
  readonly precision: Precision;
  readonly scale: number;
  /** the validated model it runs (its config, checksum, int8 scales...) */
  readonly loaded: LoadedModel;
  upscale(input: UpscaleInput, options?: UpscaleCallOptions): Promise<UpscaledImage>;
  /** Stops the workers; calls in flight reject. Safe to call twice. */
  dispose(): Promise<void>;
}

export const DEFAULT_TILE_SIZE = 256;

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
  checkOptions(options);
  const precision = options.precision ?? 'fp32';
  const bytes = await readModelBytes(precision, options.weights);
  const loaded = decodeModel(precision, bytes); // validates before any worker starts
  const threads = options.threads ?? availableParallelism();
  const tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const pool = threads > 1 ? new WorkerPool(threads, { precision, weights: bytes }) : undefined;
  let disposed = false;
  const scale = loaded.model.config.scale;
  return {
    precision,
    scale,
    loaded,
    async upscale(input, call = {}) {
      if (disposed) throw new Error('this upscaler was disposed');
      checkCallOptions(call);
      throwIfAborted(call.signal);
      const image = await toRgba(input, maxPixels);
      throwIfAborted(call.signal);
      return upscaleTiles(loaded, image, tileSize, call, pool);
    },
    async dispose() {
      disposed = true;
      await pool?.terminate();
    },
  };
}

/**
 * Runs every tile (on the pool's workers, or here when there is no pool) and writes each tile's
 * core straight into the RGBA output, so no full-size float output is ever held.
 */
async function upscaleTiles(
  loaded: LoadedModel,
  image: RgbaImage,
  tileSize: number,
  call: UpscaleCallOptions,
  pool: WorkerPool | undefined,
): Promise<UpscaledImage> {
  const { config } = loaded.model;
  const rgb = rgbaToTensor(image);
  const scale = config.scale;
  const width = image.width * scale;
  const height = image.height * scale;
  const out = new Uint8ClampedArray(width * height * 4);
  const alpha = hasTransparency(image) ? imresizeBicubic(rgbaChannel(image, 3), scale, { roundTo8Bit: false }).data : undefined;
  for (let i = 0; i < width * height; i++) out[i * 4 + 3] = alpha ? toByte(alpha[i]) : 255;

  // At least one tile per worker, so no thread idles on a small image.
  const tiles = planTiles(image.height, image.width, tileSize, receptiveFieldRadius(config), pool?.size ?? 1);
  const paste = (tile: Tile, core: Float32Array | Uint8Array) => {
    const w = tile.width * scale;
    const h = tile.height * scale;
    const plane = w * h;
    for (let y = 0; y < h; y++) {
      let o = ((tile.y * scale + y) * width + tile.x * scale) * 4;
      for (let x = 0, i = y * w; x < w; x++, i++, o += 4) {
        out[o] = toByte(core[i]);
        out[o + 1] = toByte(core[i + plane]);
        out[o + 2] = toByte(core[i + 2 * plane]);
      }
    }
  };
  let done = 0;
  const progress = () => {
    done++;
    call.onProgress?.(done / tiles.length, { done, total: tiles.length });
  };

  if (!pool) {
    for (const tile of tiles) {
      // Yield between tiles so an abort (and the caller's event loop) gets a chance.
      await new Promise((resolve) => setImmediate(resolve));
      throwIfAborted(call.signal);
      paste(tile, tileCore(forwardModel(loaded, tileInput(rgb, tile)), tile, scale).data);
      progress();
    }
    return { width, height, data: out };
  }

  const owner = {};
  const onAbort = () => pool.cancel(owner, abortError(call.signal));
  call.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(
      tiles.map(async (tile) => {
        const input = tileInput(rgb, tile).data;
        const core = await pool.run<Float32Array | Uint8Array>(owner, { kind: 'tile', tile, input });
        throwIfAborted(call.signal);
        paste(tile, core);
        progress();
      }),
    );
  } catch (error) {
    pool.cancel(owner, error as Error); // one tile failed: the others need not run
    throw call.signal?.aborted ? abortError(call.signal) : error;
  } finally {
    call.signal?.removeEventListener('abort', onAbort);
  }
  return { width, height, data: out };
}

function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('the upscale was aborted', 'AbortError');
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

function checkOptions(options: UpscalerOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('upscale options must be an object');
  if (options.precision !== undefined && !PRECISIONS.includes(options.precision)) {
    throw new RangeError(`unknown precision ${JSON.stringify(options.precision)}; expected one of: ${PRECISIONS.join(', ')}`);
  }
  const positiveInteger = (name: string, value: unknown, max = Number.MAX_SAFE_INTEGER) => {
    if (value !== undefined && !(Number.isInteger(value) && (value as number) > 0 && (value as number) <= max)) {
      throw new RangeError(`${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got ${String(value)}`);
    }
  };
  positiveInteger('maxPixels', options.maxPixels);
  positiveInteger('tileSize', options.tileSize);
  positiveInteger('threads', options.threads, 256);
}

function checkCallOptions(options: UpscaleCallOptions): void {
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('onProgress must be a function');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
}

async function toRgba(input: UpscaleInput, maxPixels: number): Promise<RgbaImage> {
  if (typeof input === 'string') return readImageFile(input, maxPixels);
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
