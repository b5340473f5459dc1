import { Tensor } from '../tensor/tensor.js';
import { imresizeBicubic } from '../image/resize.js';
import { toByte } from '../image/pixels.js';
import { cropTensor } from '../msrn/tiling.js';
import { modcrop } from './evaluate.js';

/**
 * A side-by-side picture for people: the same crop of bicubic x s, the model's x s and the
 * ground truth, each enlarged with nearest neighbour so single pixels stay visible, with a gap
 * between the panels. Made from an HR image: LR = MATLAB bicubic 1/s, as in the benchmarks.
 */
export interface ShowcaseOptions {
  /** crop in HR pixels: [x, y, width, height]; default: a centred square of a third of the short side */
  readonly crop?: readonly [number, number, number, number];
  /** nearest-neighbour enlargement of each panel (default 3) */
  readonly zoom?: number;
}

export function showcase(
  hr: Tensor<Float32Array>,
  scale: number,
  upscaleLr: (lr: Tensor<Float32Array>) => Tensor<Float32Array | Uint8Array>,
  options: ShowcaseOptions = {},
): Tensor<Float32Array> {
  const truth = modcrop(hr, scale);
  const lr = imresizeBicubic(truth, 1 / scale);
  const bicubic = imresizeBicubic(lr, scale);
  const model = upscaleLr(lr);
  const side = Math.floor(Math.min(truth.width, truth.height) / 3);
  const [x, y, w, h] = options.crop ?? [Math.floor((truth.width - side) / 2), Math.floor((truth.height - side) / 2), side, side];
  if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > truth.width || y + h > truth.height) {
    throw new RangeError(`crop ${w}x${h} at (${x}, ${y}) does not fit the ${truth.width}x${truth.height} image`);
  }
  const zoom = options.zoom ?? 3;
  if (!Number.isInteger(zoom) || zoom < 1 || zoom > 16) throw new RangeError(`zoom must be an integer 1..16, got ${zoom}`);
  const panels = [bicubic, model, truth].map((t) => cropTensor(t as Tensor<Float32Array>, y, x, h, w));
  const gap = 8;
  const outW = 3 * w * zoom + 2 * gap;
  const outH = h * zoom;
  const out = new Float32Array(3 * outW * outH).fill(255);
  panels.forEach((panel, p) => {
    const left = p * (w * zoom + gap);
    for (let c = 0; c < 3; c++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < w * zoom; ox++) {
          const v = panel.data[(c * h + Math.floor(oy / zoom)) * w + Math.floor(ox / zoom)];
          out[(c * outH + oy) * outW + left + ox] = toByte(v);
        }
      }
    }
  });
  return new Tensor(3, outH, outW, out);
}
