import { calibrateFolder } from '../node/calibrate-files.js';
import { UsageError, checkOutputFolder, parse, parseInteger, parseSize, writeAtomically } from './common.js';

export async function calibrateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    weights: { type: 'string' },
    count: { type: 'string' },
    size: { type: 'string' },
    method: { type: 'string', default: 'max' },
    percentile: { type: 'string' },
    threads: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('calibrate takes exactly one folder of calibration images');
  if (!values.output) throw new UsageError('calibrate needs an output file: -o <model.int8.bin>');
  const count = parseInteger(values.count, '--count', 1);
  const threads = parseInteger(values.threads, '--threads', 1, 256);
  const size = parseSize(values.size, '--size');
  if (values.method !== 'max' && values.method !== 'percentile') {
    throw new UsageError(`--method must be max or percentile, got '${values.method}'`);
  }
  if (values.method === 'max' && values.percentile !== undefined) throw new UsageError('--percentile goes with --method percentile');
  const percentile = values.percentile === undefined ? 99.99 : Number(values.percentile);
  if (!(percentile > 0 && percentile <= 100)) throw new UsageError(`--percentile must be in (0, 100], got '${values.percentile}'`);
  const method = values.method === 'max' ? ({ method: 'max' } as const) : ({ method: 'percentile', percentile } as const);
  await checkOutputFolder(values.output);
  const log = (line: string) => {
    if (!values.quiet) process.stderr.write(`${line}\n`);
  };
  const blob = await calibrateFolder(positionals[0], {
    weights: values.weights,
    count,
    size,
    method,
    threads,
    onSkip: (path, why) => log(`skipping ${path}: ${why}`),
    onImage: (done, total, path) => log(`calibrated ${done}/${total}: ${path}`),
  });
  await writeAtomically(values.output, blob);
  log(`wrote ${values.output} (${blob.length} bytes)`);
}
