import { EvaluationResult, Score, evaluateFolder } from '../evaluate.js';
import { createUpscaler } from '../upscale.js';
import { checkInt8MatchesFp32 } from '../quant/int8-blob.js';
import { MsrnModelF32 } from '../msrn/model-f32.js';
import { Int8Model } from '../quant/int8-model.js';
import { PRECISIONS, Precision } from '../model-runner.js';
import { loadModel } from '../weights-files.js';
import { UsageError, checkOutputFolder, formatDb, parse, parseInteger, parseSize, toJson, writeAtomically } from './common.js';

export async function evalCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    'lr-dir': { type: 'string' },
    scale: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    weights: { type: 'string' },
    int8: { type: 'string' },
    json: { type: 'string' },
    protocol: { type: 'string', default: 'standard' },
    size: { type: 'string' },
    threads: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('eval takes exactly one folder of HR images');
  const precisions = values.precision.split(',') as Precision[];
  for (const p of precisions) {
    if (!PRECISIONS.includes(p)) throw new UsageError(`unknown precision '${p}' in --precision; expected fp32, int8 or fp32,int8`);
  }
  const protocol = values.protocol;
  if (protocol !== 'standard' && protocol !== 'card') throw new UsageError(`--protocol must be standard or card, got '${protocol}'`);
  const size = parseSize(values.size, '--size');
  if (protocol === 'card' && !size) throw new UsageError('--protocol card needs --size HEIGHTxWIDTH (the card used 1080x1920)');
  const scale = parseInteger(values.scale, '--scale', 2, 8);
  if (values.json) await checkOutputFolder(values.json);

  let fp32: MsrnModelF32 | undefined;
  let int8: Int8Model | undefined;
  if (precisions.includes('fp32')) {
    const m = await loadModel('fp32', values.weights);
    if (m.precision === 'fp32') fp32 = m.model;
  }
  if (precisions.includes('int8')) {
    const m = await loadModel('int8', values.int8);
    if (m.precision === 'int8') int8 = m.model;
  }
  if (fp32 && int8) checkInt8MatchesFp32(int8.data, { config: fp32.config, checksum: fp32.checksum });
  const modelScale = (fp32 ?? int8)!.config.scale;
  if (scale !== undefined && scale !== modelScale) throw new UsageError(`--scale ${scale} does not match the model, which is x${modelScale}`);

  const threads = parseInteger(values.threads, '--threads', 1, 256);
  const upscalerFor = (precision: Precision, weights: string | undefined) =>
    precisions.includes(precision) ? createUpscaler({ precision, weights, threads }) : undefined;
  const upscalers = { fp32: await upscalerFor('fp32', values.weights), int8: await upscalerFor('int8', values.int8) };
  let result: EvaluationResult;
  try {
    result = await evaluateFolder(positionals[0], {
      ...upscalers,
      lrDir: values['lr-dir'],
      protocol,
      size,
      onImage: (s, done, total) => {
        if (!values.quiet) process.stderr.write(`evaluated ${done}/${total}: ${s.name}\n`);
      },
    });
  } finally {
    await upscalers.fp32?.dispose();
    await upscalers.int8?.dispose();
  }
  process.stdout.write(formatTable(result));
  if (values.json) await writeAtomically(values.json, `${toJson({ images: result.images, mean: result.mean })}\n`);
}

function formatTable(result: EvaluationResult): string {
  const columns: ('bicubic' | 'fp32' | 'int8')[] = ['bicubic'];
  if (result.mean.fp32) columns.push('fp32');
  if (result.mean.int8) columns.push('int8');
  const cell = (s?: Score) => (s ? `${formatDb(s.psnr).padStart(8)} / ${s.ssim.toFixed(4)}` : '');
  const width = Math.max(8, ...result.images.map((i) => i.name.length));
  const what = result.protocol === 'standard' ? `Y channel, shave ${result.scale}` : 'RGB, no shave (model card protocol)';
  const lines = [
    `x${result.scale}, PSNR dB / SSIM on ${what}`,
    `${'image'.padEnd(width)}  ${columns.map((c) => c.padStart(17)).join('  ')}`,
    ...result.images.map((i) => `${i.name.padEnd(width)}  ${columns.map((c) => cell(i[c]).padStart(17)).join('  ')}`),
    `${'mean'.padEnd(width)}  ${columns.map((c) => cell(result.mean[c]).padStart(17)).join('  ')}`,
  ];
  if (result.mean.fp32 && result.mean.int8) {
    lines.push(`int8 - fp32: ${(result.mean.int8.psnr - result.mean.fp32.psnr).toFixed(3)} dB PSNR, ${(result.mean.int8.ssim - result.mean.fp32.ssim).toFixed(4)} SSIM`);
  }
  return `${lines.join('\n')}\n`;
}
