import { crc32, formatCrc32 } from './crc32.js';

/**
 * The binary container shared by the fp32 weight blob and the int8 model blob (weights/FORMAT.md):
 *
 *   offset 0      4 bytes   magic "MSRN"
 *   offset 4      u32 LE    container version (1)
 *   offset 8      u32 LE    header length N, a multiple of 4 (JSON padded with spaces)
 *   offset 12     N bytes   header: UTF-8 JSON {"kind", "tensors": [{name, dtype, shape}], ...}
 *   offset 12+N   tensor data, in header order, back to back, little-endian, no gaps
 *   last 4 bytes  u32 LE    CRC-32 (zlib's) of every byte before it
 *
 * Offsets are implicit (each tensor starts where the previous ends), so a blob cannot describe
 * overlapping or missing ranges. Every tensor's byte length is a multiple of 4 or padded to one
 * (int8 tensors are followed by zero bytes up to the next multiple of 4), keeping each start aligned.
 */
export const CONTAINER_MAGIC = 'MSRN';
export const CONTAINER_VERSION = 1;

export type DType = 'f32' | 'i8' | 'i32';
export type DTypeArray<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i8' ? Int8Array : Int32Array;

export interface ContainerTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int8Array | Int32Array;
}

export interface ContainerContents {
  /** The parsed header; `kind` and `tensors` are validated here, the rest by the blob's reader. */
  readonly header: Record<string, unknown> & { kind: string };
  readonly tensors: Map<string, ContainerTensor>;
  /** Names in file order. */
  readonly order: string[];
  readonly checksum: number;
  readonly byteLength: number;
}

/** Every problem with a blob surfaces as this error, with a message that names the problem. */
export class BlobFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobFormatError';
  }
}

const BYTES_PER: Record<DType, number> = { f32: 4, i8: 1, i32: 4 };
const align4 = (n: number) => (n + 3) & ~3;

export function encodeContainer(
  kind: string,
  extraHeader: Record<string, unknown>,
  tensors: readonly ContainerTensor[],
): Uint8Array {
  const headerObject = {
    kind,
    ...extraHeader,
    tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] })),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(headerObject));
  const headerLength = align4(headerBytes.length);
  let dataLength = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(`tensor '${t.name}': shape [${t.shape}] needs ${count} values, data has ${t.data.length}`);
    }
    dataLength += align4(count * BYTES_PER[t.dtype]);
  }
  const total = 12 + headerLength + dataLength + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(CONTAINER_MAGIC), 0);
  view.setUint32(4, CONTAINER_VERSION, true);
  view.setUint32(8, headerLength, true);
  out.fill(0x20, 12, 12 + headerLength);
  out.set(headerBytes, 12);
  let offset = 12 + headerLength;
  for (const t of tensors) {
    const { data } = t;
    if (t.dtype === 'f32') {
      for (let i = 0; i < data.length; i++, offset += 4) view.setFloat32(offset, data[i], true);
    } else if (t.dtype === 'i32') {
      for (let i = 0; i < data.length; i++, offset += 4) view.setInt32(offset, data[i], true);
    } else {
      for (let i = 0; i < data.length; i++, offset += 1) view.setInt8(offset, data[i]);
      offset = align4(offset);
    }
  }
  view.setUint32(offset, crc32(out.subarray(0, offset)), true);
  return out;
}

/**
 * Parses and checks a container: magic, version, header, size, checksum, tensor shapes and,
 * for f32, that every value is finite. `what` names the blob in messages ("weight blob").
 */
