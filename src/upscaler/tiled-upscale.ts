import { hasTransparency } from '../image/header.js';
import { RgbaImage, rgbaChannel, toByte } from '../image/pixels.js';
import { imresizeBicubic } from '../image/resize.js';
import { receptiveFieldRadius } from '../msrn/config.js';
import { Tile, planTiles } from '../msrn/tiling.js';
import { LoadedModel, loadedConfig } from './model-runner.js';
import { runTile } from './worker-jobs.js';
import { WorkerPool } from './worker-pool.js';
import { GangTileJob, gangTileLayout } from './gang-tile.js';
import { BARRIER_BYTES } from '../tensor/shared-barrier.js';

/**
 * One upscale of decoded pixels, tile by tile, the same in every runtime: on the pool's workers,
 * or on the calling thread when there is no pool. Each tile's core is written straight into the
 * RGBA output, so no full-size float output is ever held.
 */
export interface UpscaleCallOptions {
  /** Called after every tile with the fraction done (rises, and the last call is 1) and the tile counts. */
  readonly onProgress?: (fraction: number, tiles: { readonly done: number; readonly total: number }) => void;
  /** Abort: the promise rejects with an error named 'AbortError' and no more tiles run. */
  readonly signal?: AbortSignal;
  /**
   * Self-ensemble (MSRN+): each tile is run on its 8 flips and transposes and the results are
   * averaged before rounding. 8x the time; a little sharper and more faithful.
   */
  readonly ensemble?: boolean;
}

/** RGBA, shaped like ImageData. */
export interface UpscaledImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/**
 * RGB goes through MSRN tile by tile; an alpha channel, if any pixel is not opaque, is resized
 * with MATLAB bicubic. With a pool of several workers and shared memory (Node; a cross-origin
 * isolated page), all the workers run each tile together (gang-tile.ts): tiles as large as the
 * workers' tiles together, and no pixel computed twice; else each worker runs its own tiles.
 */
