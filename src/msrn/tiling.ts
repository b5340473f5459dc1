import { Tensor, TypedBuffer } from '../tensor/tensor.js';
import { Region } from '../tensor/region.js';

/**
 * Tiled inference. The image is cut into tiles of at most `tileSize` x `tileSize` LR pixels; each
 * tile is run with a halo of context around it (clipped at the image border) and only its core
 * is kept. With a halo of at least the network's receptive-field radius (receptiveFieldRadius in
 * config.ts), every kept output pixel sees exactly the inputs and the zero padding it sees in a
 * whole-image run, and memory is bounded by the tile instead of the image. Given the core
 * (tileCoreRegion), the forwards compute each layer only where the core still needs it
 * (layer-windows.ts), so the halo shrinks layer by layer instead of being computed throughout.
 *
 * int8 output equals whole-image output bit for bit (integer arithmetic). fp32 equals it to
 * float32 rounding: its Winograd convs work on blocks anchored to the tile (or to a layer's
 * window), in float64, so another block grid can round a value differently in the last float32
 * bit (rarely; the float64 results differ by about 1e-14 relative). The same tiles give the same
 * bytes however many threads run them (a gang of workers on one tile included, gang.ts); with
 * shared memory, N workers run tiles of up to N tileSize^2 pixels, which is another tiling.
 */
export interface Tile {
  /** the core region, in LR pixels */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** the region actually run: the core plus the halo, clipped to the image */
  readonly haloX: number;
  readonly haloY: number;
  readonly haloWidth: number;
  readonly haloHeight: number;
}

/**
 * Cuts an image into tiles of at most tileSize x tileSize pixels (by area: a tile may be long
 * and thin when that wastes less), at least `minTiles` of them (one per worker, so no thread
 * idles), choosing the grid whose tiles, halos included, add up to the fewest pixels: every halo
 * pixel is computed and thrown away, so on a 270x480 frame two 270x240 tiles cost 5% extra where
 * four 135x240 tiles would cost 30%.
 *
 * `maxArea` (tileSize^2 by default) caps a tile's pixels instead: a gang of N workers runs one
 * tile of up to N tileSize^2 together (upscaler/gang-tile.ts), the memory of N tiles of one each.
 */
export function planTiles(height: number, width: number, tileSize: number, halo: number, minTiles = 1, maxArea = tileSize * tileSize): Tile[] {
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new RangeError(`tile size must be a positive integer, got ${tileSize}`);
  if (!Number.isInteger(halo) || halo < 0) throw new RangeError(`halo must be a non-negative integer, got ${halo}`);
  if (!Number.isInteger(maxArea) || maxArea < 1) throw new RangeError(`tile area must be a positive integer, got ${maxArea}`);
  const wanted = Math.min(Math.max(1, minTiles), height * width);
  const edges = (length: number, parts: number) => Array.from({ length: parts + 1 }, (_, i) => Math.round((i * length) / parts));
  /** Sum of the haloed lengths of `parts` even pieces of `length`. */
  const haloed = (length: number, parts: number) => {
    const e = edges(length, parts);
    let sum = 0;
    for (let i = 0; i < parts; i++) sum += Math.min(length, e[i + 1] + halo) - Math.max(0, e[i] - halo);
    return sum;
  };
  let best: { rows: number; cols: number; cost: number } | undefined;
  for (let rows = 1; rows <= height; rows++) {
    const tileHeight = Math.ceil(height / rows);
    const widest = Math.floor(maxArea / tileHeight);
    if (widest < 1) continue;
    const cols = Math.min(width, Math.max(Math.ceil(width / widest), Math.ceil(wanted / rows)));
    if (rows * cols < wanted || tileHeight * Math.ceil(width / cols) > maxArea) continue;
    const cost = haloed(height, rows) * haloed(width, cols);
    if (!best || cost < best.cost || (cost === best.cost && rows * cols < best.rows * best.cols)) best = { rows, cols, cost };
  }
  const { rows, cols } = best ?? { rows: height, cols: width };
  const ys = edges(height, rows);
  const xs = edges(width, cols);
  const tiles: Tile[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const y = ys[r];
      const x = xs[c];
      const h = ys[r + 1] - y;
      const w = xs[c + 1] - x;
      const haloY = Math.max(0, y - halo);
      const haloX = Math.max(0, x - halo);
      tiles.push({
        x, y, width: w, height: h,
        haloX, haloY,
        haloWidth: Math.min(width, x + w + halo) - haloX,
        haloHeight: Math.min(height, y + h + halo) - haloY,
      });
    }
  }
  return tiles;
}

