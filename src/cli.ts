#!/usr/bin/env node
/**
 * The `msrn` command: argument parsing and file handling over the library, no logic of its own.
 * Exit codes: 0 ok, 1 runtime error (bad file, bad weights...), 2 usage error.
 * Errors print one line on stderr; set MSRN_DEBUG=1 to see the stack.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ParseArgsConfig, parseArgs } from 'node:util';
import { ImageFormat, encodeImage } from './image/codec.js';
import { describeConfig, parameterCount } from './msrn/config.js';
import { formatCrc32 } from './msrn/crc32.js';
import { readWeightBlob } from './msrn/weights-blob.js';
import { PRECISIONS, Precision, upscale } from './upscale.js';
import { describeFsError } from './weights-files.js';

class UsageError extends Error {}

const HELP = `msrn: MSRN super-resolution in pure TypeScript

Usage:
  msrn upscale <input.png|.jpg> -o <output.png|.jpg> [--weights <blob>] [--precision fp32]
  msrn info <weights.bin>
  msrn --help | --version

Commands:
  upscale   Upscale an image by the model's scale (x2 for the default weights).
            The output format follows the extension of -o (.png, .jpg, .jpeg).
  info      Print a weight blob's config, parameter count and checksum.

Options:
  -o, --output <file>     where to write the upscaled image (required for upscale)
  --weights <blob>        MSRN weight blob (tools/export_blob.py makes one from PyTorch)
  --precision <p>         fp32 (default)
  --quality <1-100>       JPEG quality for .jpg output (default 92)
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  if (command === 'upscale') return upscaleCommand(rest);
  if (command === 'info') return infoCommand(rest);
  throw new UsageError(`unknown command '${command}'`);
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

async function upscaleCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    weights: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    quality: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`upscale takes exactly one input image, got ${positionals.length}`);
  const output = values.output as string | undefined;
  if (!output) throw new UsageError('upscale needs an output file: -o <output.png|.jpg>');
  const precision = values.precision as string;
  if (!PRECISIONS.includes(precision as Precision)) {
    throw new UsageError(`unknown --precision '${precision}'; expected one of: ${PRECISIONS.join(', ')}`);
  }
  const format = formatFromName(output);
  const quality = values.quality === undefined ? undefined : Number(values.quality);
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw new UsageError(`--quality must be an integer from 1 to 100, got '${values.quality}'`);
  }
  await checkOutputFolder(output);
  const result = await upscale(positionals[0], {
    precision: precision as Precision,
    weights: values.weights as string | undefined,
  });
  await writeAtomically(output, encodeImage(result, format, quality));
}

async function infoCommand(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('info takes exactly one weight blob');
  const path = positionals[0];
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${describeFsError(error)}`);
  }
  const blob = readWeightBlob(bytes);
  const { config } = blob;
  const lines = [
    `file:        ${path}`,
    `format:      msrn-fp32 weight blob, ${bytes.length} bytes`,
    `model:       MSRN ${describeConfig(config)}`,
    `rgb range:   0..${config.rgbRange}, mean (${config.rgbMean.join(', ')})`,
    `parameters:  ${parameterCount(config).toLocaleString('en-US')} (+${parameterCount(config, true) - parameterCount(config)} in the mean shifts)`,
    `checksum:    crc32 ${formatCrc32(blob.checksum)}`,
    ...Object.entries(blob.meta).map(([k, v]) => `${`${k}:`.padEnd(12)} ${v}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function formatFromName(path: string): ImageFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  throw new UsageError(`cannot tell the output format from '${basename(path)}': use a .png, .jpg or .jpeg name`);
}

async function checkOutputFolder(output: string): Promise<void> {
  const folder = dirname(resolve(output));
  try {
    if (!(await stat(folder)).isDirectory()) throw new Error(`output folder ${folder} is not a directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`output folder ${folder} does not exist`);
    throw error;
  }
}

/** Write beside the target, then rename: a failure never leaves a partial output file. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new Error(`cannot write ${path}: ${describeFsError(error)}`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`msrn: ${message}\n`);
    if (error instanceof UsageError) process.stderr.write("Run 'msrn --help' for usage.\n");
    if (process.env.MSRN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
