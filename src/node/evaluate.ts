import { basename, join } from 'node:path';
import { access } from 'node:fs/promises';
import { RgbaImage } from '../image/codec.js';
import { YConvention, channelPlanes, psnr, srMetrics, ssim } from '../image/metrics.js';
import { rgbaToTensor } from '../image/pixels.js';
import { imresizeBicubic, resizeBilinear } from '../image/resize.js';
import { Tensor } from '../tensor/tensor.js';
import { listImageFiles, readImageFile } from './image-files.js';
import { Upscaler } from './upscale.js';

/**
 * Benchmark evaluation over a folder of HR images.
 *
 * 'standard' (what SR papers report): HR modcropped to a multiple of the scale; LR from the
 * LR folder (same file name) or MATLAB bicubic 1/scale; scores on BT.601 Y with `scale` pixels
 * shaved, Y as MSRN's scorer forms it ('float', default) or rounded to 8 bits ('u8'; see
 * YConvention in image/metrics.ts).
 * 'card' (how the model card's 32.600 / 32.368 were made): LR resized to a fixed size with
 * bilinear, the model output compared in RGB with the HR resized (bilinear) to the output size,
 * no shave; SSIM is the mean over R, G, B.
 */
export interface Score {
  readonly psnr: number;
  readonly ssim: number;
}

export interface ImageScores {
  readonly name: string;
  readonly bicubic: Score;
  readonly fp32?: Score;
  readonly int8?: Score;
}

export interface EvaluationResult {
  readonly protocol: 'standard' | 'card';
  /** how the standard protocol's luma was formed */
  readonly y: YConvention;
  /** whether the models ran with self-ensemble */
  readonly ensemble: boolean;
  readonly scale: number;
  readonly images: ImageScores[];
  readonly mean: { bicubic: Score; fp32?: Score; int8?: Score };
}

export interface EvaluateOptions {
  /** upscalers (createUpscaler) of the precisions to score: tiles and worker threads come with them */
  readonly fp32?: Upscaler;
  readonly int8?: Upscaler;
  readonly lrDir?: string;
  readonly protocol?: 'standard' | 'card';
  /** standard protocol: the luma convention (default 'float', MSRN's own scorer) */
  readonly y?: YConvention;
  /** run the models with self-ensemble, MSRN+ (bicubic is scored as always) */
  readonly ensemble?: boolean;
  /** card protocol: LR size [height, width] (the card used 1080x1920) */
  readonly size?: readonly [number, number];
  readonly onImage?: (scores: ImageScores, done: number, total: number) => void;
}

export async function evaluateFolder(hrDir: string, options: EvaluateOptions): Promise<EvaluationResult> {
  const scale = (options.fp32 ?? options.int8)?.scale;
  if (!scale) throw new Error('evaluation needs a model (fp32 weights, an int8 model, or both)');
  const protocol = options.protocol ?? 'standard';
  if (protocol === 'card' && !options.size) throw new RangeError('the card protocol needs an LR size (e.g. 1080x1920)');
  const files = await listImageFiles(hrDir);
  if (files.length === 0) throw new Error(`no PNG or JPEG images in ${hrDir}`);
  const images: ImageScores[] = [];
  for (const [i, path] of files.entries()) {
    const hr = rgbaToTensor(await readImageFile(path));
    const lr = options.lrDir ? rgbaToTensor(await readLr(options.lrDir, basename(path))) : undefined;
    let scores: ImageScores;
    try {
      scores = protocol === 'standard'
        ? await scoreStandard(basename(path), hr, lr, scale, options)
        : await scoreCard(basename(path), hr, lr, scale, options.size!, options);
    } catch (error) {
      throw new Error(`${basename(path)}: ${(error as Error).message}`);
    }
    images.push(scores);
    options.onImage?.(scores, i + 1, files.length);
  }
  const mean = (pick: (s: ImageScores) => Score | undefined): Score | undefined => {
    const list = images.map(pick).filter((s): s is Score => s !== undefined);
    if (list.length === 0) return undefined;
    return {
      psnr: list.reduce((a, s) => a + s.psnr, 0) / list.length,
      ssim: list.reduce((a, s) => a + s.ssim, 0) / list.length,
    };
  };
  return {
    protocol,
    y: options.y ?? 'float',
    ensemble: options.ensemble ?? false,
    scale,
    images,
    mean: { bicubic: mean((s) => s.bicubic)!, fp32: mean((s) => s.fp32), int8: mean((s) => s.int8) },
  };
}

