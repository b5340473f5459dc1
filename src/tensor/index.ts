export { Tensor, zerosF32, zerosI8, zerosU8, zerosI32, sameShape, assertSameShape } from './tensor.js';
export type { TypedBuffer } from './tensor.js';
export { releaseScratch, scratchF32, scratchI8 } from './scratch.js';
export { wholeRegion, expandRegion, scaleRegion, checkRegion, checkConvWindow } from './region.js';
export type { Region, ConvWindow } from './region.js';
