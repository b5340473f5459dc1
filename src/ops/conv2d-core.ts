import { Tensor } from '../tensor/tensor.js';
import { ConvWindow, Region, wholeRegion } from '../tensor/region.js';
import { checkConvShapes } from './conv2d-reference.js';
import { padToFloat64 } from './pad.js';
import { PackedDoubles, copyDoubles, packedDoubles } from './packed-doubles.js';

/**
 * The shared engine of the fast conv2d kernels (fp32 in conv2d-f32.ts, int8 in
 * src/quant/conv2d-i8.ts): stride 1, 'same' zero padding, any odd kernel size.
 *
 * How it is fast in plain JavaScript, without SIMD:
 * - The input is copied once into a zero-padded Float64Array (pad.ts). The hot loop then never
 *   tests a border, and every load is already a double (no float32 -> float64 convert per tap).
 * - Register blocking: one pass of the inner loop produces 4 output channels x 4 neighbouring
 *   pixels, held in 16 local accumulators; each tap loads 4 inputs and 4 weights and does 16
 *   multiply-adds. (Measured against 8 channels x 2 pixels: 7-10% faster on the 3x3 and 5x5
 *   convs, twice as fast on the 3-channel output conv, which wastes 1 lane of 4 instead of 5 of 8.)
 * - Weights are repacked once (packConv2d) so the 4 weights of a tap are adjacent and the whole
 *   reduction reads them front to back: [block][ci][ky][kx][4].
 * - The (ci, ky, kx) reduction is one flat loop over a table of input offsets, so the loop
 *   overhead is paid once per tap, not per nesting level.
 * Each finished row of 4 channels goes to an `epilogue` (ReLU + float32 store, or int8
 * requantization), so the accumulators never need a full-size buffer.
 *
 * int8 inputs and weights are exact small integers in doubles, and every partial sum stays far
 * below 2^53, so the same loop computes the int8 path's int32 accumulators exactly.
 */
export const CONV_BLOCK_CHANNELS = 4;
/** Output pixels per pass of the inner loop. */
export const CONV_BLOCK_PIXELS = 4;

export interface PackedConv2d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** [ceil(Cout / 4)][Cin * K * K][4], zero past Cout */
  readonly weights: Float64Array;
  /** [ceil(Cout / 4) * 4], zero past Cout */
  readonly bias: Float64Array;
}

/**
 * Receives one finished row: `acc[lane * stride + x]` for lanes 0..lanes-1 (output channels
 * co0 + lane) and x in x0..x1-1 (the columns asked for: the whole row, or a ConvWindow's output
 * columns), bias included.
 */
export type RowEpilogue = (acc: Float64Array, stride: number, co0: number, lanes: number, y: number, x0: number, x1: number) => void;

/** Repack PyTorch-layout [Cout, Cin, K, K] weights (fp32, or int8 with int32 bias). Done once, at model load. */
export function packConv2d(
  weight: Float32Array | Float64Array | Int8Array,
  bias: Float32Array | Float64Array | Int32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): PackedConv2d {
  checkConvShapes(inChannels, outChannels, kernelSize, weight.length, bias.length);
  const taps = inChannels * kernelSize * kernelSize;
  const blocks = Math.ceil(outChannels / CONV_BLOCK_CHANNELS);
  const packed = new Float64Array(blocks * taps * CONV_BLOCK_CHANNELS);
  const packedBias = new Float64Array(blocks * CONV_BLOCK_CHANNELS);
  for (let co = 0; co < outChannels; co++) {
    const block = Math.floor(co / CONV_BLOCK_CHANNELS);
    const lane = co % CONV_BLOCK_CHANNELS;
    packedBias[co] = bias[co];
    interleave(weight, co * taps, taps, packed, block * taps * CONV_BLOCK_CHANNELS + lane);
  }
  return { inChannels, outChannels, kernelSize, weights: packed, bias: packedBias };
}

/** dst[base + 4 t] = src[from + t] for t < count: a small function, optimized early in a cold load. */
function interleave(src: Float32Array | Float64Array | Int8Array, from: number, count: number, dst: Float64Array, base: number): void {
  for (let t = 0; t < count; t++) dst[base + t * CONV_BLOCK_CHANNELS] = src[from + t];
}

