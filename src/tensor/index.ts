export { Tensor, zerosF32, zerosI8, zerosU8, zerosI32, sameShape, assertSameShape } from './tensor.js';
export type { TypedBuffer } from './tensor.js';
export { releaseScratch, scratchF32, scratchI8, scratchU8 } from './scratch.js';
export { threadMemory, bandRows, shareWindow, GANG_ROW_ALIGN } from './gang.js';
export type { ActivationMemory, Gang } from './gang.js';
export { SharedArena, arenaSlotBytes } from './shared-arena.js';
export { SharedBarrier, GangAbortedError, BARRIER_BYTES } from './shared-barrier.js';
export { wholeRegion, wholeWindow, expandRegion, scaleRegion, checkRegion, checkConvWindow } from './region.js';
export type { Region, ConvWindow, RowRange } from './region.js';
