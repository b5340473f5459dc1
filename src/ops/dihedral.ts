import { Tensor, TypedBuffer } from '../tensor/tensor.js';
import { Region } from '../tensor/region.js';

/**
 * The 8 symmetries of the square (the dihedral group D4) acting on every plane of a CHW tensor:
 * what self-ensemble (MSRN+, EDSR's "+") runs the model on. Transform k = 0..7 is: transpose if
 * bit 2 is set, then flip left-right if bit 0 is set, then flip top-bottom if bit 1 is set;
 * k = 0 is the identity. A permutation, so it works on any element type and never rounds.
 */
export const DIHEDRAL_COUNT = 8;

/** Transform k of `t` (a new tensor; H and W swap when k transposes). */
export function dihedral<B extends TypedBuffer>(t: Tensor<B>, k: number): Tensor<B> {
  return permute(t, k, false);
}

/** The inverse of transform k: undoDihedral(dihedral(t, k), k) equals t. */
export function undoDihedral<B extends TypedBuffer>(t: Tensor<B>, k: number): Tensor<B> {
  return permute(t, k, true);
}

/** Where the pixels of `region` of a height x width tensor land under transform k. */
export function dihedralRegion(region: Region, k: number, height: number, width: number): Region {
  if (!Number.isInteger(k) || k < 0 || k >= DIHEDRAL_COUNT) throw new RangeError(`dihedral transform must be 0..7, got ${k}`);
  const transpose = (k & 4) !== 0;
  let { y0, y1, x0, x1 } = transpose ? { y0: region.x0, y1: region.x1, x0: region.y0, x1: region.y1 } : region;
  const frameHeight = transpose ? width : height;
  const frameWidth = transpose ? height : width;
  if (k & 1) [x0, x1] = [frameWidth - x1, frameWidth - x0];
  if (k & 2) [y0, y1] = [frameHeight - y1, frameHeight - y0];
  return { y0, y1, x0, x1 };
}

function permute<B extends TypedBuffer>(t: Tensor<B>, k: number, inverse: boolean): Tensor<B> {
  if (!Number.isInteger(k) || k < 0 || k >= DIHEDRAL_COUNT) throw new RangeError(`dihedral transform must be 0..7, got ${k}`);
  const transpose = (k & 4) !== 0;
  const flipX = (k & 1) !== 0;
  const flipY = (k & 2) !== 0;
  const { channels, height, width } = t;
  const outHeight = transpose ? width : height;
  const outWidth = transpose ? height : width;
  const Ctor = t.data.constructor as new (n: number) => B;
  const out = new Ctor(t.data.length);
  // The forward transform reads out[y][x] from in[sy][sx] of the transposed-then-flipped frame;
  // the inverse writes in the other direction, so one index map serves both.
  const frameHeight = inverse ? height : outHeight; // the frame the flips act in
  const frameWidth = inverse ? width : outWidth;
  const plane = height * width;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < frameHeight; y++) {
      const fy = flipY ? frameHeight - 1 - y : y;
      for (let x = 0; x < frameWidth; x++) {
        const fx = flipX ? frameWidth - 1 - x : x;
        // (y, x) in the flipped frame comes from (fy, fx) in the transposed one.
        const sy = transpose ? fx : fy;
        const sx = transpose ? fy : fx;
        if (inverse) out[base + sy * outWidth + sx] = t.data[base + y * width + x];
        else out[base + y * outWidth + x] = t.data[base + sy * width + sx];
      }
    }
  }
  return new Tensor(channels, outHeight, outWidth, out);
}
