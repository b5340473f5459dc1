import { BlobFormatError, decodeContainer, encodeContainer } from './container.js';
import { MsrnConfig, SUPPORTED_SCALES, Scale, describeConfig, elementCount, expectedTensors } from './config.js';

/**
 * The fp32 weight blob: the container (container.ts) with kind "msrn-fp32", the model config in
 * the header, and every state_dict tensor of that config as float32 (weights/FORMAT.md).
 */
export const FP32_BLOB_KIND = 'msrn-fp32';

export interface WeightBlob {
  readonly config: MsrnConfig;
  /** state_dict name -> values in PyTorch layout. */
  readonly tensors: ReadonlyMap<string, Float32Array>;
  /** CRC-32 of the blob, as stored in its last 4 bytes. */
  readonly checksum: number;
  readonly byteLength: number;
  /** Free-form provenance strings (training run, source checkpoint...). */
  readonly meta: Readonly<Record<string, string>>;
}

export function readWeightBlob(bytes: Uint8Array): WeightBlob {
  const what = 'weight blob';
  const contents = decodeContainer(bytes, what);
  const { header } = contents;
  if (header.kind !== FP32_BLOB_KIND) {
    const hint = header.kind === 'msrn-int8' ? ' (an int8 model: use it with precision int8)' : '';
    throw new BlobFormatError(`${what}: expected kind "${FP32_BLOB_KIND}", found "${header.kind}"${hint}`);
  }
  const config = parseConfig(header.config, what);
  const expected = expectedTensors(config);
  const tensors = new Map<string, Float32Array>();
  for (const spec of expected) {
    const t = contents.tensors.get(spec.name);
    if (!t) throw new BlobFormatError(`${what}: missing tensor '${spec.name}' (needed by ${describeConfig(config)})`);
    if (t.dtype !== 'f32') throw new BlobFormatError(`${what}: tensor '${spec.name}' is ${t.dtype}, expected f32`);
    if (!sameDims(t.shape, spec.shape)) {
      throw new BlobFormatError(
        `${what}: tensor '${spec.name}' has shape [${t.shape.join(', ')}], but ${describeConfig(config)} needs [${spec.shape.join(', ')}]`,
      );
    }
    tensors.set(spec.name, t.data as Float32Array);
  }
  for (const name of contents.order) {
    if (!tensors.has(name)) {
      throw new BlobFormatError(`${what}: unexpected tensor '${name}' (not part of MSRN with ${describeConfig(config)})`);
    }
  }
  return { config, tensors, checksum: contents.checksum, byteLength: contents.byteLength, meta: parseMeta(header.meta) };
}

export function writeWeightBlob(
  config: MsrnConfig,
  tensors: ReadonlyMap<string, Float32Array>,
  meta: Record<string, string> = {},
): Uint8Array {
  const checked = parseConfig(config, 'config');
  const expected = expectedTensors(checked);
  for (const name of tensors.keys()) {
    if (!expected.some((s) => s.name === name)) throw new RangeError(`unexpected tensor '${name}' for ${describeConfig(checked)}`);
  }
  const list = expected.map((spec) => {
    const data = tensors.get(spec.name);
    if (!data) throw new RangeError(`missing tensor '${spec.name}'`);
    if (data.length !== elementCount(spec.shape)) {
      throw new RangeError(`tensor '${spec.name}' has ${data.length} values, shape [${spec.shape}] needs ${elementCount(spec.shape)}`);
    }
    return { name: spec.name, dtype: 'f32' as const, shape: spec.shape, data };
  });
  return encodeContainer(FP32_BLOB_KIND, { config: { ...checked, rgbMean: [...checked.rgbMean] }, meta }, list);
}

/** Validates a config from a blob header (or a caller); also used by the int8 blob. */
export function parseConfig(raw: unknown, what: string): MsrnConfig {
  if (typeof raw !== 'object' || raw === null) throw new BlobFormatError(`${what} has no model config`);
  const c = raw as Record<string, unknown>;
  const int = (key: string, min: number, max: number): number => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new BlobFormatError(`${what}: config ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const nFeats = int('nFeats', 1, 1024);
  const nBlocks = int('nBlocks', 1, 128);
  const scale = c.scale;
  if (!SUPPORTED_SCALES.includes(scale as Scale)) {
    throw new BlobFormatError(`${what}: config scale must be one of ${SUPPORTED_SCALES.join(', ')}, got ${JSON.stringify(scale)}`);
  }
  const nColors = int('nColors', 3, 3);
  const rgbRange = c.rgbRange;
  if (typeof rgbRange !== 'number' || !Number.isFinite(rgbRange) || rgbRange <= 0) {
    throw new BlobFormatError(`${what}: config rgbRange must be a positive number, got ${JSON.stringify(rgbRange)}`);
  }
  const mean = c.rgbMean;
  if (!Array.isArray(mean) || mean.length !== 3 || !mean.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new BlobFormatError(`${what}: config rgbMean must be 3 finite numbers, got ${JSON.stringify(mean)}`);
  }
  return { nFeats, nBlocks, scale: scale as Scale, nColors, rgbRange, rgbMean: [mean[0], mean[1], mean[2]] };
}

function parseMeta(raw: unknown): Record<string, string> {
  const meta: Record<string, string> = {};
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') meta[k] = v;
  }
  return meta;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
