import { encodeImage } from '../image/codec.js';
import { upscale } from '../upscale.js';
import { PRECISIONS, Precision } from '../model-runner.js';
import { UsageError, checkOutputFolder, formatFromName, parse, parseInteger, writeAtomically } from './common.js';

export const UPSCALE_USAGE = 'msrn upscale <input.png|.jpg> -o <output.png|.jpg> [--weights <blob>] [--precision fp32|int8] [--quality 1-100] [--max-pixels N]';

export async function upscaleCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    weights: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    quality: { type: 'string' },
    'max-pixels': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`upscale takes exactly one input image, got ${positionals.length}`);
  const output = values.output;
  if (!output) throw new UsageError('upscale needs an output file: -o <output.png|.jpg>');
  const precision = values.precision as Precision;
  if (!PRECISIONS.includes(precision)) {
    throw new UsageError(`unknown --precision '${precision}'; expected one of: ${PRECISIONS.join(', ')}`);
  }
  const format = formatFromName(output);
  const quality = parseInteger(values.quality, '--quality', 1, 100);
  const maxPixels = parseInteger(values['max-pixels'], '--max-pixels', 1);
  await checkOutputFolder(output);
  const result = await upscale(positionals[0], { precision, weights: values.weights, maxPixels });
  await writeAtomically(output, encodeImage(result, format, quality));
}
