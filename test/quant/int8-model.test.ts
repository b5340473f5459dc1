import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/msrn/config.js';
import { BlobFormatError, encodeContainer } from '../../src/msrn/container.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { buildModelF32 } from '../../src/msrn/model-f32.js';
import { readWeightBlob, writeWeightBlob } from '../../src/msrn/weights-blob.js';
import {
  MaxCalibrator,
  QuantizationError,
  buildInt8Model,
  checkInt8MatchesFp32,
  compareInt8,
  forwardInt8,
  int8Graph,
  quantizeModel,
  readInt8Blob,
  writeInt8Blob,
} from '../../src/quant/index.js';
import { toByte } from '../../src/image/pixels.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { WINOGRAD_VARIANTS, winogradIntegerErrorBound } from '../../src/ops/conv2d-winograd.js';
import { WINOGRAD_INT8_MAX_ERROR, packWinogradIfExact } from '../../src/quant/int8-model.js';
import { rng, syntheticImage } from '../helpers/random.js';

const config = { ...DEFAULT_CONFIG, nFeats: 8, nBlocks: 2 };
const fp32Bytes = writeWeightBlob(config, fixtureStateDict(config, 21));
const fp32Blob = readWeightBlob(fp32Bytes);
const fp32 = buildModelF32(fp32Blob);
const random = rng(5);
const calibrator = new MaxCalibrator(fp32);
for (let i = 0; i < 3; i++) calibrator.addImage(syntheticImage(24, 30, random));
const calibration = calibrator.result();
const data = quantizeModel(fp32Blob, calibration);
const int8Bytes = writeInt8Blob(data);

/** Re-encode the int8 blob with a modified header or tensor list (valid checksum). */
function reencode(edit: (header: Record<string, unknown>, tensors: typeof data.tensors) => typeof data.tensors | void): Uint8Array {
  const header: Record<string, unknown> = JSON.parse(JSON.stringify({ config, fp32Checksum: data.fp32Checksum, calibration, scales: data.scales }));
  const tensors = edit(header, data.tensors) ?? data.tensors;
  return encodeContainer('msrn-int8', header, tensors);
}

describe('max calibration', () => {
  it('observes every quantization point and the per-conv tensors, with features = max(head, blocks)', () => {
    for (const point of int8Graph(config).points) expect(calibration.maxAbs[point]).toBeGreaterThan(0);
    const { maxAbs } = calibration;
    expect(maxAbs.features).toBe(Math.max(maxAbs.head, maxAbs['body.0'], maxAbs['body.1']));
    expect(maxAbs['body.0.cat1']).toBe(Math.max(maxAbs['body.0.conv_3_1'], maxAbs['body.0.conv_5_1']));
    expect(calibration.images).toBe(3);
  });

  it('gives the same maxima whatever the tile size (only tile cores count)', () => {
    const image = syntheticImage(37, 45, random);
    const whole = new MaxCalibrator(fp32, 1000);
    whole.addImage(image);
    for (const tileSize of [7, 16]) {
      const tiled = new MaxCalibrator(fp32, tileSize);
      tiled.addImage(image);
      expect(tiled.result().maxAbs).toEqual(whole.result().maxAbs);
    }
  });

  it('percentile: the range covers the given share of |x|, to the histogram resolution, never above the max', () => {
    const image = syntheticImage(30, 34, random);
    const values = new Map<string, Float32Array>();
    forwardF32(fp32, image, (name, t) => values.set(name, t.data.map(Math.abs)));
    const calibrator = new MaxCalibrator(fp32, 256, { method: 'percentile', percentile: 99 });
    calibrator.addImage(image);
    const stats = calibrator.result();
    expect(stats.method).toBe('percentile');
    for (const name of ['input', 'features', 'body.1.cat2', 'tail.3']) {
      const sorted = Float64Array.from(values.get(name)!).sort();
      const exact = sorted[Math.ceil(0.99 * sorted.length) - 1];
      const range = stats.range![name];
      expect(range).toBeGreaterThanOrEqual(exact);
      expect(range).toBeLessThanOrEqual(exact * 2 ** (1 / 64) * 1.0000001);
      expect(range).toBeLessThanOrEqual(stats.maxAbs[name]);
    }
    const data = quantizeModel(fp32Blob, stats);
    expect(data.scales.features).toBeCloseTo(stats.range!.features / 127, 12);
    expect(data.scales.features).toBeLessThan(stats.maxAbs.features / 127);
    const back = readInt8Blob(writeInt8Blob(data));
    expect(back.calibration).toEqual(stats);
    expect(() => new MaxCalibrator(fp32, 256, { method: 'percentile', percentile: 0 })).toThrow(/percentile must be in \(0, 100\]/);
  });

  it('refuses to quantize when a tensor is always zero (blank calibration images)', () => {
    const stats = { ...calibration, maxAbs: { ...calibration.maxAbs, 'tail.1': 0 } };
    expect(() => quantizeModel(fp32Blob, stats)).toThrow(QuantizationError);
    expect(() => quantizeModel(fp32Blob, stats)).toThrow(/'tail.1' a max \|x\| of 0/);
    expect(() => new MaxCalibrator(fp32).result()).toThrow(/at least one image/);
  });
});

