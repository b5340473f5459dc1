/**
 * msrn-ts for Node: upscale() plus image helpers, over the browser-safe core (./core). The
 * browser's upscale() is `msrn-ts/browser` (src/browser/).
 */
export { upscale, createUpscaler, DEFAULT_TILE_SIZE } from './node/upscale.js';
export type { UpscaleInput, UpscaleOptions, UpscalerOptions, UpscaleCallOptions, UpscaledImage, PixelInput, Upscaler } from './node/upscale.js';
export { DEFAULT_WEIGHTS_PATH, DEFAULT_INT8_WEIGHTS_PATH, readWeightsBytes, loadModel } from './node/weights-files.js';
export type { WeightsSource } from './node/weights-files.js';
export { PRECISIONS, decodeModel, forwardModel } from './upscaler/model-runner.js';
export type { Precision, LoadedModel } from './upscaler/model-runner.js';
export { calibrateFolder } from './node/calibrate-files.js';
export type { CalibrateOptions } from './node/calibrate-files.js';
export * from './image/index.js';
export * from './core.js';
export { evaluateFolder, modcrop } from './node/evaluate.js';
export type { EvaluateOptions, EvaluationResult, ImageScores, Score } from './node/evaluate.js';
export { showcase } from './node/showcase.js';
