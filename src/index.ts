/**
 * msrn-ts for Node: upscale() plus image helpers, over the browser-safe core (./core).
 */
export { upscale, createUpscaler, DEFAULT_TILE_SIZE } from './upscale.js';
export type { UpscaleInput, UpscaleOptions, UpscalerOptions, UpscaleCallOptions, UpscaledImage, PixelInput, Upscaler } from './upscale.js';
export { DEFAULT_WEIGHTS_PATH, DEFAULT_INT8_WEIGHTS_PATH, readWeightsBytes, loadModel } from './weights-files.js';
export type { WeightsSource } from './weights-files.js';
export { PRECISIONS, decodeModel, forwardModel } from './model-runner.js';
export type { Precision, LoadedModel } from './model-runner.js';
export { calibrateFolder } from './calibrate-files.js';
export type { CalibrateOptions } from './calibrate-files.js';
export * from './image/index.js';
export * from './core.js';
export { evaluateFolder, modcrop } from './evaluate.js';
export type { EvaluateOptions, EvaluationResult, ImageScores, Score } from './evaluate.js';
export { showcase } from './showcase.js';
