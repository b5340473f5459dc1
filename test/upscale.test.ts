import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodePng } from '../src/image/codec.js';
import { upscale } from '../src/upscale.js';
import { FIXTURES } from './helpers/fixtures.js';
import { join } from 'node:path';

const weightsPath = join(FIXTURES, 'e2e', 'model.bin');
const weights = readFileSync(weightsPath);
const inputPng = readFileSync(join(FIXTURES, 'e2e', 'input.png'));
const expected = decodeImage(readFileSync(join(FIXTURES, 'e2e', 'expected.png')));

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
    // The RGB of the same pixels is unaffected by alpha.
    const opaque = await upscale(new Uint8Array(inputPng), { weights });
    expect(out.data[0]).toBe(opaque.data[0]);
  });

  it('rejects bad input with messages that say what is wrong', async () => {
    await expect(upscale({ data: new Uint8Array(10), width: 4, height: 4 }, { weights })).rejects.toThrow(
      /pixel buffer has 10 bytes, 4x4x4 needs 64/,
    );
    await expect(upscale({ data: new Uint8Array(64), width: 0, height: 4 }, { weights })).rejects.toThrow(/positive integers/);
    await expect(upscale(new Uint8Array(inputPng), { weights, precision: 'fp16' as never })).rejects.toThrow(
      /unknown precision "fp16"/,
    );
    await expect(upscale(new Uint8Array([1, 2, 3]), { weights })).rejects.toThrow(/not a PNG or JPEG/);
    await expect(upscale(42 as never, { weights })).rejects.toThrow(/must be a file path, PNG\/JPEG bytes/);
    await expect(upscale(new Uint8Array(inputPng), { weights: inputPng })).rejects.toThrow(/wrong magic bytes/);
    await expect(upscale('/nonexistent/x.png', { weights })).rejects.toThrow(/cannot read \/nonexistent\/x.png: no such file/);
  });

  it('handles a 1x1 image', async () => {
    const out = await upscale({ data: new Uint8Array([10, 200, 30, 255]), width: 1, height: 1 }, { weights });
    expect([out.width, out.height, out.data.length]).toEqual([2, 2, 16]);
  });
});
