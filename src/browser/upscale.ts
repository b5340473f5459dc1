import { DEFAULT_MAX_PIXELS } from '../image/header.js';
import { Precision, decodeModel, decodeModelLazily } from '../upscaler/model-runner.js';
import { UpscaleCallOptions } from '../upscaler/tiled-upscale.js';
import { CommonUpscalerOptions, DEFAULT_TILE_SIZE, Upscaler as UpscalerOf, assembleUpscaler, checkUpscalerOptions } from '../upscaler/upscaler.js';
import { WorkerPool } from '../upscaler/worker-pool.js';
import { BrowserImageInput, browserInputToRgba } from './image-input.js';
import { webWorkers } from './web-workers.js';

/**
 * upscale() for browsers: the same tiles, the same kernels and so the same bytes as Node's,
 * with the tiles run in a pool of module Web Workers. No WebAssembly and no eval, so it runs
 * under a strict Content-Security-Policy (`script-src 'self'; worker-src 'self'`).
 */
export type WeightsLocation = string | URL | Uint8Array | ArrayBuffer;

export interface BrowserUpscalerOptions extends CommonUpscalerOptions {
  /**
   * The weight blob: a URL to fetch (relative to the page), or its bytes. fp32 weights for
   * 'fp32', an int8 model for 'int8'. Default: the blob shipped in the package, next to this
   * module (`../../weights/msrn_x2.bin` from dist/browser/), which bundlers that follow
   * `new URL(..., import.meta.url)` copy along.
   */
  readonly weights?: WeightsLocation;
  /**
   * Web Workers (default: navigator.hardwareConcurrency); 1 runs on the calling thread. On a
   * cross-origin isolated page (COOP + COEP headers: SharedArrayBuffer) they run each tile
   * together, else one tile each (slower: every tile's halo is computed twice). Same result for
   * any count (int8 bit for bit; fp32 to float32 rounding, which moves a byte rarely).
   */
  readonly threads?: number;
  /** Where the worker script is, if a bundler put it elsewhere (default: model-worker.js next to this module). */
  readonly workerUrl?: string | URL;
}

export type BrowserUpscaleOptions = BrowserUpscalerOptions & UpscaleCallOptions;
export type BrowserUpscaler = UpscalerOf<BrowserImageInput, ImageData>;

/** Upscales one image: loads the model, starts the workers, and stops them when done. */
export async function upscale(input: BrowserImageInput, options: BrowserUpscaleOptions = {}): Promise<ImageData> {
  const upscaler = await createUpscaler(options);
  try {
    return await upscaler.upscale(input, options);
  } finally {
    await upscaler.dispose();
  }
}

/** Loads the weights and starts the workers once, for many upscale calls. */
export async function createUpscaler(options: BrowserUpscalerOptions = {}): Promise<BrowserUpscaler> {
  checkUpscalerOptions(options);
  const precision = options.precision ?? 'fp32';
  const weights = await loadWeights(precision, options.weights);
  const threads = options.threads ?? (globalThis.navigator?.hardwareConcurrency || 1);
  // validates before any worker starts; with workers, this thread packs the model only if asked
  const loaded = threads > 1 ? decodeModelLazily(precision, weights) : decodeModel(precision, weights);
  const upscaler = assembleUpscaler({
    loaded,
    pool: threads > 1 ? new WorkerPool(threads, webWorkers({ precision, weights }, options.workerUrl)) : undefined,
    tileSize: options.tileSize ?? DEFAULT_TILE_SIZE,
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    toRgba: browserInputToRgba,
  });
  return {
    ...upscaler,
    async upscale(input, call) {
      const { width, height, data } = await upscaler.upscale(input, call);
      return new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height); // allocated by upscaleTiles: never shared
    },
  };
}

/** The bytes of a weight blob: given, fetched from a URL, or the shipped default. */
export async function loadWeights(precision: Precision, source: WeightsLocation | undefined): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (source !== undefined && typeof source !== 'string' && !(source instanceof URL)) {
    throw new TypeError(`weights must be a URL or bytes (Uint8Array or ArrayBuffer), got ${typeof source}`);
  }
  const url =
    source ?? (precision === 'fp32' ? new URL('../../weights/msrn_x2.bin', import.meta.url) : new URL('../../weights/msrn_x2.int8.bin', import.meta.url));
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`cannot fetch weights from ${String(url)}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new Error(`cannot fetch weights from ${String(url)}: HTTP ${response.status} ${response.statusText}`.trim());
  return new Uint8Array(await response.arrayBuffer());
}
