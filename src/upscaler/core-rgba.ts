import { Tensor } from '../tensor/tensor.js';
import { Tile } from '../msrn/tiling.js';
import { toByte } from '../image/pixels.js';

/**
 * The core of a tile's output (its halo dropped) as RGBA bytes (rows of tile.width * scale
 * pixels, alpha 255), rounded with toByte: what a tile job replies.
 */
export function coreToRgba(output: Tensor<Float32Array | Uint8Array>, tile: Tile, scale: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(tile.width * scale * tile.height * scale * 4);
  writeCoreRgba(output, tile, scale, rgba, 0, tile.height * scale);
  return rgba;
}

/** Rows rowFrom .. rowTo - 1 of the tile's core (HR rows, counted from the core's top) into `rgba`, as coreToRgba lays them out. */
export function writeCoreRgba(output: Tensor<Float32Array | Uint8Array>, tile: Tile, scale: number, rgba: Uint8ClampedArray, rowFrom: number, rowTo: number): void {
  const width = tile.width * scale;
  const y0 = (tile.y - tile.haloY) * scale;
  const x0 = (tile.x - tile.haloX) * scale;
  const plane = output.height * output.width;
  const src = output.data;
  for (let y = rowFrom; y < rowTo; y++) {
    let i = (y0 + y) * output.width + x0;
    for (let x = 0, o = y * width * 4; x < width; x++, i++, o += 4) {
      rgba[o] = toByte(src[i]);
      rgba[o + 1] = toByte(src[i + plane]);
      rgba[o + 2] = toByte(src[i + 2 * plane]);
      rgba[o + 3] = 255;
    }
  }
}
