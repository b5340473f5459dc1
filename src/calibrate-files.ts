import { RgbaImage } from './image/codec.js';
import { rgbaToTensor } from './image/pixels.js';
import { imresizeBicubic } from './image/resize.js';
import { buildModelF32 } from './msrn/model-f32.js';
import { readWeightBlob } from './msrn/weights-blob.js';
import { CalibrationMethod, MaxCalibrator } from './quant/calibrate.js';
import { assertQuantizable, quantizeModel } from './quant/quantize.js';
import { writeInt8Blob } from './quant/int8-blob.js';
import { listImageFiles, readImageFile } from './image-files.js';
import { WeightsSource, readWeightsBytes } from './weights-files.js';
import { Tensor } from './tensor/tensor.js';

export interface CalibrateOptions {
  /** fp32 weight blob (path or bytes); default: the shipped one */
  readonly weights?: WeightsSource;
  /** how many images to use, in name order (default 50, as the model card's build) */
  readonly count?: number;
  /** resize every image to [height, width] first (the card resized to 1080x1920) */
  readonly size?: readonly [number, number];
  /** 'max' (default, the model card's recipe) or a percentile of |x| per tensor */
  readonly method?: CalibrationMethod;
  readonly onImage?: (done: number, total: number, path: string) => void;
  readonly onSkip?: (path: string, why: string) => void;
}

/** Max-calibrates fp32 weights on a folder of images and returns the int8 model blob. */
export async function calibrateFolder(folder: string, options: CalibrateOptions = {}): Promise<Uint8Array> {
  const count = options.count ?? 50;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const blob = readWeightBlob(await readWeightsBytes(options.weights));
  assertQuantizable(blob.config); // before spending time on the images
  const files = (await listImageFiles(folder, options.onSkip)).slice(0, count);
  if (files.length === 0) throw new Error(`no readable PNG or JPEG images in ${folder}: calibration needs at least one`);
  const calibrator = new MaxCalibrator(buildModelF32(blob), undefined, options.method);
  for (const [i, path] of files.entries()) {
    calibrator.addImage(calibrationTensor(await readImageFile(path), options.size));
    options.onImage?.(i + 1, files.length, path);
  }
  return writeInt8Blob(quantizeModel(blob, calibrator.result(options.size ?? null)));
}

function calibrationTensor(image: RgbaImage, size?: readonly [number, number]): Tensor<Float32Array> {
  const rgb = rgbaToTensor(image);
  if (!size) return rgb;
  // 8-bit rounding after each pass keeps the values integers 0..255, as a resized image file would be.
  return imresizeBicubic(rgb, 1, { outHeight: size[0], outWidth: size[1], roundTo8Bit: true });
}