export function checkConvCall(
  input: Tensor<Float32Array | Int8Array | Uint8Array>,
  conv: { readonly inChannels: number; readonly outChannels: number },
  output: Tensor<Float32Array | Int8Array | Uint8Array>,
): void {
  if (input.channels !== conv.inChannels) {
    throw new RangeError(`conv2d: input has ${input.channels} channels, the conv expects ${conv.inChannels}`);
  }
  if (output.channels !== conv.outChannels || output.height !== input.height || output.width !== input.width) {
    throw new RangeError(
      `conv2d: output is ${output.shape.join('x')}, expected ${conv.outChannels}x${input.height}x${input.width}`,
    );
  }
}

/**
 * The direct conv, rows handed to `epilogue`. With a window, only the output rows of
 * window.output are computed (each whole; the input is read as it is, which for the rows asked
 * for is only window.input).
 */
export function conv2dRows(input: Tensor<Float32Array | Int8Array | Uint8Array>, conv: PackedConv2d, epilogue: RowEpilogue, window?: ConvWindow): void {
  if (conv.kernelSize === 1) {
    conv1x1Rows(input, conv, epilogue, window?.output);
    return;
  }
  const { channels: cin, height, width } = input;
  const k = conv.kernelSize;
  const pad = (k - 1) / 2;
  const src = padToFloat64(input, pad);
  const paddedWidth = width + 2 * pad;
  const paddedPlane = (height + 2 * pad) * paddedWidth;

  const taps = cin * k * k;
  const tapOffset = new Int32Array(taps);
  for (let ci = 0, t = 0; ci < cin; ci++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) tapOffset[t++] = ci * paddedPlane + ky * paddedWidth + kx;
    }
  }

  const wp = conv.weights;
  const bp = conv.bias;
  // Pixels go in fours; a width that is not a multiple of 4 computes up to 3 phantom pixels per
  // row. Their reads run into the next padded row (or the pad buffer's spare zeros at the very
  // end) and their sums land past `width` in `acc`, where no epilogue looks.
  const stride = (width + 3) & ~3;
  const acc = new Float64Array(CONV_BLOCK_CHANNELS * stride);
  const blocks = Math.ceil(conv.outChannels / CONV_BLOCK_CHANNELS);

  for (let block = 0; block < blocks; block++) {
    const co0 = block * CONV_BLOCK_CHANNELS;
    const lanes = Math.min(CONV_BLOCK_CHANNELS, conv.outChannels - co0);
    const wBase = block * taps * CONV_BLOCK_CHANNELS;
    const b0 = bp[co0], b1 = bp[co0 + 1], b2 = bp[co0 + 2], b3 = bp[co0 + 3];
    for (let y = window ? window.output.y0 : 0; y < (window ? window.output.y1 : height); y++) {
      const rowIn = y * paddedWidth;
      for (let x = 0; x < width; x += 4) {
        // aN: pixel x, cN: x + 1, dN: x + 2, eN: x + 3, for output channel co0 + N
        let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
        let c0 = b0, c1 = b1, c2 = b2, c3 = b3;
        let d0 = b0, d1 = b1, d2 = b2, d3 = b3;
        let e0 = b0, e1 = b1, e2 = b2, e3 = b3;
        const base = rowIn + x;
        let wi = wBase;
        for (let t = 0; t < taps; t++) {
          const p = base + tapOffset[t];
          const i0 = src[p], i1 = src[p + 1], i2 = src[p + 2], i3 = src[p + 3];
          const w0 = wp[wi], w1 = wp[wi + 1], w2 = wp[wi + 2], w3 = wp[wi + 3];
          wi += 4;
          a0 += w0 * i0; c0 += w0 * i1; d0 += w0 * i2; e0 += w0 * i3;
          a1 += w1 * i0; c1 += w1 * i1; d1 += w1 * i2; e1 += w1 * i3;
          a2 += w2 * i0; c2 += w2 * i1; d2 += w2 * i2; e2 += w2 * i3;
          a3 += w3 * i0; c3 += w3 * i1; d3 += w3 * i2; e3 += w3 * i3;
        }
        acc[x] = a0; acc[x + 1] = c0; acc[x + 2] = d0; acc[x + 3] = e0;
        acc[stride + x] = a1; acc[stride + x + 1] = c1; acc[stride + x + 2] = d1; acc[stride + x + 3] = e1;
        acc[2 * stride + x] = a2; acc[2 * stride + x + 1] = c2; acc[2 * stride + x + 2] = d2; acc[2 * stride + x + 3] = e2;
        acc[3 * stride + x] = a3; acc[3 * stride + x + 1] = c3; acc[3 * stride + x + 2] = d3; acc[3 * stride + x + 3] = e3;
      }
      epilogue(acc, stride, co0, lanes, y, 0, width);
    }
  }
}

