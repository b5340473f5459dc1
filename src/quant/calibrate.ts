import { Tensor } from '../tensor/tensor.js';
import { receptiveFieldRadius } from '../msrn/config.js';
import { forwardF32 } from '../msrn/forward-f32.js';
import { MsrnModelF32 } from '../msrn/model-f32.js';
import { planTiles, tileInput } from '../msrn/tiling.js';
import { CalibrationStats } from './quantize.js';

/**
 * Max calibration (the model card's calibrate_mode max): run the fp32 model over the calibration
 * images and keep, for every observed tensor, the largest |x| seen anywhere.
 *
 * Large images run tile by tile to bound memory. Only each tile's core region counts (at every
 * layer's own resolution): those values equal the whole-image run's exactly, while the halo's
 * are disturbed by the tile's own zero padding. So the maxima do not depend on the tile size.
 */
export class MaxCalibrator {
  private readonly maxAbs = new Map<string, number>();
  private images = 0;

  constructor(
    private readonly model: MsrnModelF32,
    private readonly tileSize = 256,
  ) {}

  /** Run one image (3, H, W), values 0..255, and fold its activations into the maxima. */
  addImage(image: Tensor<Float32Array>): void {
    const halo = receptiveFieldRadius(this.model.config);
    for (const tile of planTiles(image.height, image.width, this.tileSize, halo)) {
      forwardF32(this.model, tileInput(image, tile), (name, tensor) => {
        const r = tensor.height / tile.haloHeight; // 1 before the upsampler, 2 / 3 / 4 / 8 after
        const y0 = (tile.y - tile.haloY) * r;
        const x0 = (tile.x - tile.haloX) * r;
        let max = this.maxAbs.get(name) ?? 0;
        for (let c = 0; c < tensor.channels; c++) {
          for (let y = y0; y < y0 + tile.height * r; y++) {
            const row = (c * tensor.height + y) * tensor.width;
            for (let x = row + x0; x < row + x0 + tile.width * r; x++) {
              const v = tensor.data[x] < 0 ? -tensor.data[x] : tensor.data[x];
              if (v > max) max = v;
            }
          }
        }
        this.maxAbs.set(name, max);
      });
    }
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
