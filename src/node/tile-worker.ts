/**
 * A worker_threads worker that runs MSRN on tiles. It loads the model once (from the blob bytes
 * in its workerData) and answers each { id, tile, input } with the core of that tile's output.
 * Everything it calls is the browser-safe core, so the same loop could run in a Web Worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor } from '../tensor/tensor.js';
import { Tile, tileCore } from '../msrn/tiling.js';
import { Precision, decodeModel, forwardModel } from '../model-runner.js';

export interface TileWorkerData {
  readonly precision: Precision;
  readonly weights: Uint8Array;
}

export interface TileJob {
  readonly id: number;
  readonly tile: Tile;
  /** the tile's halo region of the image, (3, haloHeight, haloWidth), values 0..255 */
  readonly input: Float32Array;
}

export type TileResult =
  | { readonly id: number; readonly core: Float32Array | Uint8Array }
  | { readonly id: number; readonly error: string };

const { precision, weights } = workerData as TileWorkerData;
const loaded = decodeModel(precision, weights);

parentPort!.on('message', (job: TileJob) => {
  let reply: TileResult;
  try {
    const { tile } = job;
    const output = forwardModel(loaded, new Tensor(3, tile.haloHeight, tile.haloWidth, job.input));
    reply = { id: job.id, core: tileCore(output, tile, loaded.model.config.scale).data };
  } catch (error) {
    reply = { id: job.id, error: (error as Error).message };
  }
  parentPort!.postMessage(reply, 'core' in reply ? [reply.core.buffer as ArrayBuffer] : []);
});
