export { conv2dF32Reference, checkConvShapes } from './conv2d-reference.js';
export { conv2dRows, packConv2d, checkConvCall, CONV_BLOCK_CHANNELS } from './conv2d-core.js';
export type { PackedConv2d, RowEpilogue } from './conv2d-core.js';
export { conv2dF32, packConv2dF32 } from './conv2d-f32.js';
export type { PackedConv2dF32, PackConv2dF32Options } from './conv2d-f32.js';
export { packWinograd, winogradRows, winogradChunk, winogradIntegerErrorBound, WINOGRAD_VARIANTS, DEFAULT_WINOGRAD } from './conv2d-winograd.js';
export type { PackedWinograd, WinogradVariant, WinogradVariantName } from './conv2d-winograd.js';
export { padToFloat64Box } from './pad.js';
export { padToFloat64 } from './pad.js';
export { pixelShuffle, pixelShuffleReference, pixelShuffleShape } from './pixel-shuffle.js';
export {
  relu,
  reluReference,
  add,
  addReference,
  concatChannels,
  concatChannelsReference,
} from './elementwise.js';
export { meanShift } from './mean-shift.js';
export { dihedral, undoDihedral, dihedralRegion, DIHEDRAL_COUNT } from './dihedral.js';
