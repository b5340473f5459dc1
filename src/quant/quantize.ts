import { ContainerTensor } from '../msrn/container.js';
import { MsrnConfig } from '../msrn/config.js';
import { WeightBlob } from '../msrn/weights-blob.js';
import { ADD_LEFT_SHIFT, IMAGE_POINT, OUTPUT_POINT, int8Graph } from './graph.js';
import { INT32_MAX, INT32_MIN, quantizeMultiplier, roundHalfAway } from './requantize.js';

/**
 * From fp32 weights and calibration maxima to the integer model: docs/INT8.md section 3.
 * All float math is float64 in the order the spec writes it, so tools/int8_reference.py can
 * recompute every integer and compare.
 */
export interface CalibrationStats {
  /** 'max' (the model card's recipe, the default) or 'percentile' (ranges that clip outliers) */
  readonly method: 'max' | 'percentile';
  /** with 'percentile': the share of values each range covers, in percent (e.g. 99.99) */
  readonly percentile?: number;
  /** with 'percentile': the |x| range per observed tensor that the scales use instead of maxAbs */
  readonly range?: Readonly<Record<string, number>>;
  readonly images: number;
  /** [height, width] the images were resized to, or null for native sizes */
  readonly size: readonly [number, number] | null;
  /** max |x| of every observed tensor (docs/INT8.md section 4) */
  readonly maxAbs: Readonly<Record<string, number>>;
}

export interface Int8ModelData {
  readonly config: MsrnConfig;
  readonly fp32Checksum: number;
  readonly calibration: CalibrationStats;
  /** scale of every quantization point */
  readonly scales: Readonly<Record<string, number>>;
  /** the tensors of docs/INT8.md section 5, in blob order */
  readonly tensors: readonly ContainerTensor[];
}

export interface QuantizedConvTensors {
  readonly weight: Int8Array;
  readonly bias: Int32Array;
  readonly multiplier: Int32Array;
  readonly shift: Int32Array;
  readonly weightScale: Float32Array;
}

export class QuantizationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantizationError';
  }
}

export function quantizeConv(
  name: string,
  weight: Float32Array,
  bias: Float32Array,
  outChannels: number,
  inScale: number,
  outScale: number,
): QuantizedConvTensors {
  const perChannel = weight.length / outChannels;
  const q = new Int8Array(weight.length);
  const qBias = new Int32Array(outChannels);
  const multiplier = new Int32Array(outChannels);
  const shift = new Int32Array(outChannels);
  const weightScale = new Float32Array(outChannels);
  for (let co = 0; co < outChannels; co++) {
    let maxAbs = 0;
    for (let i = co * perChannel; i < (co + 1) * perChannel; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[i]));
    const sw = maxAbs === 0 ? 1 : maxAbs / 127;
    weightScale[co] = sw;
    for (let i = co * perChannel; i < (co + 1) * perChannel; i++) {
      q[i] = Math.min(127, Math.max(-127, roundHalfAway(weight[i] / sw)));
    }
    const accScale = inScale * sw;
    const b = roundHalfAway(bias[co] / accScale);
    if (b < INT32_MIN || b > INT32_MAX) {
      throw new QuantizationError(`${name}: bias ${bias[co]} of channel ${co} does not fit int32 at scale ${accScale}`);
    }
    qBias[co] = b;
    const m = quantizeMultiplier(accScale / outScale);
    multiplier[co] = m.multiplier;
    shift[co] = m.shift;
  }
  return { weight: q, bias: qBias, multiplier, shift, weightScale };
}

/** TFLite int8 ADD parameters: [left_shift, m1, e1, m2, e2, mo, eo]. */
export function quantizeAdd(aScale: number, xScale: number, outScale: number): Int32Array {
  const twiceMax = 2 * Math.max(aScale, xScale);
  const a = quantizeMultiplier(aScale / twiceMax);
  const x = quantizeMultiplier(xScale / twiceMax);
  const out = quantizeMultiplier(twiceMax / (2 ** ADD_LEFT_SHIFT * outScale));
  return Int32Array.from([ADD_LEFT_SHIFT, a.multiplier, a.shift, x.multiplier, x.shift, out.multiplier, out.shift]);
}

/** Scale per point: max |x| / 127, or the percentile range / 127 (docs/INT8.md section 3, step 2). */
export function scalesFromCalibration(config: MsrnConfig, calibration: CalibrationStats): Record<string, number> {
  const scales: Record<string, number> = {};
  const ranges = calibration.method === 'percentile' ? calibration.range : calibration.maxAbs;
  if (!ranges) throw new QuantizationError('percentile calibration without ranges');
  for (const point of int8Graph(config).points) {
    const max = ranges[point];
    if (max === undefined) throw new QuantizationError(`calibration has no statistics for '${point}'`);
    if (!(max > 0) || !Number.isFinite(max)) {
      throw new QuantizationError(
        `calibration gives '${point}' a max |x| of ${max}: its scale would be zero or non-finite (were the calibration images blank?)`,
      );
    }
    scales[point] = max / 127;
  }
  return scales;
}

/** The integer graph takes and returns 8-bit pixels with scale 1 (docs/INT8.md section 3). */
export function assertQuantizable(config: MsrnConfig): void {
  if (config.rgbRange !== 255) {
    throw new QuantizationError(`int8 needs a model trained on 0..255 pixels (rgb_range 255); this one has rgb_range ${config.rgbRange}`);
  }
}

export function quantizeModel(blob: WeightBlob, calibration: CalibrationStats): Int8ModelData {
  const { config } = blob;
  assertQuantizable(config);
  const graph = int8Graph(config);
  const scales = scalesFromCalibration(config, calibration);
  const scaleOf = (point: string) => (point === IMAGE_POINT || point === OUTPUT_POINT ? 1 : scales[point]);
  const tensors: ContainerTensor[] = [];
  const addAfter = new Map(graph.adds.map((a) => [a.name.replace(/\.add$/, '.confusion'), a]));
  for (const spec of graph.convs) {
    const w = blob.tensors.get(`${spec.prefix}.weight`);
    const b = blob.tensors.get(`${spec.prefix}.bias`);
    if (!w || !b) throw new QuantizationError(`fp32 weights lack '${spec.prefix}'`);
    const q = quantizeConv(spec.prefix, w, b, spec.outChannels, scaleOf(spec.inPoint), scaleOf(spec.outPoint));
    const cout = [spec.outChannels];
    tensors.push(
      { name: `${spec.prefix}.weight`, dtype: 'i8', shape: [spec.outChannels, spec.inChannels, spec.kernelSize, spec.kernelSize], data: q.weight },
      { name: `${spec.prefix}.bias`, dtype: 'i32', shape: cout, data: q.bias },
      { name: `${spec.prefix}.multiplier`, dtype: 'i32', shape: cout, data: q.multiplier },
      { name: `${spec.prefix}.shift`, dtype: 'i32', shape: cout, data: q.shift },
      { name: `${spec.prefix}.weight_scale`, dtype: 'f32', shape: cout, data: q.weightScale },
    );
    const add = addAfter.get(spec.prefix);
    if (add) {
      const params = quantizeAdd(scales[add.aPoint], scales[add.xPoint], scales[add.outPoint]);
      tensors.push({ name: add.name, dtype: 'i32', shape: [7], data: params });
    }
  }
  return { config, fp32Checksum: blob.checksum, calibration, scales, tensors };
}