describe('int8 model', () => {
  it('runs every 3x3 and 5x5 conv as Winograd (its rounding bound allows it), the rest direct', () => {
    const model = buildInt8Model(readInt8Blob(int8Bytes));
    for (const [name, conv] of model.convs) {
      expect([name, conv.winograd != null]).toEqual([name, conv.packed.kernelSize > 1]);
    }
  });

  it('gives each 5x5 conv the largest Winograd tile its rounding bound allows', () => {
    // the shipped model: every 5x5 layer takes F(8x8, 5x5), its bound far below the 1/4 required
    const shipped = readInt8Blob(new Uint8Array(readFileSync(new URL('../../weights/msrn_x2.int8.bin', import.meta.url))));
    const model = buildInt8Model(shipped);
    const byName = new Map(shipped.tensors.map((t) => [t.name, t.data]));
    let fiveByFive = 0;
    for (const [name, conv] of model.convs) {
      if (conv.packed.kernelSize !== 5) continue;
      fiveByFive++;
      expect([name, conv.winograd?.variant]).toEqual([name, WINOGRAD_VARIANTS.F8_5]);
      const weight = byName.get(`${name}.weight`) as Int8Array;
      const bias = byName.get(`${name}.bias`) as Int32Array;
      const bound = winogradIntegerErrorBound(weight, bias, conv.packed.outChannels, conv.packed.inChannels, 'F8_5', 255);
      expect(bound).toBeLessThan(WINOGRAD_INT8_MAX_ERROR / 2);
    }
    expect(fiveByFive).toBe(2 * shipped.config.nBlocks);
    // worst-case weights (all +-127 over 32 input channels) push F(8x8, 5x5) past 1/4: the
    // layer falls back to F(6x6, 5x5), still provably exact
    const [cin, cout] = [32, 8];
    const weight = Int8Array.from({ length: cout * cin * 25 }, (_, i) => (i % 3 === 0 ? -127 : 127));
    const bias = new Int32Array(cout);
    expect(winogradIntegerErrorBound(weight, bias, cout, cin, 'F8_5', 255)).toBeGreaterThan(WINOGRAD_INT8_MAX_ERROR);
    expect(packWinogradIfExact(weight, bias, cout, cin, 5)?.variant).toBe(WINOGRAD_VARIANTS.F6_5);
  });

  it('round-trips through the blob', () => {
    const back = readInt8Blob(int8Bytes);
    expect(back.config).toEqual(config);
    expect(back.scales).toEqual(data.scales);
    expect(back.calibration).toEqual(calibration);
    expect(back.fp32Checksum).toBe(fp32Blob.checksum);
    expect(back.tensors.map((t) => t.name)).toEqual(data.tensors.map((t) => t.name));
    back.tensors.forEach((t, i) => expect(t.data).toEqual(data.tensors[i].data));
    expect(() => checkInt8MatchesFp32(back, fp32Blob)).not.toThrow();
  });

  it('reads the same from a Node Buffer inside a larger pool (as readFile returns)', () => {
    const pool = Buffer.alloc(int8Bytes.length + 100);
    pool.set(int8Bytes, 37);
    const back = readInt8Blob(pool.subarray(37, 37 + int8Bytes.length));
    back.tensors.forEach((t, i) => expect(t.data).toEqual(data.tensors[i].data));
  });

  it('stays close to fp32 on an image it was not calibrated on', () => {
    const image = syntheticImage(20, 26, random);
    const model = buildInt8Model(readInt8Blob(int8Bytes));
    const q = forwardInt8(model, image);
    const f = forwardF32(fp32, image);
    let se = 0;
    for (let i = 0; i < q.data.length; i++) se += (q.data[i] - toByte(f.data[i])) ** 2;
    const psnr = 10 * Math.log10((255 * 255) / (se / q.data.length));
    expect(psnr).toBeGreaterThan(30);
    expect(psnr).toBeLessThan(80); // it is a different path: not silently the fp32 one
  });

  it('compare: the same report tile by tile as on the whole image', () => {
    const model = buildInt8Model(data);
    const image = syntheticImage(33, 41, random);
    const whole = compareInt8(fp32, model, image, 1000);
    const tiled = compareInt8(fp32, model, image, 9);
    expect(tiled.int8Output.data).toEqual(whole.int8Output.data);
    expect(tiled.fp32Output.data).toEqual(whole.fp32Output.data);
    expect(tiled.psnr).toBe(whole.psnr);
    expect(tiled.points.map((p) => p.name)).toEqual(whole.points.map((p) => p.name));
    tiled.points.forEach((p, i) => {
      expect(p.sqnr).toBeCloseTo(whole.points[i].sqnr, 9); // sums in another order
      expect(p.clipped).toBe(whole.points[i].clipped);
    });
    expect(whole.points.find((p) => p.name === 'body.1')!.point).toBe('features');
  });

  it('is deterministic and rejects non-8-bit input', () => {
    const model = buildInt8Model(data);
    const image = syntheticImage(9, 7, random);
    expect(forwardInt8(model, image).data).toEqual(forwardInt8(model, image).data);
    image.data[5] = 3.5;
    expect(() => forwardInt8(model, image)).toThrow(/not an integer 0..255/);
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['a zero scale', () => reencode((h) => { (h.scales as Record<string, number>)['body.1.cat2'] = 0; }), /scale of 'body.1.cat2' is 0/],
    ['a non-finite scale', () => reencode((h) => { (h.scales as Record<string, unknown>).features = null; }), /scale of 'features' is null/],
    ['a missing scale', () => reencode((h) => { delete (h.scales as Record<string, number>)['tail.3']; }), /scale of 'tail.3' is null/],
    ['a truncated file', () => int8Bytes.slice(0, int8Bytes.length - 7), /truncated/],
    ['fp32 weights', () => fp32Bytes, /expected kind "msrn-int8", found "msrn-fp32"/],
    ['a bad multiplier', () => reencode((_h, t) => t.map((x) => (x.name === 'tail.1.multiplier' ? { ...x, data: new Int32Array(x.data.length).fill(5) } : x))), /tail.1 channel 0 has multiplier 5/],
    ['a zero weight scale', () => reencode((_h, t) => t.map((x) => (x.name === 'head.0.weight_scale' ? { ...x, data: new Float32Array(x.data.length) } : x))), /head.0 channel 0 has weight scale 0/],
    ['a bad add', () => reencode((_h, t) => t.map((x) => (x.name === 'body.0.add' ? { ...x, data: Int32Array.from([19, ...Array.from(x.data).slice(1)]) } : x))), /body.0.add has left shift 19/],
    ['a missing tensor', () => reencode((_h, t) => t.filter((x) => x.name !== 'tail.0.shift')), /missing tensor 'tail.0.shift'/],
  ];
  for (const [what, make, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => readInt8Blob(make())).toThrow(BlobFormatError);
      expect(() => readInt8Blob(make())).toThrow(message);
    });
  }

  it('refuses to pair with fp32 weights of another config or another training', () => {
    const back = readInt8Blob(int8Bytes);
    const otherConfig = { ...config, nBlocks: 1 };
    const other = readWeightBlob(writeWeightBlob(otherConfig, fixtureStateDict(otherConfig, 21)));
    expect(() => checkInt8MatchesFp32(back, other)).toThrow(/int8 model is MSRN n_feats 8, n_blocks 2, x2 but the fp32 weights are n_feats 8, n_blocks 1, x2/);
    const retrained = readWeightBlob(writeWeightBlob(config, fixtureStateDict(config, 22)));
    expect(() => checkInt8MatchesFp32(back, retrained)).toThrow(/calibrated from fp32 weights crc32 [0-9a-f]{8}, but these are crc32/);
  });
});
