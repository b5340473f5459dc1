import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { DIHEDRAL_COUNT, dihedral, dihedralRow, inverseDihedral, undoDihedral } from '../../src/ops/dihedral.js';

/** A 2x3 plane [[1 2 3] [4 5 6]], and a second channel offset by 10. */
const t = new Tensor(2, 2, 3, new Float32Array([1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]));
const rows = (x: Tensor<Float32Array>, c = 0) =>
  Array.from({ length: x.height }, (_, y) => Array.from(x.data.subarray(c * x.height * x.width + y * x.width, c * x.height * x.width + (y + 1) * x.width)));

describe('dihedral transforms', () => {
  it('are the 8 symmetries of the square, written out by hand', () => {
    const expected = [
      [[1, 2, 3], [4, 5, 6]], // 0 identity
      [[3, 2, 1], [6, 5, 4]], // 1 flip left-right
      [[4, 5, 6], [1, 2, 3]], // 2 flip top-bottom
      [[6, 5, 4], [3, 2, 1]], // 3 rotate 180
      [[1, 4], [2, 5], [3, 6]], // 4 transpose
      [[4, 1], [5, 2], [6, 3]], // 5 transpose, flip left-right: rotate 90 clockwise
      [[3, 6], [2, 5], [1, 4]], // 6 transpose, flip top-bottom: rotate 90 counter-clockwise
      [[6, 3], [5, 2], [4, 1]], // 7 anti-transpose
    ];
    for (let k = 0; k < DIHEDRAL_COUNT; k++) {
      const out = dihedral(t, k);
      expect(rows(out), `k = ${k}`).toEqual(expected[k]);
      expect(rows(out, 1), `k = ${k}, channel 1`).toEqual(expected[k].map((r) => r.map((v) => v + 10)));
    }
  });

  it('undo inverts each transform, on odd shapes, 1-pixel planes and any element type', () => {
    for (const [c, h, w] of [[1, 1, 1], [3, 1, 7], [2, 5, 1], [3, 4, 9]]) {
      const data = Uint8Array.from({ length: c * h * w }, (_, i) => (i * 37) % 251);
      const x = new Tensor(c, h, w, data);
      const seen = new Set<string>();
      for (let k = 0; k < DIHEDRAL_COUNT; k++) {
        const y = dihedral(x, k);
        expect(y.data).toBeInstanceOf(Uint8Array);
        expect(y.shape).toEqual(k & 4 ? [c, w, h] : [c, h, w]);
        expect(undoDihedral(y, k)).toEqual(x);
        expect(dihedral(undoDihedral(x, k), k)).toEqual(x);
        seen.add(`${y.shape}:${y.data}`);
      }
      if (h > 1 && w > 1) expect(seen.size).toBe(8); // all distinct on a plane with no symmetry
    }
    expect(() => dihedral(t, 8)).toThrow(/0..7, got 8/);
  });

  it('dihedralRow walks the plane as dihedral lays out each row; inverseDihedral undoes', () => {
    for (const [h, w] of [[1, 1], [2, 3], [5, 1], [4, 9]]) {
      const x = new Tensor(1, h, w, Float32Array.from({ length: h * w }, (_, i) => i * 3 + 1));
      for (let k = 0; k < DIHEDRAL_COUNT; k++) {
        const y = dihedral(x, k);
        for (let row = 0; row < y.height; row++) {
          const { start, step } = dihedralRow(k, h, w, row);
          const walked = Array.from({ length: y.width }, (_, i) => x.data[start + i * step]);
          expect(walked, `${h}x${w}, k = ${k}, row ${row}`).toEqual(Array.from(y.data.subarray(row * y.width, (row + 1) * y.width)));
        }
        expect(dihedral(y, inverseDihedral(k))).toEqual(undoDihedral(y, k));
      }
    }
    expect(() => dihedralRow(8, 2, 2, 0)).toThrow(/0\.\.7, got 8/);
  });
});