/**
 * The 1x1 conv, a plain matrix product (Cout x Cin) x (Cin x pixels), with the same summation
 * order (bias, then channel 0, 1, ...) as the general loop; the int8 path's 1x1 convs (two
 * channels per double, conv2d-i8-packed.ts) run here.
 *
 * Why separate: through the padded copy, the Cin loads of one pass come from Cin different
 * channel planes, a whole plane apart (about 1 MB on a 270x480 frame): every load touches a new
 * page and the planes alias in the cache. Here the input is copied a row segment at a time into
 * a small panel (PANEL_PIXELS pixels), laid out [3-pixel group][ci][3] so that the reduction over ci
 * reads one contiguous run (measured: 3.7-4.3 GFLOP/s with a [ci][64] panel, 2.6 through the
 * padded copy), and reduced in conv1x1F32's 4-channel x 3-pixel register block. The weights, the
 * bias and the panel share one array (panelArena), as in conv1x1F32; the accumulator rows, which
 * the epilogues take as a Float64Array, are a second one, written once per 12 sums.
 */
function conv1x1Rows(
  input: Tensor<Float32Array | Int8Array | Uint8Array>,
  conv: PackedConv2d,
  epilogue: RowEpilogue,
  region: Region = wholeRegion(input.height, input.width),
): void {
  const { channels: cin, height, width } = input;
  const { y0, y1, x0: left, x1: right } = region;
  const src = input.data;
  const plane = height * width;
  const blocks = Math.ceil(conv.outChannels / CONV_BLOCK_CHANNELS);
  // whole 3-pixel groups from `left`: their phantom pixels (at most 2) land past `right`, inside the row
  const stride = Math.ceil((width + 2) / 3) * 3;
  const blockStride = CONV_BLOCK_CHANNELS * stride;
  const { arena, biasOff, panelOff } = panelArena(conv, cin);
  if (accRowsScratch.length < blocks * blockStride) accRowsScratch = new Float64Array(blocks * blockStride);
  const acc = accRowsScratch;

  for (let y = y0; y < y1; y++) {
    for (let x0 = left; x0 < right; x0 += PANEL_PIXELS) {
      const n = Math.min(PANEL_PIXELS, right - x0);
      fillPanel(src, y * width + x0, plane, cin, n, arena, panelOff);
      panelProducts(arena, biasOff, panelOff, blocks, cin, n, acc, x0, stride);
    }
    for (let block = 0; block < blocks; block++) {
      const co0 = block * CONV_BLOCK_CHANNELS;
      epilogue(acc.subarray(block * blockStride), stride, co0, Math.min(CONV_BLOCK_CHANNELS, conv.outChannels - co0), y, left, right);
    }
  }
}

/**
 * Pixels per panel of the 1x1 convs, a multiple of 3 (their register block). 126: against 63
 * (whose 64-channel panel, 32 KB, fit the L1 cache), the frame's 64->16, 48->16 and 32->16 1x1s
 * took 0.94-0.97x the time (9 interleaved rounds; 189, 255 and 510 the same as 126, 21 and 30
 * 1.10-1.22x): the panel's fixed costs (a fill loop per channel, the block loop's set-up) weigh
 * more than the L2 reads of a panel twice as large.
 */
const PANEL_PIXELS = 126;
let panelArenaScratch: PackedDoubles = packedDoubles(1);
/** conv1x1Rows's accumulator rows, which its epilogues take as a Float64Array */
let accRowsScratch: Float64Array = new Float64Array(0);