export async function upscaleTiles(
  loaded: LoadedModel,
  image: RgbaImage,
  tileSize: number,
  call: UpscaleCallOptions,
  pool: WorkerPool | undefined,
): Promise<UpscaledImage> {
  const config = loadedConfig(loaded); // a lazily decoded model stays unpacked on a pool's thread
  const ensemble = call.ensemble ?? false;
  const scale = config.scale;
  const width = image.width * scale;
  const height = image.height * scale;
  const out = new Uint8ClampedArray(width * height * 4);

  const halo = receptiveFieldRadius(config);
  const gangSize = pool && pool.size > 1 && canShareMemory() ? pool.size : 1;
  // A gang runs one tile of up to gangSize tileSize^2 pixels at a time; separate workers need at
  // least one tile each, so no thread idles on a small image.
  const tiles = gangSize > 1
    ? planTiles(image.height, image.width, tileSize, halo, 1, gangSize * tileSize * tileSize)
    : planTiles(image.height, image.width, tileSize, halo, pool?.size ?? 1);
  // a tile's core arrives as RGBA rows (alpha 255): one row copy each
  const paste = (tile: Tile, core: Uint8ClampedArray) => {
    const rowBytes = tile.width * scale * 4;
    for (let y = 0; y < tile.height * scale; y++) {
      out.set(core.subarray(y * rowBytes, (y + 1) * rowBytes), ((tile.y * scale + y) * width + tile.x * scale) * 4);
    }
  };
  // the alpha channel, if any pixel is not opaque, over the tiles' 255s once they are all in
  const applyAlpha = () => {
    if (!hasTransparency(image)) return;
    const alpha = imresizeBicubic(rgbaChannel(image, 3), scale, { roundTo8Bit: false }).data;
    for (let i = 0; i < width * height; i++) out[i * 4 + 3] = toByte(alpha[i]);
  };
  let done = 0;
  const progress = () => {
    done++;
    call.onProgress?.(done / tiles.length, { done, total: tiles.length });
  };

  if (!pool) {
    for (const tile of tiles) {
      // Yield between tiles so an abort (and the caller's event loop, or a page's UI) gets a chance.
      await yieldToEventLoop();
      throwIfAborted(call.signal);
      paste(tile, runTile(loaded, tile, tileBytes(image, tile), ensemble));
      progress();
    }
    applyAlpha();
    return { width, height, data: out };
  }

  const owner = {};
  const onAbort = () => pool.cancel(owner, abortError(call.signal));
  call.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (gangSize > 1) {
      const layouts = tiles.map((tile) => gangTileLayout(config, loaded.precision, tile, ensemble, gangSize));
      const memory = leaseSharedMemory(pool, Math.max(...layouts.map((l) => l.bytes)));
      for (const [t, tile] of tiles.entries()) {
        throwIfAborted(call.signal);
        const layout = layouts[t];
        new Uint8Array(memory, 0, BARRIER_BYTES).fill(0); // a fresh barrier (an aborted one stays aborted)
        tileBytes(image, tile, new Uint8Array(memory, layout.input, 3 * tile.haloHeight * tile.haloWidth));
        const jobs = Array.from({ length: gangSize }, (_, member): GangTileJob => ({ kind: 'gang-tile', tile, member, size: gangSize, memory, ensemble }));
        await pool.runGang(owner, jobs);
        throwIfAborted(call.signal);
        paste(tile, new Uint8ClampedArray(memory, layout.output, 4 * tile.width * scale * tile.height * scale));
        progress();
      }
      // Kept for the next call only now: after an abort or a failure the buffer is dropped, since
      // a worker being terminated may still touch it for a moment.
      returnSharedMemory(pool, memory);
      applyAlpha();
      return { width, height, data: out };
    }
    await Promise.all(
      tiles.map(async (tile) => {
        const input = tileBytes(image, tile);
        const core = await pool.run<Uint8ClampedArray>(owner, { kind: 'tile', tile, input, ensemble });
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
  applyAlpha();
  return { width, height, data: out };
}

/**
 * The tile's halo region of the image as (3, haloHeight, haloWidth) planar RGB bytes: what a tile
 * job carries (a third of the same as floats to copy to a worker, and no float copy of the whole
 * image on this thread). Into `bytes` if given (a gang tile's shared input).
 */
export function tileBytes(image: RgbaImage, tile: Tile, bytes: Uint8Array = new Uint8Array(3 * tile.haloWidth * tile.haloHeight)): Uint8Array {
  const { haloX, haloY, haloWidth: w, haloHeight: h } = tile;
  const plane = w * h;
  for (let y = 0; y < h; y++) {
    let s = ((haloY + y) * image.width + haloX) * 4;
    for (let x = 0, i = y * w; x < w; x++, i++, s += 4) {
      bytes[i] = image.data[s];
      bytes[i + plane] = image.data[s + 1];
      bytes[i + 2 * plane] = image.data[s + 2];
    }
  }
  return bytes;
}

/** SharedArrayBuffer exists (Node; in browsers, only on cross-origin isolated pages). */
function canShareMemory(): boolean {
  return typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

/**
 * A gang's shared buffer, kept per pool from call to call: fresh memory is faulted in page by
 * page (2.7 ms a MB on this project's machine: 250 ms for a 270x480 frame's 90 MB), so a buffer
 * is reused while it is large enough. Concurrent calls each lease their own.
 */
const spareMemory = new WeakMap<WorkerPool, SharedArrayBuffer>();

function leaseSharedMemory(pool: WorkerPool, bytes: number): SharedArrayBuffer {
  const spare = spareMemory.get(pool);
  if (spare && spare.byteLength >= bytes) {
    spareMemory.delete(pool);
    return spare;
  }
  return new SharedArrayBuffer(bytes);
}

function returnSharedMemory(pool: WorkerPool, memory: SharedArrayBuffer): void {
  const spare = spareMemory.get(pool);
  if (!spare || spare.byteLength < memory.byteLength) spareMemory.set(pool, memory);
}

/**
 * A macrotask turn: setImmediate in Node; a MessageChannel message in browsers, where setTimeout
 * is clamped to 4 ms when nested and to 1 s or more in a background tab.
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** The signal's reason when it is an AbortError, else a new DOMException named AbortError. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('the upscale was aborted', 'AbortError');
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}
