/**
 * upscale() and createUpscaler() as a user imports them: from the built package (dist/, built by
 * `npm test` first), because the worker threads run the compiled node/model-worker.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor, createUpscaler, decodeModel, decodeImage, encodePng, forwardModel, planTiles, rgbaToTensor, toByte, upscale } from '../dist/index.js';
import type { Precision } from '../dist/index.js';
import { FIXTURES } from './helpers/fixtures.js';
import { rng } from './helpers/random.js';

const weightsPath = join(FIXTURES, 'e2e', 'model.bin');
const weights = readFileSync(weightsPath);
const inputPng = readFileSync(join(FIXTURES, 'e2e', 'input.png'));
const expected = decodeImage(readFileSync(join(FIXTURES, 'e2e', 'expected.png')));

/** A 50x70 photo-like RGBA image: big enough for many small tiles. */
function testImage() {
  const random = rng(8);
  const width = 70;
  const height = 50;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = 128 + 100 * Math.sin(x / 6);
      data[i + 1] = 128 + 100 * Math.cos(y / 5);
      data[i + 2] = (x * 3 + y * 2 + random() * 30) % 256;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

describe('upscale()', () => {
  it('gives the same RGBA image from a path, from bytes and from pixels', async () => {
    const fromPath = await upscale(join(FIXTURES, 'e2e', 'input.png'), { weights: weightsPath });
    const fromBytes = await upscale(new Uint8Array(inputPng), { weights });
    const rgba = decodeImage(inputPng);
    const fromPixels = await upscale(rgba, { weights });
    const rgb = new Uint8Array(rgba.width * rgba.height * 3);
    for (let i = 0; i < rgba.width * rgba.height; i++) rgb.set(rgba.data.subarray(i * 4, i * 4 + 3), i * 3);
    const fromRgb = await upscale({ data: rgb, width: rgba.width, height: rgba.height, channels: 3 }, { weights });
    expect(fromPath.data).toBeInstanceOf(Uint8ClampedArray);
    expect([fromPath.width, fromPath.height]).toEqual([expected.width, expected.height]);
    for (const other of [fromBytes, fromPixels, fromRgb]) expect(other.data).toEqual(fromPath.data);
    let worst = 0;
    for (let i = 0; i < expected.data.length; i++) worst = Math.max(worst, Math.abs(fromPath.data[i] - expected.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('gives the same bytes for any tile size and thread count', async () => {
    const image = testImage();
    const reference = await upscale(image, { weights, threads: 1, tileSize: 1000 });
    for (const [threads, tileSize] of [[1, 9], [2, 16], [3, 13], [2, 1000]]) {
      const result = await upscale(image, { weights, threads, tileSize });
      expect(result.data).toEqual(reference.data);
    }
  });

  it('int8: the same bytes for any tile size and thread count too', async () => {
    const int8 = readFileSync(join(FIXTURES, 'int8', 'q16x2-x2.int8.bin'));
    const image = testImage();
    const reference = await upscale(image, { precision: 'int8', weights: int8, threads: 1, tileSize: 1000 });
    for (const [threads, tileSize] of [[1, 11], [2, 16], [3, 9]]) {
      const result = await upscale(image, { precision: 'int8', weights: int8, threads, tileSize });
      expect(result.data).toEqual(reference.data);
    }
  });

  it('reports rising progress that ends at 1', async () => {
    for (const threads of [1, 2]) {
      const seen: number[] = [];
      await upscale(testImage(), { weights, threads, tileSize: 20, onProgress: (f) => seen.push(f) });
      // 2 threads in Node run each tile as a gang: tiles of up to 2 x 20 x 20 pixels
      expect(seen.length).toBe(planTiles(50, 70, 20, 12, 1, threads * 400).length);
      expect(seen.length).toBeGreaterThan(threads === 1 ? 5 : 3);
      expect(seen.at(-1)).toBe(1);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
    }
  });

  it('aborts with an AbortError, before or during the work', async () => {
    for (const threads of [1, 2]) {
      const early = new AbortController();
      early.abort();
      await expect(upscale(testImage(), { weights, threads, signal: early.signal })).rejects.toMatchObject({ name: 'AbortError' });

      const late = new AbortController();
      const seen: number[] = [];
      const promise = upscale(testImage(), {
        weights,
        threads,
        tileSize: 8,
        signal: late.signal,
        onProgress: (f) => {
          seen.push(f);
          if (seen.length === 2) late.abort();
        },
      });
      await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen.length).toBeLessThan(planTiles(50, 70, 8, 12, threads).length - 5); // stopped well before the end
    }
  });

  it('carries alpha through, resized with bicubic', async () => {
    const rgba = decodeImage(inputPng);
    const data = new Uint8Array(rgba.data);
    for (let y = 0; y < rgba.height; y++) {
      for (let x = 0; x < rgba.width; x++) data[(y * rgba.width + x) * 4 + 3] = x < rgba.width / 2 ? 0 : 255;
    }
    const out = await upscale(encodePng({ ...rgba, data }), { weights });
    const alphaAt = (x: number, y: number) => out.data[(y * out.width + x) * 4 + 3];
    expect(alphaAt(0, 0)).toBe(0);
    expect(alphaAt(out.width - 1, out.height - 1)).toBe(255);
    expect(alphaAt(10, 5)).toBe(0);
    const opaque = await upscale(new Uint8Array(inputPng), { weights });
    expect(out.data[0]).toBe(opaque.data[0]); // RGB unaffected by alpha
  });

  it('rejects bad input with messages that say what is wrong', async () => {
    await expect(upscale({ data: new Uint8Array(10), width: 4, height: 4 }, { weights })).rejects.toThrow(
      /pixel buffer has 10 bytes, 4x4x4 needs 64/,
    );
    await expect(upscale({ data: new Uint8Array(64), width: 0, height: 4 }, { weights })).rejects.toThrow(/positive integers/);
    await expect(upscale(new Uint8Array(inputPng), { weights, precision: 'fp16' as never })).rejects.toThrow(/unknown precision "fp16"/);
    await expect(upscale(new Uint8Array(inputPng), { weights, tileSize: 0 })).rejects.toThrow(/tileSize must be a positive integer/);
    await expect(upscale(new Uint8Array(inputPng), { weights, threads: 1.5 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(upscale(new Uint8Array(inputPng), { weights, onProgress: 3 as never })).rejects.toThrow(/onProgress must be a function/);
    await expect(upscale(new Uint8Array([1, 2, 3]), { weights })).rejects.toThrow(/not a PNG or JPEG/);
    await expect(upscale(new Uint8Array(0), { weights })).rejects.toThrow(/empty input/);
    await expect(upscale(42 as never, { weights })).rejects.toThrow(/must be a file path, PNG\/JPEG bytes/);
    await expect(upscale(new Uint8Array(inputPng), { weights: inputPng })).rejects.toThrow(/wrong magic bytes/);
    await expect(upscale('/nonexistent/x.png', { weights })).rejects.toThrow(/cannot read \/nonexistent\/x.png: no such file/);
    await expect(upscale(new Uint8Array(inputPng), { weights, maxPixels: 100 })).rejects.toThrow(/over the limit/);
    await expect(upscale(new Uint8Array(inputPng), { weights: '/nonexistent.bin' })).rejects.toThrow(/cannot read weights file \/nonexistent.bin: no such file/);
  });

  it('handles a 1x1 image', async () => {
    const out = await upscale({ data: new Uint8Array([10, 200, 30, 255]), width: 1, height: 1 }, { weights });
    expect([out.width, out.height, out.data.length]).toEqual([2, 2, 16]);
  });
});

/**
 * The 8 flips and transposes written out independently of src/ops/dihedral.ts: a CHW tensor
 * read through a coordinate map, where `source` sends an output pixel to the pixel it comes from.
 */
function viewThrough(t: Tensor<Float32Array>, k: number, inverse: boolean): Tensor<Float32Array> {
  const transposed = k >= 4;
  const [h, w] = transposed ? [t.width, t.height] : [t.height, t.width];
  const out = new Float32Array(t.data.length);
  // Forward k: rotate the coordinates of the (possibly transposed) picture, then flip.
  const source = (y: number, x: number, height: number, width: number): [number, number] => {
    const fy = k & 2 ? height - 1 - y : y;
    const fx = k & 1 ? width - 1 - x : x;
    return transposed ? [fx, fy] : [fy, fx];
  };
  for (let c = 0; c < t.channels; c++) {
    for (let y = 0; y < (inverse ? t.height : h); y++) {
      for (let x = 0; x < (inverse ? t.width : w); x++) {
        if (!inverse) {
          const [sy, sx] = source(y, x, h, w);
          out[(c * h + y) * w + x] = t.data[(c * t.height + sy) * t.width + sx];
        } else {
          const [sy, sx] = source(y, x, t.height, t.width);
          out[(c * h + sy) * w + sx] = t.data[(c * t.height + y) * t.width + x];
        }
      }
    }
  }
  return new Tensor(t.channels, h, w, out);
}

describe('self-ensemble (MSRN+)', () => {
  const int8Weights = readFileSync(join(FIXTURES, 'int8', 'q16x2-x2.int8.bin'));
  const blobs: Record<Precision, Uint8Array> = { fp32: weights, int8: int8Weights };

  for (const precision of ['fp32', 'int8'] as const) {
    it(`${precision}: equals the mean, in float, of the model on the 8 transformed images, each transformed back`, async () => {
      const image = testImage();
      const loaded = decodeModel(precision, blobs[precision]);
      const input = rgbaToTensor(image);
      let sum: Float64Array | undefined;
      for (let k = 0; k < 8; k++) {
        const output = forwardModel(loaded, viewThrough(input, k, false));
        const back = viewThrough(new Tensor(output.channels, output.height, output.width, Float32Array.from(output.data)), k, true);
        sum ??= new Float64Array(back.data.length);
        for (let i = 0; i < sum.length; i++) sum[i] += back.data[i];
      }
      const plane = sum!.length / 3;
      const expectedBytes = new Uint8ClampedArray(plane * 4);
      for (let i = 0; i < plane; i++) {
        for (let c = 0; c < 3; c++) expectedBytes[i * 4 + c] = toByte(Math.fround(sum![c * plane + i] / 8));
        expectedBytes[i * 4 + 3] = 255;
      }
      const result = await upscale(image, { precision, weights: blobs[precision], ensemble: true, threads: 1, tileSize: 1000 });
      expect(result.data).toEqual(expectedBytes);
      const plain = await upscale(image, { precision, weights: blobs[precision], threads: 1, tileSize: 1000 });
      expect(plain.data).not.toEqual(result.data); // it does change the picture
    });
  }

  it('is tiled and threaded like the plain path (same bytes for any thread count) and abortable', async () => {
    const image = testImage();
    for (const precision of ['fp32', 'int8'] as const) {
      const one = await upscale(image, { precision, weights: blobs[precision], ensemble: true, threads: 1, tileSize: 16 });
      const two = await upscale(image, { precision, weights: blobs[precision], ensemble: true, threads: 2, tileSize: 16 });
      expect(two.data).toEqual(one.data);
      if (precision === 'int8') {
        // Integer outputs: tiles change nothing at all, so any tile size gives the same bytes.
        const whole = await upscale(image, { precision, weights: blobs[precision], ensemble: true, threads: 1, tileSize: 1000 });
        expect(whole.data).toEqual(one.data);
      }
    }
    const controller = new AbortController();
    const aborted = upscale(image, { weights, ensemble: true, threads: 2, tileSize: 8, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(upscale(image, { weights, ensemble: 'yes' as never })).rejects.toThrow(/ensemble must be true or false, got yes/);
  });
});

describe('createUpscaler()', () => {
  it('loads once, serves many calls (also concurrently), and refuses work after dispose', async () => {
    const upscaler = await createUpscaler({ weights, threads: 2, tileSize: 16 });
    expect([upscaler.precision, upscaler.scale]).toEqual(['fp32', 2]);
    const image = testImage();
    const [a, b] = await Promise.all([upscaler.upscale(image), upscaler.upscale(image)]);
    expect(a.data).toEqual(b.data);
    expect((await upscaler.upscale(new Uint8Array(inputPng))).width).toBe(64);
    await upscaler.dispose();
    await upscaler.dispose(); // twice is fine
    await expect(upscaler.upscale(image)).rejects.toThrow(/disposed/);
  });

  it('leaves no worker or handle behind after dispose', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const upscaler = await createUpscaler({ weights, threads: 3 });
    await upscaler.upscale(testImage());
    await upscaler.dispose();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length).toBe(before);
  });

  it('an abort of one call leaves the upscaler usable', async () => {
    const upscaler = await createUpscaler({ weights, threads: 2, tileSize: 8 });
    const controller = new AbortController();
    const aborted = upscaler.upscale(testImage(), { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    const after = await upscaler.upscale(testImage());
    expect(after.data).toEqual((await upscale(testImage(), { weights, threads: 1 })).data);
    await upscaler.dispose();
  });
});
