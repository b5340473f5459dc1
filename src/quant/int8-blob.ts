import { BlobFormatError, ContainerTensor, decodeContainer, encodeContainer } from '../msrn/container.js';
import { describeConfig } from '../msrn/config.js';
import { formatCrc32 } from '../msrn/crc32.js';
import { WeightBlob, parseConfig } from '../msrn/weights-blob.js';
import { ADD_LEFT_SHIFT, int8Graph } from './graph.js';
import { CalibrationStats, Int8ModelData } from './quantize.js';

/** The int8 model blob (docs/INT8.md section 5): the shared container with kind "msrn-int8". */
export const INT8_BLOB_KIND = 'msrn-int8';

export function writeInt8Blob(model: Int8ModelData): Uint8Array {
  return encodeContainer(
    INT8_BLOB_KIND,
    {
      config: { ...model.config, rgbMean: [...model.config.rgbMean] },
      fp32Checksum: model.fp32Checksum,
      calibration: model.calibration,
      scales: model.scales,
    },
    model.tensors,
  );
}

export function readInt8Blob(bytes: Uint8Array): Int8ModelData {
  const what = 'int8 model blob';
  const contents = decodeContainer(bytes, what);
  const { header } = contents;
  if (header.kind !== INT8_BLOB_KIND) {
    const hint = header.kind === 'msrn-fp32' ? ' (fp32 weights: use them with precision fp32, or calibrate them first)' : '';
    throw new BlobFormatError(`${what}: expected kind "${INT8_BLOB_KIND}", found "${header.kind}"${hint}`);
  }
  const config = parseConfig(header.config, what);
  const fp32Checksum = header.fp32Checksum;
  if (typeof fp32Checksum !== 'number' || !Number.isInteger(fp32Checksum) || fp32Checksum < 0 || fp32Checksum > 0xffffffff) {
    throw new BlobFormatError(`${what}: header has no valid fp32Checksum`);
  }
  const calibration = parseCalibration(header.calibration, what);
  const graph = int8Graph(config);

  const rawScales = header.scales as Record<string, unknown> | undefined;
  if (typeof rawScales !== 'object' || rawScales === null) throw new BlobFormatError(`${what}: header has no scales`);
  const scales: Record<string, number> = {};
  for (const point of graph.points) {
    const s = rawScales[point];
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw new BlobFormatError(`${what}: scale of '${point}' is ${JSON.stringify(s ?? null)}; scales must be positive and finite`);
    }
    scales[point] = s;
  }

  const expected = new Map<string, { dtype: string; shape: number[] }>();
  for (const spec of graph.convs) {
    const cout = [spec.outChannels];
    expected.set(`${spec.prefix}.weight`, { dtype: 'i8', shape: [spec.outChannels, spec.inChannels, spec.kernelSize, spec.kernelSize] });
    expected.set(`${spec.prefix}.bias`, { dtype: 'i32', shape: cout });
    expected.set(`${spec.prefix}.multiplier`, { dtype: 'i32', shape: cout });
    expected.set(`${spec.prefix}.shift`, { dtype: 'i32', shape: cout });
    expected.set(`${spec.prefix}.weight_scale`, { dtype: 'f32', shape: cout });
  }
  for (const add of graph.adds) expected.set(add.name, { dtype: 'i32', shape: [7] });

  for (const [name, spec] of expected) {
    const t = contents.tensors.get(name);
    if (!t) throw new BlobFormatError(`${what}: missing tensor '${name}' (needed by ${describeConfig(config)})`);
    if (t.dtype !== spec.dtype) throw new BlobFormatError(`${what}: tensor '${name}' is ${t.dtype}, expected ${spec.dtype}`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new BlobFormatError(
        `${what}: tensor '${name}' has shape [${t.shape.join(', ')}], but ${describeConfig(config)} needs [${spec.shape.join(', ')}]`,
      );
    }
  }
  for (const name of contents.order) {
    if (!expected.has(name)) throw new BlobFormatError(`${what}: unexpected tensor '${name}'`);
  }
  for (const spec of graph.convs) {
    const multiplier = contents.tensors.get(`${spec.prefix}.multiplier`)!.data;
    const shift = contents.tensors.get(`${spec.prefix}.shift`)!.data;
    const weightScale = contents.tensors.get(`${spec.prefix}.weight_scale`)!.data;
    for (let co = 0; co < spec.outChannels; co++) {
      checkMultiplier(what, `${spec.prefix} channel ${co}`, multiplier[co], shift[co]);
      if (!(weightScale[co] > 0)) {
        throw new BlobFormatError(`${what}: ${spec.prefix} channel ${co} has weight scale ${weightScale[co]}; scales must be positive`);
      }
    }
  }
  for (const add of graph.adds) {
    const p = contents.tensors.get(add.name)!.data;
    if (p[0] !== ADD_LEFT_SHIFT) throw new BlobFormatError(`${what}: ${add.name} has left shift ${p[0]}, expected ${ADD_LEFT_SHIFT}`);
    for (let i = 1; i < 7; i += 2) checkMultiplier(what, add.name, p[i], p[i + 1]);
  }
  const tensors: ContainerTensor[] = contents.order.map((name) => contents.tensors.get(name)!);
  return { config, fp32Checksum, calibration, scales, tensors };
}

