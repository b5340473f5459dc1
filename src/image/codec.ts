import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaImage } from './pixels.js';
import { encodePngFast } from './png-encode.js';
import { DEFAULT_MAX_PIXELS, ImageDecodeError, ImageFormat, hasTransparency, readImageHeader } from './header.js';

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
export { DEFAULT_MAX_PIXELS, ImageDecodeError, hasTransparency, readDimensions, readImageHeader, sniffFormat } from './header.js';
export type { ImageFormat } from './header.js';

export function decodeImage(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): RgbaImage {
  const { format } = readImageHeader(bytes, maxPixels);
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
  return encodePngFast(image, hasTransparency(image));
}

/** pngjs's writer (adaptive filters, level 9 Z_RLE): the reference the tests hold encodePng to. */
export function encodePngReference(image: RgbaImage): Uint8Array {
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

function checkImage(image: RgbaImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`RGBA data for ${width}x${height} needs ${width * height * 4} bytes, got ${data.length}`);
  }
}
