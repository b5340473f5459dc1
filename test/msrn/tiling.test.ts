import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, MsrnConfig, receptiveFieldRadius } from '../../src/msrn/config.js';
import { forwardF32 } from '../../src/msrn/forward-f32.js';
import { buildModelF32 } from '../../src/msrn/model-f32.js';
import { forwardTiled, planTiles } from '../../src/msrn/tiling.js';
import { readWeightBlob, writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { releaseScratch } from '../../src/tensor/scratch.js';
import { MaxCalibrator, buildInt8Model, forwardInt8, quantizeModel } from '../../src/quant/index.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { maxAbsError, rng, syntheticImage } from '../helpers/random.js';

const random = rng(31);

function models(config: MsrnConfig) {
  const blob = readWeightBlob(writeWeightBlob(config, fixtureStateDict(config, 40)));
  const fp32 = buildModelF32(blob);
  const calibrator = new MaxCalibrator(fp32);
  calibrator.addImage(syntheticImage(20, 20, random));
  return { fp32, int8: buildInt8Model(quantizeModel(blob, calibrator.result())) };
}

describe('planTiles', () => {
  it('covers the image exactly once with near-equal tiles and clipped halos', () => {
    for (const [h, w, t] of [[1, 1, 4], [10, 7, 3], [33, 50, 16], [5, 5, 100]]) {
      const tiles = planTiles(h, w, t, 2);
      const covered = new Uint8Array(h * w);
      for (const tile of tiles) {
        expect(tile.width * tile.height).toBeLessThanOrEqual(t * t);
        expect(tile.haloX).toBeGreaterThanOrEqual(0);
        expect(tile.haloX + tile.haloWidth).toBeLessThanOrEqual(w);
        for (let y = tile.y; y < tile.y + tile.height; y++) for (let x = tile.x; x < tile.x + tile.width; x++) covered[y * w + x]++;
      }
      expect(covered.every((c) => c === 1)).toBe(true);
    }
    expect(() => planTiles(4, 4, 0, 1)).toThrow(/tile size/);
  });

  it('picks the grid that computes the fewest halo pixels, with at least minTiles tiles', () => {
    // 270x480 in tiles of at most 256x256 pixels: two 270x240 tiles (5% halo) beat four 135x240 (30%).
    const two = planTiles(270, 480, 256, 12);
    expect(two.map((t) => [t.height, t.width])).toEqual([[270, 240], [270, 240]]);
    expect(planTiles(100, 100, 256, 12)).toHaveLength(1);
    expect(planTiles(100, 100, 256, 12, 3)).toHaveLength(3);
    expect(planTiles(1, 1, 256, 12, 4)).toHaveLength(1); // cannot cut one pixel in four
  });
});

// int8 is integer arithmetic: bit for bit, always. fp32 runs its 3x3 and 5x5 convs as Winograd
// blocks anchored to the tile, in float64, rounded to float32 per layer: a different tiling can
// move a float32 rounding (rarely: the float64 results differ by about 1e-14 relative), so fp32
// is held to float32 precision. The same tiling always gives the same bytes, on any thread count.
const FP32_TILE_TOLERANCE = 1e-4; // on the 0..255 output; one float32 step at 255 is 1.5e-5

describe('tiled inference equals whole-image inference (int8 bit for bit, fp32 to float32 rounding)', () => {
  for (const config of [
    { ...DEFAULT_CONFIG },
    { ...DEFAULT_CONFIG, nFeats: 8, nBlocks: 1, scale: 3 as const },
    { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 4 as const },
  ]) {
    const { fp32, int8 } = models(config);
    const halo = receptiveFieldRadius(config);
    // Larger than a tile plus two halos, so interior tiles really are cut off on all sides.
    const image = syntheticImage(40, 44, random);
    const wholeF32 = forwardF32(fp32, image);
    const wholeI8 = forwardInt8(int8, image);
    for (const tileSize of [9, 16, 64]) {
      it(`x${config.scale}, n_feats ${config.nFeats}, tile ${tileSize}, halo ${halo}`, () => {
        const tiled = forwardTiled((t) => forwardF32(fp32, t), image, config.scale, tileSize, halo);
        expect(maxAbsError(tiled.data, wholeF32.data)).toBeLessThan(FP32_TILE_TOLERANCE);
        expect(forwardTiled((t) => forwardInt8(int8, t), image, config.scale, tileSize, halo).data).toEqual(wholeI8.data);
      });
      it(`x${config.scale}, n_feats ${config.nFeats}, tile ${tileSize}: each layer only where the core needs it`, () => {
        const tiled = forwardTiled((t, core) => forwardF32(fp32, t, undefined, core), image, config.scale, tileSize, halo);
        expect(maxAbsError(tiled.data, wholeF32.data)).toBeLessThan(FP32_TILE_TOLERANCE);
        expect(forwardTiled((t, core) => forwardInt8(int8, t, undefined, core), image, config.scale, tileSize, halo).data).toEqual(wholeI8.data);
      });
    }
  }

  it('x8 (three upsampler stages, two of them unfolded in fp32): each layer only where the core needs it', () => {
    const config = { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 8 as const };
    const { fp32, int8 } = models(config);
    const image = syntheticImage(20, 23, random);
    const halo = receptiveFieldRadius(config);
    const tiled = forwardTiled((t, core) => forwardF32(fp32, t, undefined, core), image, 8, 8, halo);
    expect(maxAbsError(tiled.data, forwardF32(fp32, image).data)).toBeLessThan(FP32_TILE_TOLERANCE);
    expect(forwardTiled((t, core) => forwardInt8(int8, t, undefined, core), image, 8, 8, halo).data).toEqual(forwardInt8(int8, image).data);
  });

  it('works down to 1x1 tiles', () => {
    const { fp32, int8 } = models(DEFAULT_CONFIG);
    const image = syntheticImage(3, 4, random);
    const halo = receptiveFieldRadius(DEFAULT_CONFIG);
    expect(maxAbsError(forwardTiled((t) => forwardF32(fp32, t), image, 2, 1, halo).data, forwardF32(fp32, image).data)).toBeLessThan(
      FP32_TILE_TOLERANCE,
    );
    expect(forwardTiled((t) => forwardInt8(int8, t), image, 2, 1, halo).data).toEqual(forwardInt8(int8, image).data);
    const windowed = forwardTiled((t, core) => forwardF32(fp32, t, undefined, core), image, 2, 1, halo);
    expect(maxAbsError(windowed.data, forwardF32(fp32, image).data)).toBeLessThan(FP32_TILE_TOLERANCE);
    expect(forwardTiled((t, core) => forwardInt8(int8, t, undefined, core), image, 2, 1, halo).data).toEqual(forwardInt8(int8, image).data);
  });

  it('with the core given, a tile\'s bytes do not depend on what earlier runs left in the scratch tensors', () => {
    const { fp32, int8 } = models(DEFAULT_CONFIG);
    const image = syntheticImage(36, 40, random);
    const other = syntheticImage(36, 40, random);
    const halo = receptiveFieldRadius(DEFAULT_CONFIG);
    const run = () => ({
      fp32: forwardTiled((t, core) => forwardF32(fp32, t, undefined, core), image, 2, 12, halo).data,
      int8: forwardTiled((t, core) => forwardInt8(int8, t, undefined, core), image, 2, 12, halo).data,
    });
    releaseScratch();
    const fresh = run(); // zeroed scratch
    forwardF32(fp32, other);
    forwardInt8(int8, other); // the scratch now holds another image's activations
    const reused = run();
    expect(reused.fp32).toEqual(fresh.fp32);
    expect(reused.int8).toEqual(fresh.int8);
  });

  it('needs the halo: one pixel less than the receptive field changes the output', () => {
    const { fp32 } = models(DEFAULT_CONFIG);
    const image = syntheticImage(30, 30, random);
    const whole = forwardF32(fp32, image);
    const short = forwardTiled((t) => forwardF32(fp32, t), image, 2, 10, receptiveFieldRadius(DEFAULT_CONFIG) - 1);
    expect(maxAbsError(short.data, whole.data)).toBeGreaterThan(100 * FP32_TILE_TOLERANCE);
  });
});