/**
 * The 1x1 convs' working array: the packed weights at 0, the bias at biasOff and a panel of
 * cin x PANEL_PIXELS doubles at panelOff. One array, as winogradTileRows's arena and for the same
 * reasons: the product loop then checks one array's map and reloads one array's fields per
 * iteration, not three (fp32 64->16 and 48->16 0.98x the time), and a packed array of doubles
 * costs fewer instructions per load than a Float64Array (packed-doubles.ts). Reused from call to
 * call (one conv at a time per thread).
 */
function panelArena(conv: PackedConv2d, cin: number): { arena: PackedDoubles; biasOff: number; panelOff: number } {
  const biasOff = conv.weights.length;
  const panelOff = biasOff + conv.bias.length;
  const size = panelOff + cin * PANEL_PIXELS;
  if (panelArenaScratch.length < size) panelArenaScratch = packedDoubles(size);
  copyDoubles(conv.weights, panelArenaScratch);
  copyDoubles(conv.bias, panelArenaScratch, biasOff);
  return { arena: panelArenaScratch, biasOff, panelOff };
}

/**
 * The fp32 1x1 conv straight into its Float32 output: conv1x1Rows's panels, but each finished
 * register block is stored (with the ReLU when asked) where it belongs instead of going through a
 * float64 row and a row epilogue. Measured against that path, interleaved (fastest of 25 runs on
 * 64x480, of 9 on 270x480): 64->16 0.91-0.92x the time, 48->16 0.88-0.92x. Its block is 4
 * channels x 3 pixels: against the 4 x 4 it had before, fastest of 15 on 270x480 in three
 * interleaved runs, 64->16 0.91-0.97x the time, 48->16 0.96-1.00x (conv1x1Rows took the same
 * block later: int8 64->16 0.96x, 48->16 0.965x).
 */
export function conv1x1F32(
  input: Tensor<Float32Array>,
  conv: PackedConv2d,
  output: Tensor<Float32Array>,
  relu: boolean,
  region: Region = wholeRegion(input.height, input.width),
): void {
  if (conv.kernelSize !== 1) throw new RangeError(`conv1x1F32: a ${conv.kernelSize}x${conv.kernelSize} conv is not 1x1`);
  const { channels: cin, height, width } = input;
  const { y0, y1, x0: left, x1: right } = region;
  const plane = height * width;
  const blocks = Math.ceil(conv.outChannels / CONV_BLOCK_CHANNELS);
  const { arena, biasOff, panelOff } = panelArena(conv, cin);
  for (let y = y0; y < y1; y++) {
    for (let x0 = left; x0 < right; x0 += PANEL_PIXELS) {
      const n = Math.min(PANEL_PIXELS, right - x0);
      fillPanelTriples(input.data, y * width + x0, plane, cin, n, arena, panelOff);
      panelProductsF32(arena, biasOff, panelOff, blocks, cin, n, output.data, plane, y * width + x0, conv.outChannels, relu);
    }
  }
}

/**
 * fillPanel for conv1x1F32: panel[group of 3 pixels][ci][3], the layout of its 4-channel x
 * 3-pixel register block (the 4 x 4 block of conv1x1Rows spills on x64's 16 double registers).
 */
function fillPanelTriples(src: Float32Array, from: number, plane: number, cin: number, n: number, panel: PackedDoubles, panelOff: number): void {
  const groupStride = cin * 3;
  for (let ci = 0; ci < cin; ci++) {
    const f = ci * plane + from;
    for (let x = 0, d = panelOff + ci * 3; x < n; x += 3, d += groupStride) {
      if (x + 3 <= n) {
        panel[d] = src[f + x];
        panel[d + 1] = src[f + x + 1];
        panel[d + 2] = src[f + x + 2];
      } else {
        // the last, partial group: phantom pixels are computed and never stored
        for (let k = 0; k < 3; k++) panel[d + k] = x + k < n ? src[f + x + k] : 0;
      }
    }
  }
}

/**
 * The products of conv1x1F32: out[(co * plane) + base + x] for the panel's n pixels and every
 * output channel, in 4-channel x 3-pixel register blocks (12 accumulators, 4 weights and 3
 * inputs: they fit x64's 16 double registers, as in winogradProducts). Blocks that are whole
 * store directly; the last partial pixel group and channel block store only what exists.
 */