export function decodeContainer(bytes: Uint8Array, what: string): ContainerContents {
  if (!(bytes instanceof Uint8Array)) throw new BlobFormatError(`${what}: expected bytes (Uint8Array)`);
  if (bytes.length < 16) {
    throw new BlobFormatError(`${what} is truncated: ${bytes.length} bytes, not even a header (wrong or empty file?)`);
  }
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== CONTAINER_MAGIC) {
    const shown = /^[\x20-\x7e]{4}$/.test(magic)
      ? JSON.stringify(magic)
      : Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new BlobFormatError(`not an msrn-ts ${what}: wrong magic bytes ${shown}, expected "${CONTAINER_MAGIC}"`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== CONTAINER_VERSION) {
    throw new BlobFormatError(
      `${what} has unknown format version ${version}; this msrn-ts reads version ${CONTAINER_VERSION}`,
    );
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength + 4 > bytes.length) {
    throw new BlobFormatError(
      `${what} is truncated: the header claims ${headerLength} bytes but the file has ${bytes.length} in all`,
    );
  }
  const storedChecksum = () => view.getUint32(bytes.length - 4, true);
  const computedChecksum = () => crc32(bytes.subarray(0, bytes.length - 4));
  const checksumError = () =>
    new BlobFormatError(
      `${what} checksum mismatch: stored crc32 ${formatCrc32(storedChecksum())}, computed ${formatCrc32(
        computedChecksum(),
      )}; the file is corrupted`,
    );

  let header: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    header = parsed as Record<string, unknown>;
  } catch (error) {
    if (storedChecksum() !== computedChecksum()) throw checksumError();
    throw new BlobFormatError(`${what} has a malformed header: ${(error as Error).message}`);
  }
  if (typeof header.kind !== 'string') throw new BlobFormatError(`${what} header has no "kind"`);
  const specs = parseTensorSpecs(header.tensors, what);

  let expectedLength = 12 + headerLength;
  for (const spec of specs) expectedLength += align4(spec.count * BYTES_PER[spec.dtype]);
  expectedLength += 4;
  if (bytes.length < expectedLength) {
    throw new BlobFormatError(
      `${what} is truncated: its tensors need ${expectedLength} bytes, the file has ${bytes.length}`,
    );
  }
  if (bytes.length > expectedLength) {
    throw new BlobFormatError(
      `${what} has ${bytes.length - expectedLength} unexpected bytes after its tensors (expected ${expectedLength} bytes in all)`,
    );
  }
  const checksum = computedChecksum();
  if (storedChecksum() !== checksum) throw checksumError();

  const tensors = new Map<string, ContainerTensor>();
  let offset = 12 + headerLength;
  for (const spec of specs) {
    let data: Float32Array | Int8Array | Int32Array;
    if (spec.dtype === 'f32') {
      const values = new Float32Array(spec.count);
      for (let i = 0; i < spec.count; i++, offset += 4) {
        const v = view.getFloat32(offset, true);
        if (!Number.isFinite(v)) {
          throw new BlobFormatError(`${what}: tensor '${spec.name}' holds a non-finite value (${v}) at index ${i}`);
        }
        values[i] = v;
      }
      data = values;
    } else if (spec.dtype === 'i32') {
      const values = new Int32Array(spec.count);
      for (let i = 0; i < spec.count; i++, offset += 4) values[i] = view.getInt32(offset, true);
      data = values;
    } else {
      // A copy: `bytes` may be a Node Buffer, whose slice() is a view into a shared pool.
      data = new Int8Array(bytes.buffer, bytes.byteOffset + offset, spec.count).slice();
      offset = align4(offset + spec.count);
    }
    tensors.set(spec.name, { name: spec.name, dtype: spec.dtype, shape: spec.shape, data });
  }
  return {
    header: header as ContainerContents['header'],
    tensors,
    order: specs.map((s) => s.name),
    checksum,
    byteLength: bytes.length,
  };
}

interface ParsedSpec {
  name: string;
  dtype: DType;
  shape: number[];
  count: number;
}

function parseTensorSpecs(raw: unknown, what: string): ParsedSpec[] {
  if (!Array.isArray(raw)) throw new BlobFormatError(`${what} header has no "tensors" list`);
  const seen = new Set<string>();
  return raw.map((entry, index) => {
    const e = entry as { name?: unknown; dtype?: unknown; shape?: unknown };
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string') {
      throw new BlobFormatError(`${what}: tensor #${index} in the header has no name`);
    }
    if (seen.has(e.name)) throw new BlobFormatError(`${what}: tensor '${e.name}' appears twice`);
    seen.add(e.name);
    if (e.dtype !== 'f32' && e.dtype !== 'i8' && e.dtype !== 'i32') {
      throw new BlobFormatError(`${what}: tensor '${e.name}' has unknown dtype ${JSON.stringify(e.dtype)}`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 24)) {
      throw new BlobFormatError(`${what}: tensor '${e.name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count > 1 << 30) throw new BlobFormatError(`${what}: tensor '${e.name}' is implausibly large (${count} values)`);
    return { name: e.name, dtype: e.dtype, shape, count };
  });
}
