import { Tensor } from '../tensor/tensor.js';
import { forwardF32 } from '../msrn/forward-f32.js';
import { MsrnModelF32 } from '../msrn/model-f32.js';
import { toByte } from '../image/pixels.js';
import { forwardInt8 } from './forward-i8.js';
import { int8Graph } from './graph.js';
import { Int8Model } from './int8-model.js';

/**
 * Where int8 loses quality: run both paths on one image and compare every quantization point
 * (the int8 tensor dequantized, against the fp32 tensor at the same place). Errors accumulate
 * along the graph, so a jump in the table points at the layer that costs most.
 */
export interface PointReport {
  /** observed tensor, e.g. 'body.0.cat2' */
  readonly name: string;
  /** the quantization point whose scale it uses */
  readonly point: string;
  readonly scale: number;
  /** 10 log10(sum fp32^2 / sum (fp32 - int8 * scale)^2), in dB; Infinity when equal */
  readonly sqnr: number;
  /** fraction of fp32 values beyond the int8 range (clipped by the calibrated scale) */
  readonly clipped: number;
  /**
   * RMS of the fp32 tensor in quantization steps (rms / scale): how many of the 127 levels the
   * signal really uses. A few steps means rounding alone costs a lot of SQNR (about 6 dB per
   * halving), typically because the tensor shares its scale with a much larger one.
   */
  readonly rmsSteps: number;
}

export interface Int8Report {
  /** PSNR of the int8 output image against the fp32 output image (both 8-bit RGB), dB */
  readonly psnr: number;
  /** largest 8-bit difference between the two output images */
  readonly maxDifference: number;
  readonly points: readonly PointReport[];
  readonly fp32Output: Tensor<Uint8Array>;
  readonly int8Output: Tensor<Uint8Array>;
}

export function compareInt8(fp32: MsrnModelF32, int8: Int8Model, image: Tensor<Float32Array>): Int8Report {
  // The observers see tensors whose memory later layers reuse: keep copies of the fp32 ones.
  const reference = new Map<string, Float32Array>();
  const fp32Out = forwardF32(fp32, image, (name, t) => reference.set(name, t.data.slice()));
  const pointOf = pointNames(int8);
  const points: PointReport[] = [];
  const int8Out = forwardInt8(int8, image, (name, t) => {
    const f = reference.get(name);
    const point = pointOf(name);
    if (!f) return;
    const scale = point === 'output' ? 1 : int8.data.scales[point];
    let signal = 0;
    let noise = 0;
    let clipped = 0;
    const limit = point === 'output' ? 255 : 127 * scale;
    for (let i = 0; i < f.length; i++) {
      const v = f[i];
      signal += v * v;
      noise += (v - t.data[i] * scale) ** 2;
      if (point === 'output' ? v < 0 || v > 255 : Math.abs(v) > limit) clipped++;
    }
    points.push({
      name,
      point,
      scale,
      sqnr: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
      clipped: clipped / f.length,
      rmsSteps: Math.sqrt(signal / f.length) / scale,
    });
  });
  const fp32Bytes = new Tensor(3, fp32Out.height, fp32Out.width, Uint8Array.from(fp32Out.data, toByte));
  let se = 0;
  let maxDifference = 0;
  for (let i = 0; i < int8Out.data.length; i++) {
    const d = int8Out.data[i] - fp32Bytes.data[i];
    se += d * d;
    maxDifference = Math.max(maxDifference, Math.abs(d));
  }
  const psnr = se === 0 ? Infinity : 10 * Math.log10((255 * 255 * int8Out.data.length) / se);
  return { psnr, maxDifference, points, fp32Output: fp32Bytes, int8Output: int8Out };
}

/** Observed name -> quantization point (the head and every block output live at 'features'). */
function pointNames(model: Int8Model): (name: string) => string {
  const known = new Set(int8Graph(model.config).points);
  return (name) => {
    if (name === 'head' || /^body\.\d+$/.test(name)) return 'features';
    if (name === 'output' || known.has(name)) return name;
    throw new Error(`internal: no quantization point for '${name}'`);
  };
}
