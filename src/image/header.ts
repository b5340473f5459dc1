import type { RgbaImage } from './pixels.js';

/**
 * What can be told about an encoded image without decoding it, and without any Node API (the
 * browser edge checks headers with it too): the format from the magic bytes, and the size from
 * the PNG IHDR or JPEG SOF header, so that a small file claiming a huge image (a decompression
 * bomb) is refused before a pixel buffer is allocated.
 */
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

/**
 * The format and size of an encoded PNG or JPEG, refused with an ImageDecodeError when the
 * header is missing or claims no pixels or more than `maxPixels`: what every decoder here checks
 * before it allocates anything.
 */
export function readImageHeader(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): { format: ImageFormat; width: number; height: number } {
  const header = readDimensions(bytes);
  const { format, width, height } = header;
  if (width < 1 || height < 1) throw new ImageDecodeError(`the ${format.toUpperCase()} header claims a ${width}x${height} image`);
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      `image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP), over the limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
    );
  }
  return header;
}

export function hasTransparency(image: RgbaImage): boolean {
  for (let i = 3; i < image.data.length; i += 4) if (image.data[i] !== 255) return true;
  return false;
}
