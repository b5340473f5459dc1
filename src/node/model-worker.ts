/**
 * A worker_threads worker holding one model. It loads the model once (from the blob bytes in
 * its workerData) and answers two kinds of job:
 *   'tile':      run the model on a tile's halo region, reply with the core of its output;
 *   'calibrate': run calibration statistics over one image (fp32 models), reply with them.
 * Everything it calls is the browser-safe core, so the same loop could run in a Web Worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor } from '../tensor/tensor.js';
import { Tile, tileCore } from '../msrn/tiling.js';
import { CalibrationMethod, MaxCalibrator } from '../quant/calibrate.js';
import { Precision, decodeModel, forwardModel } from '../model-runner.js';

export interface ModelWorkerData {
  readonly precision: Precision;
  readonly weights: Uint8Array;
}

export type WorkerJob =
  | {
      readonly kind: 'tile';
      readonly tile: Tile;
      /** the tile's halo region of the image, (3, haloHeight, haloWidth), values 0..255 */
      readonly input: Float32Array;
    }
  | {
      readonly kind: 'calibrate';
      readonly method: CalibrationMethod;
      readonly height: number;
      readonly width: number;
      /** (3, height, width), values 0..255 */
      readonly image: Float32Array;
    };

export type WorkerReply =
  | { readonly id: number; readonly result: unknown; readonly transfer: readonly ArrayBuffer[] }
  | { readonly id: number; readonly error: string };

const { precision, weights } = workerData as ModelWorkerData;
const loaded = decodeModel(precision, weights);

function handle(job: WorkerJob): { result: unknown; transfer: ArrayBuffer[] } {
  if (job.kind === 'tile') {
    const { tile } = job;
    const output = forwardModel(loaded, new Tensor(3, tile.haloHeight, tile.haloWidth, job.input));
    const core = tileCore(output, tile, loaded.model.config.scale).data;
    return { result: core, transfer: [core.buffer as ArrayBuffer] };
  }
  if (loaded.precision !== 'fp32') throw new Error('calibration runs on fp32 weights');
  const calibrator = new MaxCalibrator(loaded.model, undefined, job.method);
  calibrator.addImage(new Tensor(3, job.height, job.width, job.image));
  const stats = calibrator.partial();
  return { result: stats, transfer: Object.values(stats.histograms).map((h) => h.buffer as ArrayBuffer) };
}

parentPort!.on('message', ({ id, job }: { id: number; job: WorkerJob }) => {
  let reply: WorkerReply;
  try {
    const { result, transfer } = handle(job);
    reply = { id, result, transfer };
  } catch (error) {
    reply = { id, error: (error as Error).message };
  }
  parentPort!.postMessage(reply, 'transfer' in reply ? [...reply.transfer] : []);
});
