import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng, encodePngReference } from '../../src/image/codec.js';
import { encodePngFast } from '../../src/image/png-encode.js';
import { rng } from '../helpers/random.js';

/** Random pixels, or a smooth gradient with noise (where the filters matter), opaque or not. */
function image(width: number, height: number, seed: number, alpha: boolean, smooth: boolean) {
  const random = rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        const v = smooth ? (x * 3 + y * 5 + c * 40 + Math.floor(random() * 6)) & 255 : Math.floor(random() * 256);
        data[(y * width + x) * 4 + c] = c === 3 && !alpha ? 255 : v;
      }
    }
  }
  return { width, height, data };
}

/** pngjs's reader, as an independent decoder: RGBA, always. */
function readWithPngjs(bytes: Uint8Array): { width: number; height: number; data: Uint8Array; colorType: number } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data), colorType: (png as unknown as { colorType: number }).colorType };
}

describe('encodePngFast', () => {
  const sizes = [[1, 1], [1, 7], [7, 1], [2, 3], [17, 5], [64, 33]];
  for (const filter of ['adaptive', 1, 2, 3, 4] as const) {
    for (const alpha of [false, true]) {
      it(`decodes (pngjs) to the same pixels: filter ${filter}, ${alpha ? 'RGBA' : 'RGB'}, sizes ${sizes.map((s) => s.join('x')).join(' ')}`, () => {
        sizes.forEach(([w, h], k) => {
          for (const smooth of [false, true]) {
            const input = image(w, h, 10 * k + (smooth ? 1 : 0), alpha, smooth);
            const decoded = readWithPngjs(encodePngFast(input, alpha, { filter }));
            expect([decoded.width, decoded.height]).toEqual([w, h]);
            expect(decoded.data).toEqual(input.data);
          }
        });
      });
    }
  }

  it('encodePng writes RGB for opaque images and RGBA otherwise, the pixels of the pngjs reference', () => {
    for (const alpha of [false, true]) {
      const input = image(31, 9, 5, alpha, true);
      const fast = readWithPngjs(encodePng(input));
      const reference = readWithPngjs(encodePngReference(input));
      expect(fast.colorType).toBe(alpha ? 6 : 2);
      expect(fast.data).toEqual(reference.data);
      expect(fast.data).toEqual(input.data);
    }
  });
});
