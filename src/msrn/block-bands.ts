import { Tensor } from '../tensor/tensor.js';
import { ActivationMemory, GANG_ROW_ALIGN, Gang } from '../tensor/gang.js';
import { ConvWindow, Region, RowRange } from '../tensor/region.js';
import { conv2dF32 } from '../ops/conv2d-f32.js';
import { addFromBand } from '../ops/elementwise.js';
import { MsrnBlockF32 } from './model-f32.js';

/**
 * The second half of an MSRB band by band (fp32 here; int8 in quant/block-bands-i8.ts, on the
 * same band walk): conv_3_2 and conv_5_2 on cat1, the 1x1 confusion over their 4n channels
 * (cat2) and the residual add, BLOCK_BAND_ROWS rows of the block's output at a time. cat2 then
 * exists for one band per thread (a few MB) instead of the whole tile: 4n float channels, 37%
 * of the fp32 forward's activations (33 MB of 90 on a 270x480 frame), memory a cold process
 * faults in page by page. In a gang it also saves the barrier between the convs and the
 * confusion (each member's bands are its own).
 *
 * The convs write full-height tensors, so each band works on a copy of the cat1 rows it reads
 * (its `crop`, local row 0 = global row `top`) with the window translated to match. Each band
 * starts on the Winograd grid of the conv on the whole window (callers pass rows that start on a
 * GANG_ROW_ALIGN-row boundary from the window's top, as shareWindow's chunks do), and the crop
 * holds every input row its whole tiles read, so it computes the same tiles from the same
 * inputs: the same bits as the whole conv (tested).
 *
 * `window`: the convs' window (input: where cat1 was computed; output: the block output's
 * rows and columns); `rows`: the output rows of this call (a gang member's chunk, or all).
 * Writes blockOut inside those rows and the window's columns only. 32 rows: 16 and 64 measured
 * the same speed on the frame (1.01-1.02x and 0.99x the time of 32, interleaved).
 */
export const BLOCK_BAND_ROWS = 32;
/** the larger kernel's radius (5x5): rows a band reads above and below its tiles */
const READ_RADIUS = 2;
/** The rows of a band's tensors: every band's, so that a shared arena's slots fit any band. */
export const BAND_HEIGHT = BLOCK_BAND_ROWS + 2 * READ_RADIUS;

/**
 * Whether banding saves memory for a forward on `height` x `width` run by `members` threads:
 * each thread's band tensors (2n + 4n + n channels of BAND_HEIGHT rows of max(height, width)
 * columns: see blockBands) against the whole cat2 (4n channels). On the frame (2 threads:
 * 241,920 against 518,400 values per feature) and on the default tiles it does; it does not on
 * images narrower or shorter than about 63 pixels per thread, nor with many threads, whose gang
 * tiles grow as sqrt(threads) on a side while the bands grow as threads (about 16 threads
 * of 256-pixel tiles break even). The forwards band only where it saves memory. Symmetric in
 * height and width, so the transposed passes of a self-ensemble decide alike.
 */
export function bandsSaveMemory(height: number, width: number, members: number): boolean {
  return members * 7 * BAND_HEIGHT * Math.max(height, width) < 4 * height * width;
}

/** One thread's band tensors: cat1's rows that a band reads, its cat2 and its confusion. */
export interface BlockBands<B extends Float32Array | Int8Array> {
  readonly crop: Tensor<B>;
  readonly cat2: Tensor<B>;
  readonly confusion: Tensor<B>;
}

/**
 * This thread's band tensors for n features and an input of `height` x `width`, from `slot`
 * (an ActivationMemory's f32 or i8, named `prefix`.band.<member>.*). Their slots hold
 * max(height, width) columns, so that the transposed passes of a self-ensemble fit the slots
 * its first pass laid out. In a gang every member lays out every member's slots, in the same
 * order, so that the members' arenas (one per member, each laying slots out as they are asked
 * for) agree; each member then uses its own.
 */
