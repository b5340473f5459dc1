import { deflateSync, constants } from 'node:zlib';
import { crc32 } from '../msrn/crc32.js';
import type { RgbaImage } from './pixels.js';

/**
 * PNG writer for 8-bit RGB (alpha dropped) or RGBA: one pass that filters each row straight from
 * the RGBA buffer, then one zlib deflate (Node's zlib), one IDAT chunk. Replaces pngjs's writer
 * (kept as encodePngReference in codec.ts, which the tests decode against): pngjs tries all five
 * filters on every row in separate passes, packs RGBA to RGB in another, and costs ~25 ms to load.
 *
 * Filter: Paeth on every row by default. Measured on a 960x540 MSRN output (the CLI's 270x480
 * frame, x2; 7 runs, median): pngjs 62.6 ms (123 ms the first call in a process), 467,883 bytes;
 * here adaptive (per row, the least sum of |byte as int8| of Sub, Up, Average, Paeth) 43.7 ms,
 * the same 467,883 bytes (it picks Paeth on every row); Paeth alone 28.8 ms, 467,883 bytes; Up
 * alone 19.6 ms but 593,985 bytes. Deflate: Z_RLE (as pngjs); its level makes no difference
 * in size here, and the default strategy at level 6 took 193 ms for 0.3% more bytes.
 */
export interface PngEncodeOptions {
  /** zlib level 0-9 (default 6) */
  readonly level?: number;
  /** zlib strategy (default Z_RLE) */
  readonly strategy?: number;
  /** one filter type 1-4 for every row (default 4, Paeth), or 'adaptive' (the cheapest per row) */
  readonly filter?: 'adaptive' | 1 | 2 | 3 | 4;
}

export function encodePngFast(image: RgbaImage, alpha: boolean, options: PngEncodeOptions = {}): Uint8Array {
  const { width, height, data } = image;
  const bpp = alpha ? 4 : 3;
  const rowBytes = width * bpp;
  const raw = new Uint8Array((rowBytes + 1) * height);
  // the unfiltered current and previous rows, packed (RGB or RGBA); the previous starts as zeros
  let previous = new Uint8Array(rowBytes);
  let current = new Uint8Array(rowBytes);
  const candidates = [new Uint8Array(rowBytes), new Uint8Array(rowBytes), new Uint8Array(rowBytes), new Uint8Array(rowBytes)];
  const filter = options.filter ?? 4;
  for (let y = 0; y < height; y++) {
    packRow(data, y * width * 4, width, alpha, current);
    const out = y * (rowBytes + 1);
    let type: number;
    if (filter === 'adaptive') {
      let best = Infinity;
      type = 1;
      for (let t = 1; t <= 4; t++) {
        const cost = filterRow(t, current, previous, bpp, candidates[t - 1]);
        if (cost < best) {
          best = cost;
          type = t;
        }
      }
      raw.set(candidates[type - 1], out + 1);
    } else {
      type = filter;
      filterRow(type, current, previous, bpp, candidates[0]);
      raw.set(candidates[0], out + 1);
    }
    raw[out] = type;
    const swap = previous;
    previous = current;
    current = swap;
  }
  const compressed = deflateSync(raw, { level: options.level ?? 6, strategy: options.strategy ?? constants.Z_RLE });

  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = alpha ? 6 : 2; // colour type: RGBA or RGB
  // compression, filter method, interlace: 0
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  const chunks = [chunk('IHDR', header), chunk('IDAT', new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length)), chunk('IEND', new Uint8Array(0))];
  const total = signature.length + chunks.reduce((s, c) => s + c.length, 0);
  const png = new Uint8Array(total);
  png.set(signature, 0);
  let offset = signature.length;
  for (const c of chunks) {
    png.set(c, offset);
    offset += c.length;
  }
  return png;
}

function packRow(data: Uint8Array | Uint8ClampedArray, from: number, width: number, alpha: boolean, row: Uint8Array): void {
  if (alpha) {
    row.set(data.subarray(from, from + width * 4));
    return;
  }
  for (let x = 0, i = from, o = 0; x < width; x++, i += 4, o += 3) {
    row[o] = data[i];
    row[o + 1] = data[i + 1];
    row[o + 2] = data[i + 2];
  }
}

/** Writes `row` filtered with `type` (1-4) into `out`; returns the sum of |filtered byte as int8|. */
function filterRow(type: number, row: Uint8Array, above: Uint8Array, bpp: number, out: Uint8Array): number {
  const n = row.length;
  let cost = 0;
  // the first pixel has no left neighbour (a = c = 0)
  for (let i = 0; i < bpp; i++) {
    const b = above[i];
    const v = (row[i] - (type === 1 ? 0 : type === 3 ? b >> 1 : b)) & 255;
    out[i] = v;
    cost += v < 128 ? v : 256 - v;
  }
  if (type === 1) {
    for (let i = bpp; i < n; i++) {
      const v = (row[i] - row[i - bpp]) & 255;
      out[i] = v;
      cost += v < 128 ? v : 256 - v;
    }
  } else if (type === 2) {
    for (let i = bpp; i < n; i++) {
      const v = (row[i] - above[i]) & 255;
      out[i] = v;
      cost += v < 128 ? v : 256 - v;
    }
  } else if (type === 3) {
    for (let i = bpp; i < n; i++) {
      const v = (row[i] - ((row[i - bpp] + above[i]) >> 1)) & 255;
      out[i] = v;
      cost += v < 128 ? v : 256 - v;
    }
  } else {
    for (let i = bpp; i < n; i++) {
      const a = row[i - bpp];
      const b = above[i];
      const c = above[i - bpp];
      const pa = Math.abs(b - c); // |p - a| with p = a + b - c
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const v = (row[i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      out[i] = v;
      cost += v < 128 ? v : 256 - v;
    }
  }
  return cost;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}
