import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaImage } from './pixels.js';

/**
 * PNG and JPEG in and out (pngjs, jpeg-js: pure JavaScript). Everything is RGBA, 8 bits per
 * channel, row-major, like the browser's ImageData, so the result drops into a canvas. Grey,
 * palette and 16-bit PNGs are expanded to 8-bit RGBA by pngjs; grey JPEGs come out with R = G = B.
 *
 * The format is told by content (magic bytes), never by file name. Dimensions are read from the
 * header and checked against `maxPixels` before any pixel buffer is allocated, so a small file
 * that claims a huge image (a decompression bomb) is refused cheaply.
 */
export type { RgbaImage };

export type ImageFormat = 'png' | 'jpeg';

export const DEFAULT_MAX_PIXELS = 50_000_000;

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Width and height from the PNG IHDR or the JPEG SOF marker, without decoding. */
export function readDimensions(bytes: Uint8Array): { format: ImageFormat; width: number; height: number } {
  const format = sniffFormat(bytes);
  if (bytes.length === 0) throw new ImageDecodeError('empty input: 0 bytes, not an image');
  if (!format) throw new ImageDecodeError('not a PNG or JPEG image (unrecognised leading bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'png') {
    // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
      throw new ImageDecodeError('truncated or corrupt PNG: no IHDR header');
    }
    return { format, width: view.getUint32(16), height: view.getUint32(20) };
  }
  // JPEG: walk the marker segments up to the first start-of-frame.
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw new ImageDecodeError(`corrupt JPEG: no marker at byte ${offset}`);
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    const length = view.getUint16(offset + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) {
      if (offset + 9 > bytes.length) break;
      return { format, height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    }
    offset += 2 + length;
  }
  throw new ImageDecodeError('truncated or corrupt JPEG: no frame header (SOF) found');
}

export function decodeImage(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): RgbaImage {
  const { format, width, height } = readDimensions(bytes);
  if (width < 1 || height < 1) throw new ImageDecodeError(`the ${format.toUpperCase()} header claims a ${width}x${height} image`);
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      `image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP), over the limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
    );
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(buffer);
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    const decoded = jpeg.decode(buffer, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: Math.ceil(maxPixels / 1e6),
      maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 12) / 2 ** 20)),
    });
    return { width: decoded.width, height: decoded.height, data: decoded.data };
  } catch (error) {
    throw new ImageDecodeError(`cannot decode ${format.toUpperCase()}: ${(error as Error).message} (truncated or corrupt file?)`);
  }
}

export function encodePng(image: RgbaImage): Uint8Array {
  checkImage(image);
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const out = PNG.sync.write(png, { colorType: hasTransparency(image) ? 6 : 2 });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** JPEG has no alpha: transparent pixels are written as their RGB values. */
export function encodeJpeg(image: RgbaImage, quality = 92): Uint8Array {
  checkImage(image);
  if (!(quality >= 1 && quality <= 100)) throw new RangeError(`JPEG quality must be 1..100, got ${quality}`);
  const out = jpeg.encode({ width: image.width, height: image.height, data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength) }, quality);
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
}

export function encodeImage(image: RgbaImage, format: ImageFormat, quality?: number): Uint8Array {
  return format === 'png' ? encodePng(image) : encodeJpeg(image, quality);
}

export function hasTransparency(image: RgbaImage): boolean {
  for (let i = 3; i < image.data.length; i += 4) if (image.data[i] !== 255) return true;
  return false;
}

function checkImage(image: RgbaImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`RGBA data for ${width}x${height} needs ${width * height * 4} bytes, got ${data.length}`);
  }
}
