import { UpscaledImage } from '../upscaler/tiled-upscale.js';

/**
 * An upscaled image as an encoded file (PNG by default, or 'image/jpeg' / 'image/webp' with a
 * quality 0..1), with the browser's own encoder, for a download link or an upload. Opaque images
 * encode to PNG losslessly; a canvas stores premultiplied alpha, so translucent pixels may shift
 * by a level.
 */
export async function encodeImageBlob(image: UpscaledImage | ImageData, type = 'image/png', quality?: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(image.width, image.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser gives no 2D context on an OffscreenCanvas, which encoding an image needs');
  context.putImageData(image instanceof ImageData ? image : new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
  return canvas.convertToBlob({ type, quality });
}
