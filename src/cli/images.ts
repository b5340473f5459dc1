import { encodeImage } from '../image/codec.js';
import { psnr as psnrOf, rgbToY, shave, ssim as ssimOf } from '../image/metrics.js';
import { rgbaChannel, rgbaToTensor, tensorToRgba } from '../image/pixels.js';
import { imresizeBicubic } from '../image/resize.js';
import { readImageFile } from '../node/image-files.js';
import { PRECISIONS, Precision, forwardModel } from '../upscaler/model-runner.js';
import { showcase } from '../node/showcase.js';
import { loadModel } from '../node/weights-files.js';
import { UsageError, Y_NAMES, checkOutputFolder, formatDb, formatFromName, parse, parseInteger, parseYConvention, writeAtomically } from './common.js';

/** `msrn resize`: MATLAB imresize bicubic (8-bit rounding after each pass), alpha included. */
export async function resizeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' }, scale: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('resize takes exactly one input image');
  if (!values.output) throw new UsageError('resize needs an output file: -o <output.png|.jpg>');
  const scale = Number(values.scale);
  if (values.scale === undefined || !(scale > 0) || !Number.isFinite(scale)) {
    throw new UsageError(`resize needs --scale <positive number> (0.5 halves, 2 doubles), got '${values.scale ?? ''}'`);
  }
  const format = formatFromName(values.output);
  await checkOutputFolder(values.output);
  const image = await readImageFile(positionals[0]);
  const rgb = imresizeBicubic(rgbaToTensor(image), scale);
  const alpha = imresizeBicubic(rgbaChannel(image, 3), scale);
  await writeAtomically(values.output, encodeImage(tensorToRgba(rgb, alpha), format));
}

/** `msrn metrics`: Y-PSNR and SSIM of a test image against a reference. */
export async function metricsCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    shave: { type: 'string' },
    y: { type: 'string', default: 'float' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 2) throw new UsageError('metrics takes two images: <reference> <test>');
  const border = parseInteger(values.shave, '--shave', 0) ?? 0;
  const y = parseYConvention(values.y);
  const [reference, test] = await Promise.all(positionals.map((p) => readImageFile(p)));
  if (reference.width !== test.width || reference.height !== test.height) {
    throw new Error(`images differ in size: ${reference.width}x${reference.height} vs ${test.width}x${test.height}`);
  }
  const a = shave(rgbToY(rgbaToTensor(reference), y), border);
  const b = shave(rgbToY(rgbaToTensor(test), y), border);
  const psnr = psnrOf(a, b);
  const ssim = ssimOf(a, b);
  // Exactly {"psnr": <number>, "ssim": <number>}; identical images have an infinite PSNR, which
  // JSON cannot hold, so it is written as null.
  if (values.json) process.stdout.write(`{"psnr": ${Number.isFinite(psnr) ? psnr : 'null'}, "ssim": ${ssim}}\n`);
  else process.stdout.write(`PSNR ${formatDb(psnr)} dB, SSIM ${ssim.toFixed(4)} (Y ${Y_NAMES[y]}, shave ${border})\n`);
}

/** `msrn showcase`: bicubic | model | ground truth, side by side, for people to look at. */
export async function showcaseCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    weights: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    crop: { type: 'string' },
    zoom: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('showcase takes exactly one HR image');
  if (!values.output) throw new UsageError('showcase needs an output file: -o <out.png>');
  const precision = values.precision as Precision;
  if (!PRECISIONS.includes(precision)) throw new UsageError(`unknown --precision '${precision}'`);
  let crop: [number, number, number, number] | undefined;
  if (values.crop !== undefined) {
    const parts = values.crop.split(',').map(Number);
    if (parts.length !== 4 || !parts.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new UsageError(`--crop must be x,y,width,height in HR pixels, got '${values.crop}'`);
    }
    crop = parts as [number, number, number, number];
  }
  const zoom = parseInteger(values.zoom, '--zoom', 1, 16);
  const format = formatFromName(values.output);
  await checkOutputFolder(values.output);
  const model = await loadModel(precision, values.weights);
  const hr = rgbaToTensor(await readImageFile(positionals[0]));
  const picture = showcase(hr, model.model.config.scale, (lr) => forwardModel(model, lr), { crop, zoom });
  await writeAtomically(values.output, encodeImage(tensorToRgba(picture), format));
}
