import { Tensor } from '../tensor/tensor.js';
import { receptiveFieldRadius } from '../msrn/config.js';
import { forwardF32 } from '../msrn/forward-f32.js';
import { MsrnModelF32 } from '../msrn/model-f32.js';
import { forEachCoreRow, planTiles, tileInput } from '../msrn/tiling.js';
import { CalibrationStats } from './quantize.js';

/**
 * Calibration: run the fp32 model over the calibration images and record, for every observed
 * tensor, the largest |x| seen anywhere ('max', the model card's calibrate_mode and the
 * default) and, for the 'percentile' method, a histogram of |x| from which the range that
 * covers `percentile` % of the values is read.
 *
 * Large images run tile by tile to bound memory. Only each tile's core region counts (at every
 * layer's own resolution): those values equal the whole-image run's exactly, while the halo's
 * are disturbed by the tile's own zero padding. So the statistics do not depend on the tile size.
 */
export interface PartialCalibration {
  readonly images: number;
  readonly maxAbs: Readonly<Record<string, number>>;
  /** only with the percentile method */
  readonly histograms: Readonly<Record<string, Float64Array>>;
}

export type CalibrationMethod = { readonly method: 'max' } | { readonly method: 'percentile'; readonly percentile: number };

/** Histogram of |x| on a log scale: 64 bins per octave from 2^-16 to 2^16, plus one bin for 0. */
const BINS_PER_OCTAVE = 64;
const MIN_EXPONENT = -16;
const BIN_COUNT = 32 * BINS_PER_OCTAVE + 1;
const binOf = (v: number) =>
  v === 0 ? 0 : Math.min(BIN_COUNT - 1, Math.max(1, 1 + Math.floor((Math.log2(v) - MIN_EXPONENT) * BINS_PER_OCTAVE)));
/** The upper edge of a bin: every value in it is at most this. */
const binTop = (bin: number) => (bin === 0 ? 0 : 2 ** (MIN_EXPONENT + bin / BINS_PER_OCTAVE));

export class MaxCalibrator {
  private readonly maxAbs = new Map<string, number>();
  private readonly histograms = new Map<string, Float64Array>();
  private images = 0;

  constructor(
    private readonly model: MsrnModelF32,
    private readonly tileSize = 256,
    private readonly method: CalibrationMethod = { method: 'max' },
  ) {
    if (method.method === 'percentile' && !(method.percentile > 0 && method.percentile <= 100)) {
      throw new RangeError(`percentile must be in (0, 100], got ${method.percentile}`);
    }
  }

  /** Run one image (3, H, W), values 0..255, and fold its activations into the statistics. */
  addImage(image: Tensor<Float32Array>): void {
    const halo = receptiveFieldRadius(this.model.config);
    const histogram = this.method.method === 'percentile';
    for (const tile of planTiles(image.height, image.width, this.tileSize, halo)) {
      forwardF32(this.model, tileInput(image, tile), (name, tensor) => {
        let max = this.maxAbs.get(name) ?? 0;
        let bins = this.histograms.get(name);
        if (histogram && !bins) this.histograms.set(name, (bins = new Float64Array(BIN_COUNT)));
        const data = tensor.data;
        forEachCoreRow(tensor, tile, (start, end) => {
          for (let i = start; i < end; i++) {
            const v = data[i] < 0 ? -data[i] : data[i];
            if (v > max) max = v;
            if (bins) bins[binOf(v)]++;
          }
        });
        this.maxAbs.set(name, max);
      });
    }
    this.images++;
  }

  /** The raw statistics so far, to merge into another calibrator (worker threads). */
  partial(): PartialCalibration {
    return {
      images: this.images,
      maxAbs: Object.fromEntries(this.maxAbs),
      histograms: Object.fromEntries(this.histograms),
    };
  }

  /**
   * Fold in another calibrator's statistics: maxima take the max, histograms add up. Both are
   * exact and order-independent, so merging per-image results from workers gives the very
   * result one calibrator would have reached.
   */
  merge(other: PartialCalibration): void {
    for (const [name, max] of Object.entries(other.maxAbs)) this.maxAbs.set(name, Math.max(this.maxAbs.get(name) ?? 0, max));
    if (this.method.method === 'percentile') {
      for (const [name, bins] of Object.entries(other.histograms)) {
        let mine = this.histograms.get(name);
        if (!mine) this.histograms.set(name, (mine = new Float64Array(BIN_COUNT)));
        for (let i = 0; i < BIN_COUNT; i++) mine[i] += bins[i];
      }
    }
    this.images += other.images;
  }

  get imageCount(): number {
    return this.images;
  }

  result(size: readonly [number, number] | null = null): CalibrationStats {
    if (this.images === 0) throw new RangeError('calibration needs at least one image');
    const maxAbs = Object.fromEntries(this.maxAbs);
    const base = { images: this.images, size, maxAbs };
    if (this.method.method === 'max') return { method: 'max', ...base };
    const range: Record<string, number> = {};
    for (const [name, bins] of this.histograms) {
      const total = bins.reduce((a, b) => a + b, 0);
      const wanted = (this.method.percentile / 100) * total;
      let seen = 0;
      let bin = 0;
      while (bin < BIN_COUNT - 1 && seen + bins[bin] < wanted) seen += bins[bin++];
      // Never beyond the real maximum (the bin's top edge can overshoot it).
      range[name] = Math.min(binTop(bin), maxAbs[name]);
    }
    return { method: 'percentile', percentile: this.method.percentile, ...base, range };
  }
}
