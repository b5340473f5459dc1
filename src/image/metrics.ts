import { Tensor } from '../tensor/tensor.js';

/**
 * Image quality metrics as SR papers compute them (and as the MATLAB scripts behind the published
 * tables do): on the BT.601 luma of 8-bit RGB, a border of `scale` pixels shaved, PSNR in float64
 * against a peak of 255, SSIM as Wang et al. 2004. No Node APIs: usable in a browser.
 */

/** A single-channel float64 image. */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float64Array;
}

/**
 * How 8-bit RGB becomes the luma that is scored; both are BT.601,
 * Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in 0..255, and differ in rounding:
 * - 'float' (the default): MSRN's own scorer (MIVRC/MSRN-PyTorch, Test/Evaluate_PSNR_SSIM.m),
 *   `single(rgb2ycbcr(im2double(im))) * 255`: Y computed in double on 0..1, rounded to single
 *   precision, times 255 in single precision. Not rounded to 8 bits.
 * - 'u8': MATLAB's rgb2ycbcr on the uint8 image, Y rounded to an integer (the SRCNN-era
 *   scripts); reads 0.03-0.05 dB lower than 'float' on typical SR results.
 */
export type YConvention = 'float' | 'u8';
export const Y_CONVENTIONS: readonly YConvention[] = ['float', 'u8'];

// rgb2ycbcr's coefficients for double input (its T and offset scaled by 1/255), as MATLAB forms them.
const Y_R = 65.481 / 255;
const Y_G = 128.553 / 255;
const Y_B = 24.966 / 255;
const Y_OFFSET = 16 / 255;

export function rgbToY(rgb: Tensor<Float32Array> | Tensor<Uint8Array>, convention: YConvention = 'float'): Plane {
  if (rgb.channels !== 3) throw new RangeError(`rgbToY needs 3 channels, got ${rgb.channels}`);
  if (!Y_CONVENTIONS.includes(convention)) throw new RangeError(`unknown Y convention ${JSON.stringify(convention)}; expected float or u8`);
  const plane = rgb.planeSize;
  const out = new Float64Array(plane);
  const { data } = rgb;
  if (convention === 'u8') {
    for (let i = 0; i < plane; i++) {
      out[i] = Math.round(16 + (65.481 * data[i] + 128.553 * data[i + plane] + 24.966 * data[i + 2 * plane]) / 255);
    }
  } else {
    for (let i = 0; i < plane; i++) {
      // imlincomb in double on im2double values, then single(), then * 255 in single precision.
      const y01 = Y_R * (data[i] / 255) + Y_G * (data[i + plane] / 255) + Y_B * (data[i + 2 * plane] / 255) + Y_OFFSET;
      out[i] = Math.fround(Math.fround(y01) * 255);
    }
  }
  return { width: rgb.width, height: rgb.height, data: out };
}

/** Every channel of a CHW tensor as a plane (for RGB metrics). */
export function channelPlanes(t: Tensor<Float32Array> | Tensor<Uint8Array>): Plane[] {
  return Array.from({ length: t.channels }, (_, c) => ({
    width: t.width,
    height: t.height,
    data: Float64Array.from(t.data.subarray(c * t.planeSize, (c + 1) * t.planeSize)),
  }));
}

/** Drop `border` pixels on every side. */
export function shave(p: Plane, border: number): Plane {
  if (border === 0) return p;
  const width = p.width - 2 * border;
  const height = p.height - 2 * border;
  if (width < 1 || height < 1) throw new RangeError(`cannot shave ${border} px from a ${p.width}x${p.height} image`);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    out.set(p.data.subarray((y + border) * p.width + border, (y + border) * p.width + border + width), y * width);
  }
  return { width, height, data: out };
}

function checkPair(a: Plane, b: Plane, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`${what}: images differ in size, ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

/** Mean squared error over one or more planes (all pixels of all planes weigh the same). */
export function mse(a: Plane[], b: Plane[]): number {
  let sum = 0;
  let count = 0;
  a.forEach((pa, k) => {
    checkPair(pa, b[k], 'mse');
    for (let i = 0; i < pa.data.length; i++) sum += (pa.data[i] - b[k].data[i]) ** 2;
    count += pa.data.length;
  });
  return sum / count;
}

/** PSNR in dB against `peak` (255); Infinity for identical images. */
export function psnr(a: Plane | Plane[], b: Plane | Plane[], peak = 255): number {
  const e = mse(Array.isArray(a) ? a : [a], Array.isArray(b) ? b : [b]);
  return e === 0 ? Infinity : 10 * Math.log10((peak * peak) / e);
}

const SSIM_WINDOW = (() => {
  // fspecial('gaussian', 11, 1.5), separable: the 2-D window is the outer product of this.
  const w = new Float64Array(11);
  let sum = 0;
  for (let i = 0; i < 11; i++) {
    w[i] = Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5));
    sum += w[i];
  }
  for (let i = 0; i < 11; i++) w[i] /= sum;
  return w;
})();

/** Gaussian-weighted 'valid' filtering (MATLAB filter2(window, x, 'valid')), separable. */
function filterValid(data: Float64Array, width: number, height: number): Float64Array {
  const ow = width - 10;
  const oh = height - 10;
  const rows = new Float64Array(ow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += SSIM_WINDOW[k] * data[y * width + x + k];
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += SSIM_WINDOW[k] * rows[(y + k) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * Mean SSIM (Wang, Bovik, Sheikh, Simoncelli 2004; their ssim_index.m): 11x11 Gaussian window,
 * sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range 255, over the 'valid' region.
 */
export function ssim(a: Plane, b: Plane, peak = 255): number {
  checkPair(a, b, 'ssim');
  const { width, height } = a;
  if (width < 11 || height < 11) throw new RangeError(`SSIM needs at least 11x11 pixels, got ${width}x${height}`);
  const c1 = (0.01 * peak) ** 2;
  const c2 = (0.03 * peak) ** 2;
  const n = a.data.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a.data[i] * a.data[i];
    bb[i] = b.data[i] * b.data[i];
    ab[i] = a.data[i] * b.data[i];
  }
  const mu1 = filterValid(a.data, width, height);
  const mu2 = filterValid(b.data, width, height);
  const s11 = filterValid(aa, width, height);
  const s22 = filterValid(bb, width, height);
  const s12 = filterValid(ab, width, height);
  let total = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i];
    const m2 = mu2[i];
    const sigma1 = s11[i] - m1 * m1;
    const sigma2 = s22[i] - m2 * m2;
    const sigma12 = s12[i] - m1 * m2;
    total += ((2 * m1 * m2 + c1) * (2 * sigma12 + c2)) / ((m1 * m1 + m2 * m2 + c1) * (sigma1 + sigma2 + c2));
  }
  return total / mu1.length;
}

/** The standard SR score of a result against its ground truth: Y-PSNR and Y-SSIM, border shaved. */
export function srMetrics(
  reference: Tensor<Float32Array> | Tensor<Uint8Array>,
  test: Tensor<Float32Array> | Tensor<Uint8Array>,
  border: number,
  convention: YConvention = 'float',
): { psnr: number; ssim: number } {
  const ya = shave(rgbToY(reference, convention), border);
  const yb = shave(rgbToY(test, convention), border);
  return { psnr: psnr(ya, yb), ssim: ssim(ya, yb) };
}