function panelProductsF32(
  arena: PackedDoubles,
  biasOff: number,
  panelOff: number,
  blocks: number,
  cin: number,
  n: number,
  out: Float32Array,
  plane: number,
  base: number,
  cout: number,
  relu: boolean,
): void {
  for (let block = 0; block < blocks; block++) {
    const co0 = block * CONV_BLOCK_CHANNELS;
    const wBase = block * cin * CONV_BLOCK_CHANNELS;
    const b0 = arena[biasOff + co0], b1 = arena[biasOff + co0 + 1], b2 = arena[biasOff + co0 + 2], b3 = arena[biasOff + co0 + 3];
    const whole = co0 + CONV_BLOCK_CHANNELS <= cout;
    const o0 = co0 * plane + base;
    for (let x = 0; x < n; x = (x + 3) | 0) {
      // written out, as panelProducts's block, for the reason given there
      let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
      let c0 = b0, c1 = b1, c2 = b2, c3 = b3;
      let d0 = b0, d1 = b1, d2 = b2, d3 = b3;
      let p = (panelOff + Math.imul(x, cin)) | 0;
      let wi = wBase;
      for (let ci = 0; ci < cin; ci = (ci + 1) | 0) {
        const i0 = arena[p], i1 = arena[(p + 1) | 0], i2 = arena[(p + 2) | 0];
        const w0 = arena[wi], w1 = arena[(wi + 1) | 0], w2 = arena[(wi + 2) | 0], w3 = arena[(wi + 3) | 0];
        p = (p + 3) | 0;
        wi = (wi + 4) | 0;
        a0 += w0 * i0; c0 += w0 * i1; d0 += w0 * i2;
        a1 += w1 * i0; c1 += w1 * i1; d1 += w1 * i2;
        a2 += w2 * i0; c2 += w2 * i1; d2 += w2 * i2;
        a3 += w3 * i0; c3 += w3 * i1; d3 += w3 * i2;
      }
      if (relu) {
        // max(v, 0) as (v + |v|) / 2, branch-free (as conv2d-f32.ts's store)
        a0 = (a0 + Math.abs(a0)) * 0.5; c0 = (c0 + Math.abs(c0)) * 0.5; d0 = (d0 + Math.abs(d0)) * 0.5;
        a1 = (a1 + Math.abs(a1)) * 0.5; c1 = (c1 + Math.abs(c1)) * 0.5; d1 = (d1 + Math.abs(d1)) * 0.5;
        a2 = (a2 + Math.abs(a2)) * 0.5; c2 = (c2 + Math.abs(c2)) * 0.5; d2 = (d2 + Math.abs(d2)) * 0.5;
        a3 = (a3 + Math.abs(a3)) * 0.5; c3 = (c3 + Math.abs(c3)) * 0.5; d3 = (d3 + Math.abs(d3)) * 0.5;
      }
      const o = (o0 + x) | 0;
      if (whole && x + 3 <= n) {
        out[o] = a0; out[o + 1] = c0; out[o + 2] = d0;
        out[o + plane] = a1; out[o + plane + 1] = c1; out[o + plane + 2] = d1;
        out[o + 2 * plane] = a2; out[o + 2 * plane + 1] = c2; out[o + 2 * plane + 2] = d2;
        out[o + 3 * plane] = a3; out[o + 3 * plane + 1] = c3; out[o + 3 * plane + 2] = d3;
      } else {
        storePartialBlock(out, o, plane, Math.min(CONV_BLOCK_CHANNELS, cout - co0), Math.min(3, n - x), a0, c0, d0, a1, c1, d1, a2, c2, d2, a3, c3, d3);
      }
    }
  }
}

/** The lanes x pixels that exist of a 4 x 3 block (edges only: a partial pixel group or channel block). */
function storePartialBlock(
  out: Float32Array,
  o: number,
  plane: number,
  lanes: number,
  pixels: number,
  ...values: number[]
): void {
  for (let lane = 0; lane < lanes; lane++) {
    for (let x = 0; x < pixels; x++) out[o + lane * plane + x] = values[lane * 3 + x];
  }
}