/** Copy of the rectangle (y, x, height, width) of every channel. */
export function cropTensor<B extends TypedBuffer>(t: Tensor<B>, y: number, x: number, height: number, width: number): Tensor<B> {
  if (y < 0 || x < 0 || y + height > t.height || x + width > t.width) {
    throw new RangeError(`crop ${width}x${height} at (${x}, ${y}) is outside the ${t.width}x${t.height} tensor`);
  }
  const Ctor = t.data.constructor as new (n: number) => B;
  const out = new Ctor(t.channels * height * width);
  for (let c = 0; c < t.channels; c++) {
    for (let r = 0; r < height; r++) {
      const from = (c * t.height + y + r) * t.width + x;
      out.set(t.data.subarray(from, from + width) as never, (c * height + r) * width);
    }
  }
  return new Tensor(t.channels, height, width, out);
}

/** The input a tile runs on: its halo region of the image. */
export function tileInput(image: Tensor<Float32Array>, tile: Tile): Tensor<Float32Array> {
  return cropTensor(image, tile.haloY, tile.haloX, tile.haloHeight, tile.haloWidth);
}

/** The tile's core in the coordinates of its haloed input (tileInput). */
export function tileCoreRegion(tile: Tile): Region {
  const y0 = tile.y - tile.haloY;
  const x0 = tile.x - tile.haloX;
  return { y0, y1: y0 + tile.height, x0, x1: x0 + tile.width };
}

/** The core of a tile's output (the output of tileInput, `scale` times larger), without its halo. */
export function tileCore<B extends TypedBuffer>(output: Tensor<B>, tile: Tile, scale: number): Tensor<B> {
  return cropTensor(output, (tile.y - tile.haloY) * scale, (tile.x - tile.haloX) * scale, tile.height * scale, tile.width * scale);
}

/**
 * Calls `visit(start, end)` for every row of `tensor`'s elements that lie in the tile's core,
 * where `tensor` is any activation of a run on tileInput (at the LR resolution or, after the
 * upsampler, a multiple of it). Statistics over only these elements equal the whole-image ones.
 */
export function forEachCoreRow(tensor: Tensor<TypedBuffer>, tile: Tile, visit: (start: number, end: number) => void): void {
  const r = tensor.height / tile.haloHeight;
  const y0 = (tile.y - tile.haloY) * r;
  const x0 = (tile.x - tile.haloX) * r;
  for (let c = 0; c < tensor.channels; c++) {
    for (let y = y0; y < y0 + tile.height * r; y++) {
      const start = (c * tensor.height + y) * tensor.width + x0;
      visit(start, start + tile.width * r);
    }
  }
}

/** Paste a tile's core output into the whole output (same element type). */
export function pasteTile<B extends TypedBuffer>(target: Tensor<B>, core: Tensor<B>, tile: Tile, scale: number): void {
  const oy = tile.y * scale;
  const ox = tile.x * scale;
  for (let c = 0; c < core.channels; c++) {
    for (let r = 0; r < core.height; r++) {
      const from = (c * core.height + r) * core.width;
      (target.data as TypedBuffer).set(core.data.subarray(from, from + core.width) as never, (c * target.height + oy + r) * target.width + ox);
    }
  }
}

/**
 * Runs `forward` tile by tile on one thread and assembles the whole output: the browser/worker
 * friendly form (the Node upscaler spreads the same tiles over worker threads). `forward` gets
 * the tile's core too (tileCoreRegion), to compute each layer only where it is needed.
 */
export function forwardTiled<B extends Float32Array | Uint8Array>(
  forward: (input: Tensor<Float32Array>, core: Region) => Tensor<B>,
  image: Tensor<Float32Array>,
  scale: number,
  tileSize: number,
  halo: number,
): Tensor<B> {
  let output: Tensor<B> | undefined;
  for (const tile of planTiles(image.height, image.width, tileSize, halo)) {
    const core = tileCore(forward(tileInput(image, tile), tileCoreRegion(tile)), tile, scale);
    if (!output) {
      const Ctor = core.data.constructor as new (n: number) => B;
      output = new Tensor(3, image.height * scale, image.width * scale, new Ctor(3 * image.height * scale * image.width * scale));
    }
    pasteTile(output, core, tile, scale);
  }
  return output!;
}
