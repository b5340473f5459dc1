/**
 * msrn-ts for Node: upscale() plus image helpers, over the browser-safe core (./core).
 */
export { upscale, upscaleRgba, PRECISIONS } from './upscale.js';
export type { UpscaleInput, UpscaleOptions, UpscaledImage, PixelInput, Precision } from './upscale.js';
export { DEFAULT_WEIGHTS_PATH, readWeightsBytes, loadModelFromSource } from './weights-files.js';
export type { WeightsSource } from './weights-files.js';
export * from './image/index.js';
export * from './core.js';
