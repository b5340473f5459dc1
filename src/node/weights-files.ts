import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LoadedModel, Precision, decodeModel } from '../upscaler/model-runner.js';

/**
 * Where weights come from, in Node: a path, bytes, or the blob shipped inside the package.
 * The default is resolved from this module's own location (dist/node/ -> ../../weights), never from the
 * working directory, so it works wherever the package is installed.
 */
export const DEFAULT_WEIGHTS_PATH = fileURLToPath(new URL('../../weights/msrn_x2.bin', import.meta.url));
/** The shipped int8 model, max-calibrated from DEFAULT_WEIGHTS_PATH. */
export const DEFAULT_INT8_WEIGHTS_PATH = fileURLToPath(new URL('../../weights/msrn_x2.int8.bin', import.meta.url));

export type WeightsSource = string | Uint8Array;

export async function readWeightsBytes(source: WeightsSource | undefined, defaultPath = DEFAULT_WEIGHTS_PATH): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source !== undefined && typeof source !== 'string') {
    throw new TypeError(`weights must be a file path or bytes (Uint8Array), got ${typeof source}`);
  }
  const path = source ?? defaultPath;
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (source === undefined && code === 'ENOENT') {
      throw new Error(`no default weights in this package (${path} is missing); pass weights explicitly (--weights <blob>)`);
    }
    throw new Error(`cannot read weights file ${path}: ${describeFsError(error)}`);
  }
}

/** Loads fp32 weights or an int8 model, each defaulting to the shipped blob. */
export async function loadModel(precision: Precision, source: WeightsSource | undefined): Promise<LoadedModel> {
  return decodeModel(precision, await readModelBytes(precision, source));
}

/** The bytes of the blob a precision uses: the given source, or the shipped default. */
export function readModelBytes(precision: Precision, source: WeightsSource | undefined): Promise<Uint8Array> {
  return readWeightsBytes(source, precision === 'fp32' ? DEFAULT_WEIGHTS_PATH : DEFAULT_INT8_WEIGHTS_PATH);
}

export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a parent path is not a directory';
    default:
      return e.message ?? String(error);
  }
}
