import { RgbaImage } from '../image/pixels.js';
import { LoadedModel, PRECISIONS, Precision, loadedConfig } from './model-runner.js';
import { UpscaleCallOptions, UpscaledImage, throwIfAborted, upscaleTiles } from './tiled-upscale.js';
import { WorkerPool } from './worker-pool.js';

/**
 * The upscaler object both edges hand out (node/upscale.ts, browser/upscale.ts): a loaded model,
 * an optional worker pool, and the runtime's own way of turning an input into RGBA pixels. The
 * option checks and the pixel-buffer input live here once, so both runtimes refuse the same bad
 * input with the same words.
 */
export interface Upscaler<Input, Output = UpscaledImage> {
  readonly precision: Precision;
  readonly scale: number;
  /** the validated model it runs (its config, checksum, int8 scales...) */
  readonly loaded: LoadedModel;
  upscale(input: Input, options?: UpscaleCallOptions): Promise<Output>;
  /** Stops the workers; calls in flight reject. Safe to call twice. */
  dispose(): Promise<void>;
}

/** A decoded image handed over directly: RGBA by default (an ImageData fits), RGB with channels: 3. */
export interface PixelInput {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels?: 3 | 4;
}

/** The options every runtime takes, checked by checkUpscalerOptions. */
export interface CommonUpscalerOptions {
  /** 'fp32' (default) or 'int8' (the integer-only path of the int8 accelerator build). */
  readonly precision?: Precision;
  /**
   * Tiles hold at most tileSize x tileSize LR pixels (default 256 x 256; any shape): bounds the
   * memory per thread (with shared memory, N workers run one tile of up to N tileSize^2 pixels
   * together). The result does not depend on it (int8: bit for bit; fp32: to float32 rounding,
   * which moves a byte rarely).
   */
  readonly tileSize?: number;
  /** Worker threads; 1 runs on the calling thread. Same result for any count (as for tileSize). */
  readonly threads?: number;
  /** Refuse inputs with more pixels than this (default 50 MP), before decoding them. */
  readonly maxPixels?: number;
}

export const DEFAULT_TILE_SIZE = 256;

export interface UpscalerParts<Input> {
  readonly loaded: LoadedModel;
  readonly pool: WorkerPool | undefined;
  readonly tileSize: number;
  readonly maxPixels: number;
  /** the runtime's decoder: the input as RGBA, its size checked against maxPixels */
  readonly toRgba: (input: Input, maxPixels: number) => Promise<RgbaImage>;
}

export function assembleUpscaler<Input>(parts: UpscalerParts<Input>): Upscaler<Input> {
  const { loaded, pool, tileSize, maxPixels, toRgba } = parts;
  let disposed = false;
  return {
    precision: loaded.precision,
    scale: loadedConfig(loaded).scale,
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

export function checkUpscalerOptions(options: CommonUpscalerOptions): void {
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
  if (options.ensemble !== undefined && typeof options.ensemble !== 'boolean') throw new TypeError(`ensemble must be true or false, got ${String(options.ensemble)}`);
}

export function isPixelInput(input: unknown): input is PixelInput {
  return typeof input === 'object' && input !== null && 'data' in input && 'width' in input;
}

/** Checks a pixel buffer against its claimed size and returns it as RGBA (a view when it already is). */
export function pixelsToRgba(input: PixelInput, maxPixels: number): RgbaImage {
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