export function blockBands<B extends Float32Array | Int8Array>(
  slot: (name: string, channels: number, height: number, width: number) => Tensor<B>,
  prefix: string,
  n: number,
  height: number,
  width: number,
  gang?: Gang,
): BlockBands<B> {
  const side = Math.max(height, width);
  const band = (name: string, channels: number) => {
    const data = slot(name, channels, BAND_HEIGHT, side).data;
    return new Tensor(channels, BAND_HEIGHT, width, data.subarray(0, channels * BAND_HEIGHT * width) as B);
  };
  let mine: BlockBands<B> | undefined;
  for (let m = 0; m < (gang?.size ?? 1); m++) {
    const bands = { crop: band(`${prefix}.band.${m}.cat1`, 2 * n), cat2: band(`${prefix}.band.${m}.cat2`, 4 * n), confusion: band(`${prefix}.band.${m}.confusion`, n) };
    if (m === (gang?.member ?? 0)) mine = bands;
  }
  return mine!;
}

/** The fp32 forward's band tensors (blockBands over memory.f32). */
export function blockBandsF32(memory: ActivationMemory, n: number, height: number, width: number, gang?: Gang): BlockBands<Float32Array> {
  return blockBands((name, c, h, w) => memory.f32(name, c, h, w), 'f32', n, height, width, gang);
}

/**
 * The band walk both precisions share: for each band of `rows` (BLOCK_BAND_ROWS rows from
 * rows.y0), copies the cat1 rows its whole tiles read into `crop` and calls `visit` with the
 * band's window in the crop's coordinates, the band's rows y0..y1-1 (global) and the crop row
 * of y0.
 */
export function forEachBlockBand<B extends Float32Array | Int8Array>(
  cat1: Tensor<B>,
  crop: Tensor<B>,
  window: ConvWindow,
  rows: RowRange,
  visit: (bandWindow: ConvWindow, y0: number, y1: number, cropRow: number) => void,
): void {
  const { input, output } = window;
  for (let y0 = rows.y0; y0 < rows.y1; y0 += BLOCK_BAND_ROWS) {
    const y1 = Math.min(rows.y1, y0 + BLOCK_BAND_ROWS);
    // the rows whole tiles from y0 read: their inputs must be the whole conv's inputs
    const top = y0 - READ_RADIUS;
    const bottom = y0 + Math.ceil((y1 - y0) / GANG_ROW_ALIGN) * GANG_ROW_ALIGN + READ_RADIUS;
    const readFrom = Math.max(top, input.y0);
    const readTo = Math.min(bottom, input.y1);
    copyRows(cat1, readFrom, readTo, crop, readFrom - top);
    const local = (r: Region, from: number, to: number): Region => ({ y0: from - top, y1: to - top, x0: r.x0, x1: r.x1 });
    visit({ input: local(input, readFrom, Math.max(readFrom, readTo)), output: local(output, y0, y1) }, y0, y1, y0 - top);
  }
}

/** The fp32 second half on `rows` of the block output (see the top of this file). */
export function blockSecondHalfF32(
  block: MsrnBlockF32,
  cat1: Tensor<Float32Array>,
  blockInput: Tensor<Float32Array>,
  blockOut: Tensor<Float32Array>,
  window: ConvWindow,
  rows: RowRange,
  bands: BlockBands<Float32Array>,
): void {
  const { crop, cat2, confusion } = bands;
  const n = blockOut.channels;
  forEachBlockBand(cat1, crop, window, rows, (bandWindow, y0, y1, cropRow) => {
    conv2dF32(crop, block.conv3x3Second, cat2.channelSlice(0, 2 * n), true, bandWindow);
    conv2dF32(crop, block.conv5x5Second, cat2.channelSlice(2 * n, 2 * n), true, bandWindow);
    conv2dF32(cat2, block.confusion, confusion, false, { input: bandWindow.output, output: bandWindow.output });
    addFromBand(confusion, cropRow, blockInput, blockOut, y0, y1, window.output.x0, window.output.x1);
  });
}

/** Rows from .. to - 1 of every channel of src (whole rows) into dst, from its row dstRow on. */
function copyRows<B extends Float32Array | Int8Array>(src: Tensor<B>, from: number, to: number, dst: Tensor<B>, dstRow: number): void {
  if (to <= from) return;
  const { width } = src;
  const srcPlane = src.height * width;
  const dstPlane = dst.height * width;
  for (let c = 0; c < src.channels; c++) {
    dst.data.set(src.data.subarray(c * srcPlane + from * width, c * srcPlane + to * width) as never, c * dstPlane + dstRow * width);
  }
}
