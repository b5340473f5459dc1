import { RgbaImage } from '../image/codec.js';
import { rgbaToTensor } from '../image/pixels.js';
import { imresizeBicubic } from '../image/resize.js';
import { buildModelF32 } from '../msrn/model-f32.js';
import { readWeightBlob } from '../msrn/weights-blob.js';
import { availableParallelism } from 'node:os';
import { CalibrationMethod, MaxCalibrator, PartialCalibration } from '../quant/calibrate.js';
import { WorkerPool } from '../upscaler/worker-pool.js';
import { nodeWorkers } from './node-workers.js';
import { assertQuantizable, quantizeModel } from '../quant/quantize.js';
import { writeInt8Blob } from '../quant/int8-blob.js';
import { listImageFiles, readImageFile } from './image-files.js';
import { WeightsSource, readWeightsBytes } from './weights-files.js';
import { Tensor } from '../tensor/tensor.js';

export interface CalibrateOptions {
  /** fp32 weight blob (path or bytes); default: the shipped one */
  readonly weights?: WeightsSource;
  /** how many images to use, in name order (default 50, as the model card's build) */
  readonly count?: number;
  /** resize every image to [height, width] first (the card resized to 1080x1920) */
  readonly size?: readonly [number, number];
  /** 'max' (default, the model card's recipe) or a percentile of |x| per tensor */
  readonly method?: CalibrationMethod;
  /** worker threads (default: the available cores); the result does not depend on it */
  readonly threads?: number;
  readonly onImage?: (done: number, total: number, path: string) => void;
  readonly onSkip?: (path: string, why: string) => void;
}

/** Max-calibrates fp32 weights on a folder of images and returns the int8 model blob. */
export async function calibrateFolder(folder: string, options: CalibrateOptions = {}): Promise<Uint8Array> {
  const count = options.count ?? 50;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const bytes = await readWeightsBytes(options.weights);
  const blob = readWeightBlob(bytes);
  assertQuantizable(blob.config); // before spending time on the images
  const files = (await listImageFiles(folder, options.onSkip)).slice(0, count);
  if (files.length === 0) throw new Error(`no readable PNG or JPEG images in ${folder}: calibration needs at least one`);
  const method = options.method ?? { method: 'max' };
  const calibrator = new MaxCalibrator(buildModelF32(blob), undefined, method);
  const threads = Math.min(options.threads ?? availableParallelism(), files.length);
  if (threads <= 1) {
    for (const [i, path] of files.entries()) {
      calibrator.addImage(calibrationTensor(await readImageFile(path), options.size));
      options.onImage?.(i + 1, files.length, path);
    }
  } else {
    // One image per worker at a time; the per-image statistics merge exactly in any order.
    const pool = new WorkerPool(threads, nodeWorkers({ precision: 'fp32', weights: bytes }));
    const owner = {};
    const inFlight = new Set<Promise<void>>();
    let done = 0;
    try {
      for (const path of files) {
        const image = calibrationTensor(await readImageFile(path), options.size);
        const job = pool
          .run<PartialCalibration>(owner, { kind: 'calibrate', method, height: image.height, width: image.width, image: image.data })
          .then((stats) => {
            calibrator.merge(stats);
            options.onImage?.(++done, files.length, path);
          });
        inFlight.add(job);
        void job.finally(() => inFlight.delete(job)).catch(() => undefined);
        if (inFlight.size >= threads) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } finally {
      await pool.terminate(new Error('calibration finished'));
    }
  }
  return writeInt8Blob(quantizeModel(blob, calibrator.result(options.size ?? null)));
}

function calibrationTensor(image: RgbaImage, size?: readonly [number, number]): Tensor<Float32Array> {
  const rgb = rgbaToTensor(image);
  if (!size) return rgb;
  // 8-bit rounding after each pass keeps the values integers 0..255, as a resized image file would be.
  return imresizeBicubic(rgb, 1, { outHeight: size[0], outWidth: size[1], roundTo8Bit: true });
}
