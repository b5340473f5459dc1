import { Tensor } from '../tensor/tensor.js';
import { toByte } from './pixels.js';

/**
 * MATLAB's imresize(..., 'bicubic'), the resize that SR papers use to make LR images:
 * - cubic kernel with a = -0.5 (Keys), support 4;
 * - when shrinking, the kernel is stretched by 1/scale (antialiasing);
 * - edges are mirrored (symmetric padding, the edge pixel repeated);
 * - output size ceil(scale * input size);
 * - the two 1-D passes run in order of increasing scale, height first when equal;
 * - with `roundTo8Bit` (what MATLAB does for uint8 images) every pass rounds and clamps to 0..255.
 * This file follows imresize.m's contributions() step by step, in float64, so the weights agree.
 */
export interface ResizePlan {
  readonly outLength: number;
  readonly taps: number;
  /** outLength x taps, each row sums to 1 */
  readonly weights: Float64Array;
  /** outLength x taps, 0-based source indices, already mirrored into range */
  readonly indices: Int32Array;
}

export function cubic(x: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
  if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
  return 0;
}

export function contributions(inLength: number, outLength: number, scale: number, antialias = true): ResizePlan {
  const shrinkKernel = scale < 1 && antialias;
  const kernelWidth = shrinkKernel ? 4 / scale : 4;
  const taps = Math.ceil(kernelWidth) + 2;
  const weights = new Float64Array(outLength * taps);
  const indices = new Int32Array(outLength * taps);
  for (let i = 0; i < outLength; i++) {
    const x = i + 1; // MATLAB is 1-based
    const u = x / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - kernelWidth / 2);
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const index = left + j;
      const d = u - index;
      const w = shrinkKernel ? scale * cubic(scale * d) : cubic(d);
      weights[i * taps + j] = w;
      sum += w;
      // Mirror: aux = [1..n, n..1], index taken modulo 2n.
      const period = 2 * inLength;
      const m = (((index - 1) % period) + period) % period;
      indices[i * taps + j] = m < inLength ? m : period - 1 - m;
    }
    for (let j = 0; j < taps; j++) weights[i * taps + j] /= sum;
  }
  return { outLength, taps, weights, indices };
}

export interface ResizeOptions {
  /** Round and clamp to 0..255 after each pass, as MATLAB does for uint8 images. Default true. */
  readonly roundTo8Bit?: boolean;
  /** Exact output size; the scale per axis becomes out / in, as in imresize(img, [h w]). */
  readonly outHeight?: number;
  readonly outWidth?: number;
}

/** Resize every channel of a CHW tensor by `scale` with MATLAB's bicubic. */
export function imresizeBicubic(input: Tensor<Float32Array>, scale: number, options: ResizeOptions = {}): Tensor<Float32Array> {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`resize scale must be a positive number, got ${scale}`);
  const outHeight = options.outHeight ?? Math.ceil(scale * input.height);
  const outWidth = options.outWidth ?? Math.ceil(scale * input.width);
  if (!Number.isInteger(outHeight) || !Number.isInteger(outWidth) || outHeight < 1 || outWidth < 1) {
    throw new RangeError(`resize output would be ${outHeight}x${outWidth}`);
  }
  const scaleY = options.outHeight === undefined ? scale : outHeight / input.height;
  const scaleX = options.outWidth === undefined ? scale : outWidth / input.width;
  const round = options.roundTo8Bit ?? true;
  const rows = contributions(input.height, outHeight, scaleY);
  const cols = contributions(input.width, outWidth, scaleX);
  if (scaleX < scaleY) return resizeAlongHeight(resizeAlongWidth(input, cols, round), rows, round);
  return resizeAlongWidth(resizeAlongHeight(input, rows, round), cols, round);
}

function resizeAlongHeight(input: Tensor<Float32Array>, plan: ResizePlan, round: boolean): Tensor<Float32Array> {
  const { channels, height, width } = input;
  const outHeight = plan.outLength;
  const out = new Float32Array(channels * outHeight * width);
  const acc = new Float64Array(width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < outHeight; y++) {
      acc.fill(0);
      for (let j = 0; j < plan.taps; j++) {
        const w = plan.weights[y * plan.taps + j];
        if (w === 0) continue;
        const row = (c * height + plan.indices[y * plan.taps + j]) * width;
        for (let x = 0; x < width; x++) acc[x] += w * input.data[row + x];
      }
      const o = (c * outHeight + y) * width;
      for (let x = 0; x < width; x++) out[o + x] = round ? toByte(acc[x]) : acc[x];
    }
  }
  return new Tensor(channels, outHeight, width, out);
}

function resizeAlongWidth(input: Tensor<Float32Array>, plan: ResizePlan, round: boolean): Tensor<Float32Array> {
  const { channels, height, width } = input;
  const outWidth = plan.outLength;
  const out = new Float32Array(channels * height * outWidth);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = (c * height + y) * width;
      const o = (c * height + y) * outWidth;
      for (let x = 0; x < outWidth; x++) {
        let sum = 0;
        for (let j = 0; j < plan.taps; j++) {
          const w = plan.weights[x * plan.taps + j];
          if (w !== 0) sum += w * input.data[row + plan.indices[x * plan.taps + j]];
        }
        out[o + x] = round ? toByte(sum) : sum;
      }
    }
  }
  return new Tensor(channels, height, outWidth, out);
}

/**
 * OpenCV's cv2.resize(..., INTER_LINEAR) geometry: half-pixel centres, source coordinate
 * (x + 0.5) * in / out - 0.5 clamped to the image, no antialiasing. The model card's pipeline
 * resized with it. Computed in float64 and rounded to 8 bits once (OpenCV uses 11-bit fixed-point
 * weights, so a few values can differ by 1).
 */
export function resizeBilinear(input: Tensor<Float32Array>, outHeight: number, outWidth: number): Tensor<Float32Array> {
  if (!Number.isInteger(outHeight) || !Number.isInteger(outWidth) || outHeight < 1 || outWidth < 1) {
    throw new RangeError(`resize output would be ${outHeight}x${outWidth}`);
  }
  const { channels, height, width } = input;
  const axis = (inLength: number, outLength: number) => {
    const lower = new Int32Array(outLength);
    const frac = new Float64Array(outLength);
    for (let i = 0; i < outLength; i++) {
      let s = ((i + 0.5) * inLength) / outLength - 0.5;
      if (s < 0) s = 0;
      const l = Math.min(Math.floor(s), inLength - 1);
      lower[i] = l;
      frac[i] = l + 1 < inLength ? s - l : 0;
    }
    return { lower, frac };
  };
  const ys = axis(height, outHeight);
  const xs = axis(width, outWidth);
  const out = new Float32Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++) {
    const plane = c * height * width;
    for (let y = 0; y < outHeight; y++) {
      const y0 = ys.lower[y];
      const y1 = Math.min(y0 + 1, height - 1);
      const fy = ys.frac[y];
      for (let x = 0; x < outWidth; x++) {
        const x0 = xs.lower[x];
        const x1 = Math.min(x0 + 1, width - 1);
        const fx = xs.frac[x];
        const top = input.data[plane + y0 * width + x0] * (1 - fx) + input.data[plane + y0 * width + x1] * fx;
        const bottom = input.data[plane + y1 * width + x0] * (1 - fx) + input.data[plane + y1 * width + x1] * fx;
        out[(c * outHeight + y) * outWidth + x] = toByte(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return new Tensor(channels, outHeight, outWidth, out);
}
