import { Tensor } from '../tensor/tensor.js';
import { ActivationMemory, Gang } from '../tensor/gang.js';
import { ConvWindow, RowRange } from '../tensor/region.js';
import { BlockBands, blockBands, forEachBlockBand } from '../msrn/block-bands.js';
import { addI8FromBand } from './add-i8.js';
import { conv2dI8 } from './conv2d-i8.js';
import { Int8Model } from './int8-model.js';

/** The int8 forward's band tensors (msrn/block-bands.ts, over memory.i8). */
export function blockBandsI8(memory: ActivationMemory, n: number, height: number, width: number, gang?: Gang): BlockBands<Int8Array> {
  return blockBands((name, c, h, w) => memory.i8(name, c, h, w), 'i8', n, height, width, gang);
}

/**
 * The int8 MSRB's second half band by band, as blockSecondHalfF32 does it for fp32 (see there):
 * conv_3_2 and conv_5_2 into the band's cat2, the confusion, the requantizing residual add.
 * The int8 sums are exact whatever the tiles, so the bytes are the whole layers' bytes.
 */
export function blockSecondHalfI8(
  model: Int8Model,
  block: number,
  cat1: Tensor<Int8Array>,
  blockInput: Tensor<Int8Array>,
  blockOut: Tensor<Int8Array>,
  window: ConvWindow,
  rows: RowRange,
  bands: BlockBands<Int8Array>,
): void {
  const { crop, cat2, confusion } = bands;
  const n = blockOut.channels;
  const conv = (name: string) => model.convs.get(`body.${block}.${name}`)!;
  const add = model.adds.get(`body.${block}.add`)!;
  forEachBlockBand(cat1, crop, window, rows, (bandWindow, y0, y1, cropRow) => {
    conv2dI8(crop, conv('conv_3_2'), cat2.channelSlice(0, 2 * n), bandWindow);
    conv2dI8(crop, conv('conv_5_2'), cat2.channelSlice(2 * n, 2 * n), bandWindow);
    conv2dI8(cat2, conv('confusion'), confusion, { input: bandWindow.output, output: bandWindow.output });
    addI8FromBand(confusion, cropRow, blockInput, add, blockOut, y0, y1, window.output.x0, window.output.x1);
  });
}