// conv1x1Rows's two stages as their own functions, called per panel (thousands of times per
// conv): V8 optimizes them early and with their own type feedback, where the loops inline in
// conv1x1Rows (a few calls per frame) ran in the interpreter until on-stack replacement, and
// were deoptimized on first reaching code that had not run yet (as in conv2d-winograd.ts).

/**
 * fillPanelTriples for conv1x1Rows, whose input is any of the three element types: a separate
 * copy so that fp32's fillPanelTriples only ever sees Float32Array and stays monomorphic when
 * both precisions run in one process (V8 keeps type feedback per function; one shared fill made
 * an fp32 + int8 64->16 1x1 pair 1.01-1.02x the time, two interleaved runs).
 */
function fillPanel(src: Float32Array | Int8Array | Uint8Array, from: number, plane: number, cin: number, n: number, panel: PackedDoubles, panelOff: number): void {
  const groupStride = cin * 3;
  for (let ci = 0; ci < cin; ci++) {
    const f = ci * plane + from;
    for (let x = 0, d = panelOff + ci * 3; x < n; x += 3, d += groupStride) {
      if (x + 3 <= n) {
        panel[d] = src[f + x];
        panel[d + 1] = src[f + x + 1];
        panel[d + 2] = src[f + x + 2];
      } else {
        // the last, partial group: phantom pixels are computed and never read by an epilogue
        for (let k = 0; k < 3; k++) panel[d + k] = x + k < n ? src[f + x + k] : 0;
      }
    }
  }
}

/**
 * The products of conv1x1Rows: acc[block * 4 * stride + lane * stride + accBase + x] for the
 * panel's pixels x < n rounded up to whole 3-pixel groups: bias + the channel sums, in
 * panelProductsF32's 4 x 3 register block.
 */
function panelProducts(
  arena: PackedDoubles,
  biasOff: number,
  panelOff: number,
  blocks: number,
  cin: number,
  n: number,
  acc: Float64Array,
  accBase: number,
  stride: number,
): void {
  const blockStride = CONV_BLOCK_CHANNELS * stride;
  for (let block = 0; block < blocks; block++) {
    const co0 = block * CONV_BLOCK_CHANNELS;
    const wBase = block * cin * CONV_BLOCK_CHANNELS;
    const b0 = arena[biasOff + co0], b1 = arena[biasOff + co0 + 1], b2 = arena[biasOff + co0 + 2], b3 = arena[biasOff + co0 + 3];
    const out = accBase + block * blockStride;
    for (let x = 0; x < n; x = (x + 3) | 0) {
      // written out, as in panelProductsF32; `| 0` on the index arithmetic as in winogradProducts
      let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
      let c0 = b0, c1 = b1, c2 = b2, c3 = b3;
      let d0 = b0, d1 = b1, d2 = b2, d3 = b3;
      let p = (panelOff + Math.imul(x, cin)) | 0;
      let wi = wBase;
      for (let ci = 0; ci < cin; ci = (ci + 1) | 0) {
        const i0 = arena[p], i1 = arena[(p + 1) | 0], i2 = arena[(p + 2) | 0];
        const w0 = arena[wi], w1 = arena[(wi + 1) | 0], w2 = arena[(wi + 2) | 0], w3 = arena[(wi + 3) | 0];
        p = (p + 3) | 0;
        wi = (wi + 4) | 0;
        a0 += w0 * i0; c0 += w0 * i1; d0 += w0 * i2;
        a1 += w1 * i0; c1 += w1 * i1; d1 += w1 * i2;
        a2 += w2 * i0; c2 += w2 * i1; d2 += w2 * i2;
        a3 += w3 * i0; c3 += w3 * i1; d3 += w3 * i2;
      }
      const o = (out + x) | 0;
      acc[o] = a0; acc[o + 1] = c0; acc[o + 2] = d0;
      acc[o + stride] = a1; acc[o + stride + 1] = c1; acc[o + stride + 2] = d1;
      acc[o + 2 * stride] = a2; acc[o + 2 * stride + 1] = c2; acc[o + 2 * stride + 2] = d2;
      acc[o + 3 * stride] = a3; acc[o + 3 * stride + 1] = c3; acc[o + 3 * stride + 2] = d3;
    }
  }
}
