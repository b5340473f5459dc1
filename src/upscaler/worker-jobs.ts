/**
 * What the main thread asks of a model worker, and the handler that answers inside the worker.
 * Both runtimes' workers (node/model-worker.ts, browser/model-worker.ts) are a few lines of
 * message plumbing around `createJobHandler`, so a tile gives the same bytes in either.
 *
 * Replies are copied (structured clone), never transferred. Transferring detaches the sender's
 * ArrayBuffer, and the first detach in a thread invalidates a V8 protector for good: from then
 * on every typed-array access in optimized code also checks for a detached buffer. Measured
 * (`npm run bench:detach`): one detached 16-byte buffer made every later fp32 frame in that
 * thread 19% slower. A copy costs little: a 256-pixel tile travels as 0.2 MB of RGB bytes in and
 * 1 MB of RGBA bytes out (its x2 output as floats was 3 MB: 1.1 ms to structuredClone warm).
 */
import { Tensor } from '../tensor/tensor.js';
import { Tile, tileCoreRegion } from '../msrn/tiling.js';
import { coreToRgba } from './core-rgba.js';
import { GangTileJob, runGangTile } from './gang-tile.js';
import { scratchF32 } from '../tensor/scratch.js';
import { CalibrationMethod, MaxCalibrator } from '../quant/calibrate.js';
import { LoadedModel, Precision, decodeModel, forwardModel, forwardModelEnsemble } from './model-runner.js';

/** What a worker loads once: the validated blob bytes of the model and their precision. */
export interface ModelWorkerData {
  readonly precision: Precision;
  readonly weights: Uint8Array;
}

export type WorkerJob =
  | {
      readonly kind: 'tile';
      readonly tile: Tile;
      /** the tile's halo region of the image, (3, haloHeight, haloWidth) planar RGB bytes (tileBytes) */
      readonly input: Uint8Array;
      /** average the 8 flips and transposes (forwardModelEnsemble) */
      readonly ensemble: boolean;
    }
  | {
      readonly kind: 'calibrate';
      readonly method: CalibrationMethod;
      readonly height: number;
      readonly width: number;
      /** (3, height, width), values 0..255 */
      readonly image: Float32Array;
    }
  /** one member's part of a tile that all workers run together (gang-tile.ts); replies null */
  | GangTileJob;

export interface WorkerRequest {
  readonly id: number;
  readonly job: WorkerJob;
}

export type WorkerReply =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string };

/**
 * The core of a tile's output (its halo dropped), from the tile's halo region of the image, as
 * RGBA bytes (rows of tile.width * scale pixels, alpha 255), rounded with toByte. Rounding here,
 * in the worker, rather than on the main thread after the reply: the main thread only copies
 * rows, which it would otherwise do for every tile while the workers wait, and a reply of 4 bytes
 * a pixel is a third of 3 floats' to copy between threads.
 */
export function runTile(loaded: LoadedModel, tile: Tile, input: Uint8Array, ensemble: boolean): Uint8ClampedArray {
  if (input.length !== 3 * tile.haloHeight * tile.haloWidth) {
    throw new RangeError(`tile input has ${input.length} bytes, expected 3 x ${tile.haloHeight} x ${tile.haloWidth}`);
  }
  // the bytes as floats, in a reused slot (fresh memory is faulted in page by page)
  const region = scratchF32('runTile.input', 3, tile.haloHeight, tile.haloWidth);
  region.data.set(input);
  // the core within the haloed input: each layer is computed only where the core's output needs it
  const core = tileCoreRegion(tile);
  // the whole tile's output goes to a reused slot; only its core is read out
  const output = ensemble ? forwardModelEnsemble(loaded, region, core) : forwardModel(loaded, region, core, true);
  return coreToRgba(output, tile, loaded.model.config.scale);
}

/**
 * Loads the model once and returns the function that answers each request:
 *   'tile':      run the model on a tile's halo region, reply with the core of its output (RGBA bytes);
 *   'gang-tile': this worker's part of a tile all the workers run together, on shared memory
 *                (gang-tile.ts): the output is in that memory, the reply null;
 *   'calibrate': run calibration statistics over one image (fp32 models), reply with them.
 * A job that throws becomes an error reply; the worker lives on.
 */
export function createJobHandler(data: ModelWorkerData): (request: WorkerRequest) => WorkerReply {
  const loaded = decodeModel(data.precision, data.weights);
  const run = (job: WorkerJob): unknown => {
    if (job.kind === 'tile') return runTile(loaded, job.tile, job.input, job.ensemble);
    if (job.kind === 'gang-tile') {
      runGangTile(loaded, job);
      return null;
    }
    if (loaded.precision !== 'fp32') throw new Error('calibration runs on fp32 weights');
    const calibrator = new MaxCalibrator(loaded.model, undefined, job.method);
    calibrator.addImage(new Tensor(3, job.height, job.width, job.image));
    return calibrator.partial();
  };
  return ({ id, job }) => {
    try {
      return { id, result: run(job) };
    } catch (error) {
      return { id, error: (error as Error).message };
    }
  };
}
