import { Tensor } from '../tensor/tensor.js';
import { receptiveFieldRadius } from '../msrn/config.js';
import { forwardF32 } from '../msrn/forward-f32.js';
import { forEachCoreRow, pasteTile, planTiles, tileCore, tileInput } from '../msrn/tiling.js';
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

/**
 * Runs both paths tile by tile (bit-exact, so the statistics are the whole image's) to keep
 * memory bounded on large images: the fp32 intermediates of one tile are kept for comparison.
 */
export function compareInt8(fp32: MsrnModelF32, int8: Int8Model, image: Tensor<Float32Array>, tileSize = 256): Int8Report {
  const { config } = int8;
  const scale = config.scale;
  const pointOf = pointNames(int8);
  const sums = new Map<string, { point: string; scale: number; signal: number; noise: number; clipped: number; count: number }>();
  const fp32Output = new Tensor(3, image.height * scale, image.width * scale, new Uint8Array(3 * image.height * scale * image.width * scale));
  const int8Output = new Tensor(3, fp32Output.height, fp32Output.width, new Uint8Array(fp32Output.data.length));
  for (const tile of planTiles(image.height, image.width, tileSize, receptiveFieldRadius(config))) {
    const input = tileInput(image, tile);
    // The observers see tensors whose memory later layers reuse: keep copies of the fp32 ones.
    const reference = new Map<string, Float32Array>();
    const f = forwardF32(fp32, input, (name, t) => reference.set(name, t.data.slice()));
    const q = forwardInt8(int8, input, (name, t) => {
      const values = reference.get(name);
      if (!values) return;
      const point = pointOf(name);
      const s = point === 'output' ? 1 : int8.data.scales[point];
      const limit = point === 'output' ? 255 : 127 * s;
      const sum = sums.get(name) ?? { point, scale: s, signal: 0, noise: 0, clipped: 0, count: 0 };
      forEachCoreRow(t, tile, (begin, end) => {
        for (let i = begin; i < end; i++) {
          const v = values[i];
          sum.signal += v * v;
          sum.noise += (v - t.data[i] * s) ** 2;
          if (point === 'output' ? v < 0 || v > 255 : Math.abs(v) > limit) sum.clipped++;
        }
        sum.count += end - begin;
      });
      sums.set(name, sum);
    });
    const fCore = tileCore(f, tile, scale);
    pasteTile(fp32Output, new Tensor(3, fCore.height, fCore.width, Uint8Array.from(fCore.data, toByte)), tile, scale);
    pasteTile(int8Output, tileCore(q, tile, scale), tile, scale);
  }
  const points: PointReport[] = [...sums].map(([name, s]) => ({
    name,
    point: s.point,
    scale: s.scale,
    sqnr: s.noise === 0 ? Infinity : 10 * Math.log10(s.signal / s.noise),
    clipped: s.clipped / s.count,
    rmsSteps: Math.sqrt(s.signal / s.count) / s.scale,
  }));
  let se = 0;
  let maxDifference = 0;
  for (let i = 0; i < int8Output.data.length; i++) {
    const d = int8Output.data[i] - fp32Output.data[i];
    se += d * d;
    maxDifference = Math.max(maxDifference, Math.abs(d));
  }
  const psnr = se === 0 ? Infinity : 10 * Math.log10((255 * 255 * int8Output.data.length) / se);
  return { psnr, maxDifference, points, fp32Output, int8Output };
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
