/**
 * msrn-ts for browsers (`msrn-ts/browser`): upscale() and createUpscaler() over the same core
 * as Node, with tiles on module Web Workers. Nothing here needs a Node API, WebAssembly or eval.
 */
export { upscale, createUpscaler, loadWeights } from './upscale.js';
export type { BrowserUpscaler, BrowserUpscalerOptions, BrowserUpscaleOptions, WeightsLocation } from './upscale.js';
export type { BrowserImageInput } from './image-input.js';
export { encodeImageBlob } from './encode.js';
export { DEFAULT_TILE_SIZE } from '../upscaler/upscaler.js';
export type { PixelInput } from '../upscaler/upscaler.js';
export type { UpscaleCallOptions, UpscaledImage } from '../upscaler/tiled-upscale.js';
export { PRECISIONS } from '../upscaler/model-runner.js';
export type { Precision, LoadedModel } from '../upscaler/model-runner.js';
