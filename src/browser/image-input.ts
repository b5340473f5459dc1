import { ImageDecodeError, readImageHeader, sniffFormat } from '../image/header.js';
import { RgbaImage } from '../image/pixels.js';
import { PixelInput, isPixelInput, pixelsToRgba } from '../upscaler/upscaler.js';

/**
 * What the browser's upscale() takes, turned into RGBA pixels with the browser's own decoders:
 * ImageData or { data, width, height } pixels as they are; encoded bytes (a Blob or File, an
 * ArrayBuffer or Uint8Array) through createImageBitmap; anything drawable (ImageBitmap, <img>,
 * <canvas>, OffscreenCanvas, <video>, VideoFrame) through a 2D canvas.
 *
 * Encoded bytes are decoded with colorSpaceConversion 'none', so the pixels are the file's own
 * values, as Node's pngjs / jpeg-js give them (an opaque PNG decodes to the same bytes). A canvas
 * stores premultiplied alpha, so the RGB of translucent pixels can differ by a few levels from
 * Node's decode. PNG and JPEG headers are checked against maxPixels before decoding; other formats
 * the browser decodes (WebP, AVIF, GIF...) are checked once decoded.
 */
export type BrowserImageInput = PixelInput | ImageData | Blob | ArrayBuffer | Uint8Array | CanvasImageSource;

export async function browserInputToRgba(input: BrowserImageInput, maxPixels: number): Promise<RgbaImage> {
  if (isPixelInput(input)) return pixelsToRgba(input, maxPixels);
  if (input instanceof ArrayBuffer) return decodeBytes(new Uint8Array(input), maxPixels);
  if (input instanceof Uint8Array) return decodeBytes(input, maxPixels);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return decodeBytes(new Uint8Array(await input.arrayBuffer()), maxPixels);
  if (isDrawable(input)) {
    if (typeof HTMLImageElement !== 'undefined' && input instanceof HTMLImageElement) {
      await input.decode().catch(() => {
        throw new ImageDecodeError(`the <img> could not be decoded (src ${JSON.stringify(input.currentSrc || input.src)}): not an image, or it failed to load`);
      });
    }
    return drawToRgba(input, maxPixels);
  }
  throw new TypeError(
    'upscale input must be ImageData or { data, width, height } pixels, a Blob or File, PNG/JPEG bytes (Uint8Array or ArrayBuffer), ' +
      'an ImageBitmap, or an <img>, <canvas> or <video> element',
  );
}

async function decodeBytes(bytes: Uint8Array, maxPixels: number): Promise<RgbaImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty input: 0 bytes, not an image');
  const format = sniffFormat(bytes);
  if (format) readImageHeader(bytes, maxPixels); // refuses a truncated header or a huge claim before decoding
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new ImageDecodeError(
      format
        ? `cannot decode ${format.toUpperCase()}: the browser's decoder refused it (truncated or corrupt file?)`
        : 'not an image this browser can decode (unrecognised leading bytes, or a corrupt file)',
    );
  }
  try {
    return drawToRgba(bitmap, maxPixels);
  } finally {
    bitmap.close();
  }
}

function isDrawable(input: unknown): input is CanvasImageSource {
  const kinds = ['ImageBitmap', 'HTMLImageElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'HTMLVideoElement', 'SVGImageElement', 'VideoFrame'];
  return kinds.some((name) => {
    const kind = (globalThis as Record<string, unknown>)[name];
    return typeof kind === 'function' && input instanceof kind;
  });
}

function sizeOf(source: CanvasImageSource): { width: number; height: number } {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return { width: source.naturalWidth, height: source.naturalHeight };
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) return { width: source.videoWidth, height: source.videoHeight };
  if (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame) return { width: source.displayWidth, height: source.displayHeight };
  const { width, height } = source as { width: number | SVGAnimatedLength; height: number | SVGAnimatedLength };
  const value = (v: number | SVGAnimatedLength) => (typeof v === 'number' ? v : v.baseVal.value);
  return { width: Math.round(value(width)), height: Math.round(value(height)) };
}

function drawToRgba(source: CanvasImageSource, maxPixels: number): RgbaImage {
  const { width, height } = sizeOf(source);
  if (!(width >= 1 && height >= 1)) throw new ImageDecodeError(`the image source is ${width}x${height}: nothing loaded to upscale`);
  if (width * height > maxPixels) throw new RangeError(`image is ${width}x${height}, over the limit of ${maxPixels} pixels`);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser gives no 2D context on an OffscreenCanvas, which reading image pixels needs');
  context.drawImage(source, 0, 0);
  try {
    return { width, height, data: context.getImageData(0, 0, width, height).data };
  } catch (error) {
    if ((error as Error).name === 'SecurityError') {
      throw new Error(
        'the image comes from another origin without CORS, so the browser does not let its pixels be read: ' +
          'serve it with Access-Control-Allow-Origin and set crossorigin on the <img>, or pass the file itself',
      );
    }
    throw error;
  }
}
