/**
 * msrn-ts for Node: upscale() plus image helpers, over the browser-safe core (./core).
 */
export { upscale, upscaleRgba } from './upscale.js';
export type { UpscaleInput, UpscaleOptions, UpscaledImage, PixelInput } from './upscale.js';
export {
  DEFAULT_WEIGHTS_PATH,
  DEFAULT_INT8_WEIGHTS_PATH,
  PRECISIONS,
  readWeightsBytes,
  loadModel,
} from './weights-files.js';
export type { WeightsSource, Precision, LoadedModel } from './weights-files.js';
export { calibrateFolder } from './calibrate-files.js';
export type { CalibrateOptions } from './calibrate-files.js';
export * from './image/index.js';
export * from './core.js';
