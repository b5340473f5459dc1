import { Tensor, assertSameShape } from '../tensor/tensor.js';
import { RowRange } from '../tensor/region.js';
import { forEachBandRow, forEachRowRun } from '../ops/elementwise.js';
import { multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierReference } from './requantize.js';

/**
 * The residual add in int8, as TFLite's int8 ADD with zero points 0 (docs/INT8.md section 4):
 * both inputs are lifted by 2^left_shift, rescaled to a common scale, summed, and rescaled to
 * the output scale. `params` = [left_shift, m1, e1, m2, e2, mo, eo]. `out` may alias `a` or `x`.
 * With `rows`, only those rows of every channel.
 */
export function addI8(a: Tensor<Int8Array>, x: Tensor<Int8Array>, params: Int32Array, out: Tensor<Int8Array>, rows?: RowRange): void {
  assertSameShape('addI8', a, x);
  assertSameShape('addI8', a, out);
  // The result depends only on the two int8 inputs: look it up in a 256 x 256 table of the exact
  // arithmetic, built once per parameter set, instead of three requantizations per element.
  const table = addTable(params);
  const qa = a.data;
  const qx = x.data;
  const dst = out.data;
  forEachRowRun(out, rows, (start, end) => {
    for (let i = start; i < end; i++) dst[i] = table[((qa[i] & 0xff) << 8) | (qx[i] & 0xff)];
  });
}

/**
 * addI8 of a band of rows, as addFromBand (ops/elementwise.ts) for fp32: out[c][y][x] = the
 * int8 add of band[c][y - y0 + bandRow][x] and x[c][y][x], for rows y0..y1-1 and columns
 * x0..x1-1 only.
 */
export function addI8FromBand(
  band: Tensor<Int8Array>,
  bandRow: number,
  x: Tensor<Int8Array>,
  params: Int32Array,
  out: Tensor<Int8Array>,
  y0: number,
  y1: number,
  x0: number,
  x1: number,
): void {
  assertSameShape('addI8FromBand', x, out);
  const table = addTable(params);
  const qa = band.data;
  const qx = x.data;
  const dst = out.data;
  forEachBandRow('addI8FromBand', band, bandRow, out, y0, y1, (o, s) => {
    for (let i = x0; i < x1; i++) dst[o + i] = table[((qa[s + i] & 0xff) << 8) | (qx[o + i] & 0xff)];
  });
}

const tables = new WeakMap<Int32Array, Int8Array>();

function addTable(params: Int32Array): Int8Array {
  let table = tables.get(params);
  if (table) return table;
  table = new Int8Array(65536);
  const lift = 2 ** params[0];
  const [, m1, e1, m2, e2, mo, eo] = params;
  for (let ia = 0; ia < 256; ia++) {
    const v1 = multiplyByQuantizedMultiplier(((ia << 24) >> 24) * lift, m1, e1); // sign-extend the byte
    for (let ix = 0; ix < 256; ix++) {
      const v2 = multiplyByQuantizedMultiplier(((ix << 24) >> 24) * lift, m2, e2);
      const v = multiplyByQuantizedMultiplier(v1 + v2, mo, eo);
      table[(ia << 8) | ix] = v < -127 ? -127 : v > 127 ? 127 : v;
    }
  }
  tables.set(params, table);
  return table;
}

export function addI8Reference(a: Tensor<Int8Array>, x: Tensor<Int8Array>, params: Int32Array, out: Tensor<Int8Array>): void {
  assertSameShape('addI8', a, x);
  assertSameShape('addI8', a, out);
  const [leftShift, m1, e1, m2, e2, mo, eo] = params;
  for (let i = 0; i < out.data.length; i++) {
    const v1 = multiplyByQuantizedMultiplierReference(a.data[i] * 2 ** leftShift, m1, e1);
    const v2 = multiplyByQuantizedMultiplierReference(x.data[i] * 2 ** leftShift, m2, e2);
    out.data[i] = Math.min(127, Math.max(-127, multiplyByQuantizedMultiplierReference(v1 + v2, mo, eo)));
  }
}
