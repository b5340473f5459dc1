import { Tensor, TypedBuffer } from '../tensor/tensor.js';

/**
 * Tiled inference. The image is cut into tiles of at most `tileSize` x `tileSize` LR pixels; each
 * tile is run with a halo of context around it (clipped at the image border) and only its core
 * is kept. With a halo of at least the network's receptive-field radius (receptiveFieldRadius in
 * config.ts), every kept output pixel sees exactly the inputs, the zero padding and the summation
 * order it sees in a whole-image run, so tiled output equals whole-image output bit for bit, and
 * memory is bounded by the tile instead of the image.
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

export function planTiles(height: number, width: number, tileSize: number, halo: number): Tile[] {
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new RangeError(`tile size must be a positive integer, got ${tileSize}`);
  if (!Number.isInteger(halo) || halo < 0) throw new RangeError(`halo must be a non-negative integer, got ${halo}`);
  const tiles: Tile[] = [];
  // Even split: tiles of near-equal size rather than one thin remainder tile.
  const rows = Math.ceil(height / tileSize);
  const cols = Math.ceil(width / tileSize);
  const edges = (length: number, parts: number) => Array.from({ length: parts + 1 }, (_, i) => Math.round((i * length) / parts));
  const ys = edges(height, rows);
  const xs = edges(width, cols);
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

/** The core of a tile's output (the output of tileInput, `scale` times larger), without its halo. */
export function tileCore<B extends TypedBuffer>(output: Tensor<B>, tile: Tile, scale: number): Tensor<B> {
  return cropTensor(output, (tile.y - tile.haloY) * scale, (tile.x - tile.haloX) * scale, tile.height * scale, tile.width * scale);
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
 * friendly form (the Node upscaler spreads the same tiles over worker threads).
 */
export function forwardTiled<B extends Float32Array | Uint8Array>(
  forward: (input: Tensor<Float32Array>) => Tensor<B>,
  image: Tensor<Float32Array>,
  scale: number,
  tileSize: number,
  halo: number,
): Tensor<B> {
  let output: Tensor<B> | undefined;
  for (const tile of planTiles(image.height, image.width, tileSize, halo)) {
    const core = tileCore(forward(tileInput(image, tile)), tile, scale);
    if (!output) {
      const Ctor = core.data.constructor as new (n: number) => B;
      output = new Tensor(3, image.height * scale, image.width * scale, new Ctor(3 * image.height * scale * image.width * scale));
    }
    pasteTile(output, core, tile, scale);
  }
  return output!;
}
