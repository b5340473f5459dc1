import { Tensor } from '../tensor/tensor.js';
import { forwardF32 } from '../msrn/forward-f32.js';
import { MsrnModelF32 } from '../msrn/model-f32.js';
import { CalibrationStats } from './quantize.js';

/**
 * Max calibration (the model card's calibrate_mode max): run the fp32 model over the calibration
 * images and keep, for every observed tensor, the largest |x| seen anywhere.
 */
export class MaxCalibrator {
  private readonly maxAbs = new Map<string, number>();
  private images = 0;

  constructor(private readonly model: MsrnModelF32) {}

  /** Run one image (3, H, W), values 0..255, and fold its activations into the maxima. */
  addImage(image: Tensor<Float32Array>): void {
    forwardF32(this.model, image, (name, tensor) => {
      let max = this.maxAbs.get(name) ?? 0;
      const data = tensor.data;
      for (let i = 0; i < data.length; i++) {
        const v = data[i] < 0 ? -data[i] : data[i];
        if (v > max) max = v;
      }
      this.maxAbs.set(name, max);
    });
    this.images++;
  }

  get imageCount(): number {
    return this.images;
  }

  result(size: readonly [number, number] | null = null): CalibrationStats {
    if (this.images === 0) throw new RangeError('calibration needs at least one image');
    return { method: 'max', images: this.images, size, maxAbs: Object.fromEntries(this.maxAbs) };
  }
}
