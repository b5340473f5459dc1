import { EvaluationResult, Score, evaluateFolder } from '../node/evaluate.js';
import { createUpscaler } from '../node/upscale.js';
import { checkInt8MatchesFp32 } from '../quant/int8-blob.js';
import { PRECISIONS, Precision } from '../upscaler/model-runner.js';
import { UsageError, Y_NAMES, checkOutputFolder, formatDb, parse, parseInteger, parseSize, parseYConvention, toJson, writeAtomically } from './common.js';

export async function evalCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    'lr-dir': { type: 'string' },
    scale: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    weights: { type: 'string' },
    int8: { type: 'string' },
    json: { type: 'string' },
    protocol: { type: 'string', default: 'standard' },
    y: { type: 'string', default: 'float' },
    ensemble: { type: 'boolean', default: false },
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
  const y = parseYConvention(values.y);
  const size = parseSize(values.size, '--size');
  if (protocol === 'card' && !size) throw new UsageError('--protocol card needs --size HEIGHTxWIDTH (the card used 1080x1920)');
  const scale = parseInteger(values.scale, '--scale', 2, 8);
  if (values.json) await checkOutputFolder(values.json);

  const threads = parseInteger(values.threads, '--threads', 1, 256);

  const upscalerFor = (precision: Precision, weights: string | undefined) =>
    precisions.includes(precision) ? createUpscaler({ precision, weights, threads }) : undefined;
  const fp32 = await upscalerFor('fp32', values.weights);
  let result: EvaluationResult;
  try {
    const int8 = await upscalerFor('int8', values.int8);
    try {
      if (fp32?.loaded.precision === 'fp32' && int8?.loaded.precision === 'int8') {
        checkInt8MatchesFp32(int8.loaded.model.data, fp32.loaded.model);
      }
      const modelScale = (fp32 ?? int8)!.scale;
      if (scale !== undefined && scale !== modelScale) throw new UsageError(`--scale ${scale} does not match the model, which is x${modelScale}`);
      result = await evaluateFolder(positionals[0], {
        fp32,
        int8,
        lrDir: values['lr-dir'],
        protocol,
        y,
        ensemble: values.ensemble,
        size,
        onImage: (s, done, total) => {
          if (!values.quiet) process.stderr.write(`evaluated ${done}/${total}: ${s.name}\n`);
        },
      });
    } finally {
      await int8?.dispose();
    }
  } finally {
    await fp32?.dispose();
  }
  process.stdout.write(formatTable(result));
  if (values.json) await writeAtomically(values.json, `${toJson({ protocol: result.protocol, y: result.y, ensemble: result.ensemble, images: result.images, mean: result.mean })}\n`);
}

function formatTable(result: EvaluationResult): string {
  const columns: ('bicubic' | 'fp32' | 'int8')[] = ['bicubic'];
  if (result.mean.fp32) columns.push('fp32');
  if (result.mean.int8) columns.push('int8');
  const cell = (s?: Score) => (s ? `${formatDb(s.psnr).padStart(8)} / ${s.ssim.toFixed(4)}` : '');
  const width = Math.max(8, ...result.images.map((i) => i.name.length));
  const what =
    (result.protocol === 'standard' ? `Y channel (${Y_NAMES[result.y]}), shave ${result.scale}` : 'RGB, no shave (model card protocol)') +
    (result.ensemble ? '; models with self-ensemble (x8)' : '');
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
