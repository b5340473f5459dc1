/**
 * A rectangle of a tensor's pixels: rows y0 .. y1 - 1, columns x0 .. x1 - 1 (the same for every
 * channel). Tiled inference uses them to compute each layer only where later layers still need
 * it (see ConvWindow and forwardF32's `core`).
 */
export interface Region {
  readonly y0: number;
  readonly y1: number;
  readonly x0: number;
  readonly x1: number;
}

/** Rows y0 .. y1 - 1 of a tensor, every column: what a gang member computes of a pointwise op (gang.ts). */
export type RowRange = Pick<Region, 'y0' | 'y1'>;

/**
 * Where a conv reads and where it writes, for a layer computed on part of its tensor:
 * - `input`: the region of the input that holds the layer's real input; everything outside it is
 *   taken as zero, as the conv's padding is (the values there are stale or were never computed);
 * - `output`: the region of the output that must be computed. Outside it the output may be left
 *   as it was or written with anything finite.
 * The caller keeps `output` at least the kernel radius inside `input` except where `input`
 * reaches the tensor's edge, so every output inside `output` sees exactly its real inputs.
 */
export interface ConvWindow {
  readonly input: Region;
  readonly output: Region;
}

export function wholeRegion(height: number, width: number): Region {
  return { y0: 0, y1: height, x0: 0, x1: width };
}

/** The window of a conv on the whole height x width tensor: its input and output everywhere. */
export function wholeWindow(height: number, width: number): ConvWindow {
  const whole = wholeRegion(height, width);
  return { input: whole, output: whole };
}

/** `region` grown by `by` pixels on every side, clipped to a height x width tensor. */
export function expandRegion(region: Region, by: number, height: number, width: number): Region {
  return {
    y0: Math.max(0, region.y0 - by),
    y1: Math.min(height, region.y1 + by),
    x0: Math.max(0, region.x0 - by),
    x1: Math.min(width, region.x1 + by),
  };
}

/** The same pixels after an upscale by `factor` (PixelShuffle). */
export function scaleRegion(region: Region, factor: number): Region {
  return { y0: region.y0 * factor, y1: region.y1 * factor, x0: region.x0 * factor, x1: region.x1 * factor };
}

/** Throws unless both regions of a conv's window lie inside its height x width tensors (a no-op without a window). */
export function checkConvWindow(window: ConvWindow | undefined, height: number, width: number): void {
  if (!window) return;
  checkRegion('conv2d input window', window.input, height, width);
  checkRegion('conv2d output window', window.output, height, width);
}

/** Throws unless `region` is a non-empty rectangle of integers inside a height x width tensor. */
export function checkRegion(what: string, region: Region, height: number, width: number): void {
  const { y0, y1, x0, x1 } = region;
  const ok = [y0, y1, x0, x1].every(Number.isInteger) && y0 >= 0 && x0 >= 0 && y1 <= height && x1 <= width && y0 < y1 && x0 < x1;
  if (!ok) throw new RangeError(`${what}: region rows ${y0}..${y1}, columns ${x0}..${x1} is not a non-empty part of the ${width}x${height} tensor`);
}