async function readLr(lrDir: string, name: string): Promise<RgbaImage> {
  const path = join(lrDir, name);
  try {
    await access(path);
  } catch {
    throw new Error(`no LR image for ${name} in ${lrDir} (LR files must have the HR file's name)`);
  }
  return readImageFile(path);
}

/** Crop so both sides are multiples of the scale (MATLAB modcrop). */
export function modcrop(t: Tensor<Float32Array>, scale: number): Tensor<Float32Array> {
  const h = t.height - (t.height % scale);
  const w = t.width - (t.width % scale);
  if (h < 1 || w < 1) throw new RangeError(`image ${t.width}x${t.height} is smaller than the scale ${scale}`);
  if (h === t.height && w === t.width) return t;
  const out = new Float32Array(t.channels * h * w);
  for (let c = 0; c < t.channels; c++) {
    for (let y = 0; y < h; y++) out.set(t.data.subarray((c * t.height + y) * t.width, (c * t.height + y) * t.width + w), (c * h + y) * w);
  }
  return new Tensor(t.channels, h, w, out);
}

/** Both models' outputs as 8-bit images (float tensors holding integers 0..255). */
async function runModels(lr: Tensor<Float32Array>, options: EvaluateOptions): Promise<{ fp32?: Tensor<Float32Array>; int8?: Tensor<Float32Array> }> {
  const plane = lr.height * lr.width;
  const rgb = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = lr.data[c * plane + i];
  const run = async (upscaler: Upscaler) =>
    rgbaToTensor(await upscaler.upscale({ data: rgb, width: lr.width, height: lr.height, channels: 3 }, { ensemble: options.ensemble }));
  return {
    fp32: options.fp32 ? await run(options.fp32) : undefined,
    int8: options.int8 ? await run(options.int8) : undefined,
  };
}

async function scoreStandard(name: string, hrFull: Tensor<Float32Array>, lrGiven: Tensor<Float32Array> | undefined, scale: number, options: EvaluateOptions): Promise<ImageScores> {
  const hr = modcrop(hrFull, scale);
  const lr = lrGiven ?? imresizeBicubic(hr, 1 / scale);
  if (lr.height * scale !== hr.height || lr.width * scale !== hr.width) {
    throw new Error(`${name}: LR is ${lr.width}x${lr.height}, expected ${hr.width / scale}x${hr.height / scale} for x${scale}`);
  }
  const bicubic = imresizeBicubic(lr, scale);
  const out = await runModels(lr, options);
  const score = (t: Tensor<Float32Array>) => srMetrics(hr, t, scale, options.y);
  return {
    name,
    bicubic: score(bicubic),
    fp32: out.fp32 ? score(out.fp32) : undefined,
    int8: out.int8 ? score(out.int8) : undefined,
  };
}

async function scoreCard(name: string, hr: Tensor<Float32Array>, lrGiven: Tensor<Float32Array> | undefined, scale: number, size: readonly [number, number], options: EvaluateOptions): Promise<ImageScores> {
  const lrSource = lrGiven ?? imresizeBicubic(modcrop(hr, scale), 1 / scale);
  const lr = resizeBilinear(lrSource, size[0], size[1]);
  const target = resizeBilinear(hr, size[0] * scale, size[1] * scale);
  const rgbScore = (t: Tensor<Float32Array>): Score => {
    const a = channelPlanes(target);
    const b = channelPlanes(t);
    return { psnr: psnr(a, b), ssim: (ssim(a[0], b[0]) + ssim(a[1], b[1]) + ssim(a[2], b[2])) / 3 };
  };
  const out = await runModels(lr, options);
  return {
    name,
    bicubic: rgbScore(imresizeBicubic(lr, scale)),
    fp32: out.fp32 ? rgbScore(out.fp32) : undefined,
    int8: out.int8 ? rgbScore(out.int8) : undefined,
  };
}