/** An int8 model only makes sense beside the fp32 weights it was calibrated from. */
export function checkInt8MatchesFp32(int8: Int8ModelData, fp32: Pick<WeightBlob, 'config' | 'checksum'>): void {
  const a = int8.config;
  const b = fp32.config;
  const sameConfig =
    a.nFeats === b.nFeats && a.nBlocks === b.nBlocks && a.scale === b.scale && a.rgbRange === b.rgbRange &&
    a.rgbMean.every((v, i) => v === b.rgbMean[i]);
  if (!sameConfig) {
    throw new BlobFormatError(
      `the int8 model is MSRN ${describeConfig(a)} but the fp32 weights are ${describeConfig(b)}: they do not belong together`,
    );
  }
  if (int8.fp32Checksum !== fp32.checksum) {
    throw new BlobFormatError(
      `the int8 model was calibrated from fp32 weights crc32 ${formatCrc32(int8.fp32Checksum)}, but these are crc32 ${formatCrc32(fp32.checksum)}: recalibrate (msrn calibrate) for these weights`,
    );
  }
}

function checkMultiplier(what: string, where: string, multiplier: number, shift: number): void {
  const zero = multiplier === 0 && shift === 0;
  if (!zero && !(multiplier >= 2 ** 30 && multiplier < 2 ** 31)) {
    throw new BlobFormatError(`${what}: ${where} has multiplier ${multiplier}, outside [2^30, 2^31)`);
  }
  if (!(shift >= -31 && shift <= 30)) throw new BlobFormatError(`${what}: ${where} has shift ${shift}, outside [-31, 30]`);
}

function parseCalibration(raw: unknown, what: string): CalibrationStats {
  const c = raw as Partial<CalibrationStats> | undefined;
  if (typeof c !== 'object' || c === null || (c.method !== 'max' && c.method !== 'percentile')) {
    throw new BlobFormatError(`${what}: header has no calibration record (method max or percentile)`);
  }
  if (!Number.isInteger(c.images) || (c.images as number) < 1) throw new BlobFormatError(`${what}: calibration image count is missing`);
  const numbers = (record: unknown, field: string): Record<string, number> => {
    if (typeof record !== 'object' || record === null) throw new BlobFormatError(`${what}: calibration has no ${field}`);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(record)) if (typeof v === 'number') out[k] = v;
    return out;
  };
  const maxAbs = numbers(c.maxAbs, 'maxAbs statistics');
  const size = Array.isArray(c.size) && c.size.length === 2 ? ([c.size[0], c.size[1]] as [number, number]) : null;
  const base = { images: c.images as number, size, maxAbs };
  if (c.method === 'max') return { method: 'max', ...base };
  if (typeof c.percentile !== 'number' || !(c.percentile > 0 && c.percentile <= 100)) {
    throw new BlobFormatError(`${what}: percentile calibration without a percentile in (0, 100]`);
  }
  return { method: 'percentile', percentile: c.percentile, ...base, range: numbers(c.range, 'percentile ranges') };
}
