import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { encodeImage } from '../image/codec.js';
import { listImageFiles } from '../node/image-files.js';
import { PRECISIONS, Precision } from '../upscaler/model-runner.js';
import { createUpscaler } from '../node/upscale.js';
import { UsageError, checkOutputFolder, formatFromName, parse, parseInteger, writeAtomically } from './common.js';
import { ProgressBar } from './progress.js';

export { UPSCALE_USAGE } from './usage.js';

export async function upscaleCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    weights: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    tile: { type: 'string' },
    threads: { type: 'string' },
    quality: { type: 'string' },
    'max-pixels': { type: 'string' },
    ensemble: { type: 'boolean', default: false },
    quiet: { type: 'boolean', short: 'q', default: false },
  });
  if (positionals.length !== 1) throw new UsageError(`upscale takes exactly one input image or folder, got ${positionals.length}`);
  const output = values.output;
  if (!output) throw new UsageError('upscale needs an output: -o <output.png|.jpg> (or a folder for a folder input)');
  const precision = values.precision as Precision;
  if (!PRECISIONS.includes(precision)) {
    throw new UsageError(`unknown --precision '${precision}'; expected one of: ${PRECISIONS.join(', ')}`);
  }
  const quality = parseInteger(values.quality, '--quality', 1, 100);
  const tileSize = parseInteger(values.tile, '--tile', 1);
  const threads = parseInteger(values.threads, '--threads', 1, 256);
  const maxPixels = parseInteger(values['max-pixels'], '--max-pixels', 1);
  const input = positionals[0];

  const folderMode = await isDirectory(input);
  let jobs: { from: string; to: string }[];
  if (folderMode) {
    if (!(await isDirectory(output))) throw new Error(`output folder ${output} does not exist (a folder input needs an existing output folder)`);
    const files = await listImageFiles(input, (path, why) => {
      if (!values.quiet) process.stderr.write(`skipping ${path}: ${why}\n`);
    });
    if (files.length === 0) throw new Error(`no PNG or JPEG images in ${input}`);
    jobs = files.map((from) => ({ from, to: join(output, basename(from)) }));
  } else {
    formatFromName(output); // a usage error before any work
    await checkOutputFolder(output);
    jobs = [{ from: input, to: output }];
  }

  const upscaler = await createUpscaler({ precision, weights: values.weights, tileSize, threads, maxPixels });
  try {
    for (const job of jobs) {
      const bar = new ProgressBar(folderMode ? basename(job.from) : 'upscaling', values.quiet);
      const result = await upscaler.upscale(job.from, { ensemble: values.ensemble, onProgress: (f, tiles) => bar.update(f, tiles) });
      await writeAtomically(job.to, encodeImage(result, formatFromName(job.to), quality));
      bar.finish();
    }
  } finally {
    await upscaler.dispose();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
