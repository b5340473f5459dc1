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

/** The transform that undoes transform k: undoDihedral(t, k) equals dihedral(t, inverseDihedral(k)). */
export function inverseDihedral(k: number): number {
  checkTransform(k);
  return INVERSE[k];
}

// Flips and the plain transpose undo themselves; "transpose, then flip left-right" (5) is undone
// by "flip left-right, then transpose", which is "transpose, then flip top-bottom" (6).
const INVERSE = [0, 1, 2, 3, 4, 6, 5, 7];

/**
 * Row y of transform k of a height x width plane, as a walk through the plane: its pixels x =
 * 0, 1, ... are plane[start + x * step]. The index map of dihedral and undoDihedral, and of a
 * gang computing a transform a row band at a time (upscaler/model-runner.ts).
 */
export function dihedralRow(k: number, height: number, width: number, y: number): { start: number; step: number } {
  checkTransform(k);
  const transpose = (k & 4) !== 0;
  const outHeight = transpose ? width : height;
  const outWidth = transpose ? height : width;
  const fy = k & 2 ? outHeight - 1 - y : y;
  const firstX = k & 1 ? outWidth - 1 : 0; // fx at x = 0
  const dx = k & 1 ? -1 : 1;
  // (y, x) reads (fy, fx) of the transposed frame: the plane's (fx, fy) when transposing
  return transpose ? { start: firstX * width + fy, step: dx * width } : { start: fy * width + firstX, step: dx };
}

function checkTransform(k: number): void {
  if (!Number.isInteger(k) || k < 0 || k >= DIHEDRAL_COUNT) throw new RangeError(`dihedral transform must be 0..7, got ${k}`);
}

/** Where the pixels of `region` of a height x width tensor land under transform k. */
export function dihedralRegion(region: Region, k: number, height: number, width: number): Region {
  checkTransform(k);
  const transpose = (k & 4) !== 0;
  let { y0, y1, x0, x1 } = transpose ? { y0: region.x0, y1: region.x1, x0: region.y0, x1: region.y1 } : region;
  const frameHeight = transpose ? width : height;
  const frameWidth = transpose ? height : width;
  if (k & 1) [x0, x1] = [frameWidth - x1, frameWidth - x0];
  if (k & 2) [y0, y1] = [frameHeight - y1, frameHeight - y0];
  return { y0, y1, x0, x1 };
}

/**
 * Rows y0 .. y1 - 1 of dihedral(t, k) into `out` (shaped as that transform), every channel: all of
 * them for dihedral itself, a band at a time for a gang (upscaler/model-runner.ts).
 */
export function dihedralRowsInto<B extends TypedBuffer>(t: Tensor<B>, k: number, out: Tensor<B>, y0: number, y1: number): void {
  const { channels, height, width } = t;
  const plane = height * width;
  for (let y = y0; y < y1; y++) {
    const { start, step } = dihedralRow(k, height, width, y);
    for (let c = 0; c < channels; c++) {
      const from = c * plane + start;
      const to = c * plane + y * out.width;
      for (let x = 0; x < out.width; x++) out.data[to + x] = t.data[from + x * step];
    }
  }
}

function permute<B extends TypedBuffer>(t: Tensor<B>, k: number, inverse: boolean): Tensor<B> {
  checkTransform(k);
  // undoing k is applying its inverse: one index map (dihedralRow) serves both directions
  const j = inverse ? inverseDihedral(k) : k;
  const { channels, height, width } = t;
  const Ctor = t.data.constructor as new (n: number) => B;
  const out = j & 4 ? new Tensor(channels, width, height, new Ctor(t.data.length)) : new Tensor(channels, height, width, new Ctor(t.data.length));
  dihedralRowsInto(t, j, out, 0, out.height);
  return out;
}
