import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeJpeg, encodePng, readDimensions, sniffFormat } from '../../src/image/codec.js';
import { rgbaToTensor, tensorToRgba, toByte } from '../../src/image/pixels.js';
import { rng } from '../helpers/random.js';

function randomImage(width: number, height: number, seed: number, alpha = false) {
  const random = rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 && !alpha ? 255 : Math.floor(random() * 256);
  return { width, height, data };
}

describe('PNG and JPEG', () => {
  it('round-trips PNG exactly, with and without alpha', () => {
    for (const alpha of [false, true]) {
      const image = randomImage(7, 5, 1, alpha);
      const decoded = decodeImage(encodePng(image));
      expect([decoded.width, decoded.height]).toEqual([7, 5]);
      expect(Array.from(decoded.data)).toEqual(Array.from(image.data));
    }
  });

  it('round-trips JPEG closely (lossy) on a smooth image', () => {
    const width = 32;
    const height = 24;
    const data = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data.set([x * 8, y * 10, 128, 255], (y * width + x) * 4);
    }
    const decoded = decodeImage(encodeJpeg({ width, height, data }, 95));
    let worst = 0;
    for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(decoded.data[i] - data[i]));
    expect(worst).toBeLessThan(12);
  });

  it('expands a grey PNG to three equal channels', () => {
    const png = new PNG({ width: 3, height: 2, colorType: 0, inputColorType: 0, inputHasAlpha: false });
    png.data = Buffer.from([0, 50, 100, 150, 200, 250]);
    const bytes = PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
    const decoded = decodeImage(bytes);
    expect(Array.from(decoded.data.subarray(4, 8))).toEqual([50, 50, 50, 255]);
    expect(Array.from(decoded.data.subarray(20, 24))).toEqual([250, 250, 250, 255]);
  });

  it('tells formats by content, not by name', () => {
    expect(sniffFormat(encodePng(randomImage(2, 2, 3)))).toBe('png');
    expect(sniffFormat(encodeJpeg(randomImage(2, 2, 3)))).toBe('jpeg');
    expect(sniffFormat(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(readDimensions(encodeJpeg(randomImage(9, 4, 3)))).toEqual({ format: 'jpeg', width: 9, height: 4 });
  });

  it('rejects empty, foreign, truncated and bomb inputs with clear messages', () => {
    const png = encodePng(randomImage(16, 16, 4));
    const jpg = encodeJpeg(randomImage(16, 16, 4));
    expect(() => decodeImage(new Uint8Array(0))).toThrow(/empty input/);
    expect(() => decodeImage(new TextEncoder().encode('hello world'))).toThrow(/not a PNG or JPEG/);
    expect(() => decodeImage(png.subarray(0, 20))).toThrow(/truncated or corrupt PNG/);
    expect(() => decodeImage(png.subarray(0, png.length - 30))).toThrow(/cannot decode PNG/);
    expect(() => decodeImage(jpg.subarray(0, 10))).toThrow(/truncated or corrupt JPEG/);
    // A PNG header claiming 100000 x 100000: refused from the header, nothing allocated.
    const bomb = png.slice(0, 33);
    new DataView(bomb.buffer).setUint32(16, 100_000);
    new DataView(bomb.buffer).setUint32(20, 100_000);
    expect(() => decodeImage(bomb)).toThrow(/100000x100000 \(10000.0 MP\), over the limit of 50.0 MP/);
    expect(() => decodeImage(png, 100)).toThrow(/over the limit/);
    const empty = png.slice();
    new DataView(empty.buffer).setUint32(16, 0);
    new DataView(empty.buffer).setUint32(20, 0);
    expect(() => decodeImage(empty)).toThrow(/the PNG header claims a 0x0 image/);
    // The same for a JPEG whose frame header claims 60000 x 60000.
    const jpegBomb = jpg.slice();
    const sof = jpegBomb.findIndex((b, i) => b === 0xff && jpegBomb[i + 1] === 0xc0);
    new DataView(jpegBomb.buffer).setUint16(sof + 5, 60000);
    new DataView(jpegBomb.buffer).setUint16(sof + 7, 60000);
    expect(() => decodeImage(jpegBomb)).toThrow(/60000x60000 \(3600.0 MP\), over the limit/);
  });
});

describe('pixels', () => {
  it('RGBA <-> CHW float round trip, rounding half up and clamping', () => {
    const image = randomImage(5, 3, 9);
    const t = rgbaToTensor(image);
    expect(t.shape).toEqual([3, 3, 5]);
    expect(t.data[5 * 3 + 1]).toBe(image.data[1 * 4 + 1]); // G of pixel 1
    expect(Array.from(tensorToRgba(t).data)).toEqual(Array.from(image.data));
    expect([toByte(-3), toByte(0.49), toByte(0.5), toByte(254.5), toByte(300)]).toEqual([0, 0, 1, 255, 255]);
  });
});
