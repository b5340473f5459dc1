export * from './config.js';
export { crc32, formatCrc32 } from './crc32.js';
export { BlobFormatError, decodeContainer, encodeContainer, CONTAINER_MAGIC, CONTAINER_VERSION } from './container.js';
export type { ContainerTensor, ContainerContents, DType } from './container.js';
export { readWeightBlob, writeWeightBlob, parseConfig, FP32_BLOB_KIND } from './weights-blob.js';
export type { WeightBlob } from './weights-blob.js';
export { loadModelF32, buildModelF32 } from './model-f32.js';
export type { MsrnModelF32, MsrnBlockF32, MeanShiftWeights } from './model-f32.js';
export { forwardF32 } from './forward-f32.js';
