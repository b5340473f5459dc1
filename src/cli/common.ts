import { randomBytes } from 'node:crypto';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ParseArgsConfig, parseArgs } from 'node:util';
import { ImageFormat } from '../image/codec.js';
import { YConvention, Y_CONVENTIONS } from '../image/metrics.js';
import { describeFsError } from '../node/weights-files.js';

/** A mistake in the command line: exit code 2 and a pointer to --help. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** node:util parseArgs (strict, positionals allowed), its errors turned into usage errors. */
export function parse<O extends Options>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

export function formatFromName(path: string): ImageFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  throw new UsageError(`cannot tell the output format from '${basename(path)}': use a .png, .jpg or .jpeg name`);
}

/** --y: the luma convention of the scores (image/metrics.ts). */
export function parseYConvention(value: string): YConvention {
  if (!Y_CONVENTIONS.includes(value as YConvention)) {
    throw new UsageError(`--y must be float (MSRN's scorer: unrounded single-precision luma) or u8 (luma rounded to 8 bits); got '${value}'`);
  }
  return value as YConvention;
}

/** How each convention is named in printed tables. */
export const Y_NAMES: Record<YConvention, string> = { float: 'float luma, as MSRN scores', u8: 'luma rounded to 8 bits' };

export function parseSize(value: string | undefined, flag: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)x(\d+)$/.exec(value);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new UsageError(`${flag} must be HEIGHTxWIDTH, e.g. 1080x1920; got '${value}'`);
  }
  return [Number(match[1]), Number(match[2])];
}

export function parseInteger(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

export async function checkOutputFolder(output: string): Promise<void> {
  const folder = dirname(resolve(output));
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(folder)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`output folder ${folder} does not exist`);
    throw new Error(`cannot use output folder ${folder}: ${describeFsError(error)}`);
  }
  if (!isDirectory) throw new Error(`output folder ${folder} is not a directory`);
}

/** Write beside the target, then rename: a failure never leaves a partial output file. */
export async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new Error(`cannot write ${path}: ${describeFsError(error)}`);
  }
}

export function formatDb(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'inf';
}

/** JSON that keeps Infinity readable (as the string "inf") instead of turning it into null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}
