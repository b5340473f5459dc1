import { Tensor } from '../tensor/tensor.js';

/** 8-bit RGBA, row-major, interleaved: the shape of the browser's ImageData. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, RGBA. */
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** RGBA u8 (row-major, interleaved) -> f32 CHW (3, H, W) with values 0..255: the model's input. */
export function rgbaToTensor(image: RgbaImage): Tensor<Float32Array> {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 4) {
    out[i] = data[p];
    out[i + plane] = data[p + 1];
    out[i + 2 * plane] = data[p + 2];
  }
  return new Tensor(3, height, width, out);
}

/** One channel of an RGBA image as f32 (1, H, W): used for alpha. */
export function rgbaChannel(image: RgbaImage, channel: 0 | 1 | 2 | 3): Tensor<Float32Array> {
  const plane = image.width * image.height;
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) out[i] = image.data[i * 4 + channel];
  return new Tensor(1, image.height, image.width, out);
}

/** Clamp to 0..255 and round half up: how every float image becomes 8 bits in msrn-ts. */
export function toByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/**
 * CHW (3, H, W), float or already 8-bit -> RGBA u8, rounding with toByte. `alpha` (1, H, W) gives the alpha channel;
 * without it the image is opaque.
 */
export function tensorToRgba(rgb: Tensor<Float32Array> | Tensor<Uint8Array>, alpha?: Tensor<Float32Array>): { width: number; height: number; data: Uint8ClampedArray } {
  if (rgb.channels !== 3) throw new RangeError(`expected 3 channels, got ${rgb.channels}`);
  const { width, height } = rgb;
  if (alpha && (alpha.width !== width || alpha.height !== height)) {
    throw new RangeError(`alpha is ${alpha.width}x${alpha.height}, image is ${width}x${height}`);
  }
  const plane = width * height;
  const src = rgb.data;
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0, p = 0; i < plane; i++, p += 4) {
    out[p] = toByte(src[i]);
    out[p + 1] = toByte(src[i + plane]);
    out[p + 2] = toByte(src[i + 2 * plane]);
    out[p + 3] = alpha ? toByte(alpha.data[i]) : 255;
  }
  return { width, height, data: out };
}
