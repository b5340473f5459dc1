import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, expectedTensors, macsPerInputPixel, parameterCount, receptiveFieldRadius, upsamplerStages } from '../../src/msrn/config.js';
import { BlobFormatError, ContainerTensor, encodeContainer } from '../../src/msrn/container.js';
import { crc32 } from '../../src/msrn/crc32.js';
import { FP32_BLOB_KIND, readWeightBlob, writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';

const config = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1 };
const tensors = fixtureStateDict(config, 3);
const good = writeWeightBlob(config, tensors, { source: 'test' });

/** Re-encode with the given tensor list, keeping a valid checksum, so only the content is wrong. */
function blobWith(list: ContainerTensor[], header: Record<string, unknown> = { config }): Uint8Array {
  return encodeContainer(FP32_BLOB_KIND, header, list);
}
const asList = (map: Map<string, Float32Array>): ContainerTensor[] =>
  [...map].map(([name, data]) => ({ name, dtype: 'f32', shape: expectedTensors(config).find((s) => s.name === name)!.shape, data }));

/** Fix up the trailing CRC after editing bytes, so a test reaches the check it targets. */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

describe('config arithmetic', () => {
  it("matches the model card: 102,579 parameters, 103,536 MACs per LR pixel", () => {
    expect(parameterCount(DEFAULT_CONFIG)).toBe(102_579);
    expect(parameterCount(DEFAULT_CONFIG, true)).toBe(102_579 + 24);
    expect(macsPerInputPixel(DEFAULT_CONFIG)).toBe(103_536);
  });

  it('names the upsampler convs as the official Upsampler does', () => {
    expect(upsamplerStages(2).map((s) => s.prefix)).toEqual(['tail.2.0']);
    expect(upsamplerStages(4).map((s) => s.prefix)).toEqual(['tail.2.0', 'tail.2.2']);
    expect(upsamplerStages(8).map((s) => s.prefix)).toEqual(['tail.2.0', 'tail.2.2', 'tail.2.4']);
    expect(upsamplerStages(3)).toEqual([{ factor: 3, prefix: 'tail.2.0' }]);
    expect(expectedTensors({ ...DEFAULT_CONFIG, scale: 3 }).find((s) => s.name === 'tail.2.0.weight')!.shape).toEqual([144, 16, 3, 3]);
  });

  it('gives a receptive field radius covering every conv (x2 default: 12 LR pixels)', () => {
    expect(receptiveFieldRadius(DEFAULT_CONFIG)).toBe(12);
  });
});

describe('weight blob', () => {
  it('round-trips config, tensors, checksum and meta', () => {
    const blob = readWeightBlob(good);
    expect(blob.config).toEqual(config);
    expect(blob.meta).toEqual({ source: 'test' });
    expect(blob.checksum).toBe(new DataView(good.buffer).getUint32(good.length - 4, true));
    for (const [name, data] of tensors) expect(blob.tensors.get(name)).toEqual(data);
  });

  it('reads a blob that sits at an odd offset inside a larger buffer', () => {
    const big = new Uint8Array(good.length + 3);
    big.set(good, 3);
    expect(readWeightBlob(big.subarray(3)).config).toEqual(config);
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['wrong magic', () => { const b = good.slice(); b[0] = 0x50; return b; }, /wrong magic bytes "PSRN"/],
    ['an empty file', () => new Uint8Array(0), /truncated: 0 bytes/],
    ['unknown version', () => { const b = good.slice(); new DataView(b.buffer).setUint32(4, 9, true); return b; }, /unknown format version 9/],
    ['truncated data', () => good.slice(0, good.length - 100), /truncated: its tensors need \d+ bytes, the file has \d+/],
    ['truncated header', () => good.slice(0, 40), /truncated: the header claims/],
    ['trailing bytes', () => { const b = new Uint8Array(good.length + 8); b.set(good); return b; }, /8 unexpected bytes/],
    ['a flipped data byte', () => { const b = good.slice(); b[b.length - 50] ^= 1; return b; }, /checksum mismatch: stored crc32 [0-9a-f]{8}, computed [0-9a-f]{8}/],
    ['a malformed header', () => { const b = good.slice(); b[12] = 0x7b + 1; return resealed(b); }, /malformed header/],
    ['a missing tensor', () => { const m = new Map(tensors); m.delete('body.0.conv_5_2.bias'); return blobWith(asList(m)); }, /missing tensor 'body.0.conv_5_2.bias'/],
    ['an extra tensor', () => blobWith([...asList(tensors), { name: 'body.1.conv_3_1.weight', dtype: 'f32', shape: [1], data: new Float32Array(1) }]), /unexpected tensor 'body.1.conv_3_1.weight'/],
    ['a shape that disagrees with the config', () => blobWith(asList(tensors), { config: { ...config, nFeats: 5 } }), /tensor 'head.0.weight' has shape \[4, 3, 3, 3\], but n_feats 5, n_blocks 1, x2 needs \[5, 3, 3, 3\]/],
    ['a NaN weight', () => { const m = new Map(tensors); const w = m.get('tail.1.weight')!.slice(); w[5] = NaN; m.set('tail.1.weight', w); return blobWith(asList(m)); }, /tensor 'tail.1.weight' holds a non-finite value \(NaN\) at index 5/],
    ['an infinite bias', () => { const m = new Map(tensors); const w = m.get('head.0.bias')!.slice(); w[0] = -Infinity; m.set('head.0.bias', w); return blobWith(asList(m)); }, /non-finite value \(-Infinity\)/],
    ['an unsupported scale', () => blobWith(asList(tensors), { config: { ...config, scale: 5 } }), /scale must be one of 2, 3, 4, 8, got 5/],
    ['no config', () => blobWith(asList(tensors), {}), /no model config/],
    ['an int8 model', () => encodeContainer('msrn-int8', { config }, []), /expected kind "msrn-fp32", found "msrn-int8" \(an int8 model/],
  ];
  for (const [what, make, message] of cases) {
    it(`rejects ${what} with a clear message`, () => {
      let caught: unknown;
      try {
        readWeightBlob(make());
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(BlobFormatError);
      expect((caught as Error).message).toMatch(message);
    });
  }

  it('refuses to write an incomplete state_dict', () => {
    const m = new Map(tensors);
    m.delete('head.0.weight');
    expect(() => writeWeightBlob(config, m)).toThrow(/missing tensor 'head.0.weight'/);
  });
});
