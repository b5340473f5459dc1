import { describe, expect, it } from 'vitest';
import { Tensor, zerosF32 } from '../../src/tensor/tensor.js';
import { DEFAULT_CONFIG, MsrnConfig } from '../../src/msrn/config.js';
import { loadModelF32 } from '../../src/msrn/model-f32.js';
import { writeWeightBlob } from '../../src/msrn/weights-blob.js';
import { BLOCK_BAND_ROWS, bandsSaveMemory, blockBandsF32, blockSecondHalfF32 } from '../../src/msrn/block-bands.js';
import { conv2dF32 } from '../../src/ops/conv2d-f32.js';
import { conv2dF32Reference } from '../../src/ops/conv2d-reference.js';
import { add } from '../../src/ops/elementwise.js';
import { ConvWindow, wholeWindow } from '../../src/tensor/region.js';
import { threadMemory } from '../../src/tensor/gang.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { maxAbsError, randomTensor, rng } from '../helpers/random.js';

const random = rng(57);

/**
 * The banded second half of an MSRB (block-bands.ts) against the same layers run whole: conv_3_2
 * and conv_5_2 into a whole cat2, the confusion, the residual add. On the window's rows and
 * columns it must give the same bits (each band computes the same Winograd tiles from the same
 * inputs), and write nothing outside them. Shapes: smaller than one band, several bands with a
 * partial last one, widths no multiple of the tile; windows: the whole tensor, and a tile's
 * (an output inside the tensor, an input region the producer computed); rows: all of the
 * window, or a gang member's chunk (from an 8-row block boundary, ending mid-band).
 */
describe('blockSecondHalfF32 equals conv_3_2, conv_5_2, confusion and add run whole', () => {
  const n = 4;
  const config: MsrnConfig = { ...DEFAULT_CONFIG, nFeats: n, nBlocks: 1 };
  const tensors = fixtureStateDict(config, 58);
  const block = loadModelF32(writeWeightBlob(config, tensors)).blocks[0];
  const w = (name: string) => tensors.get(name)!;

  const cases: { h: number; w: number; window?: ConvWindow; rows?: [number, number] }[] = [
    { h: 1, w: 1 },
    { h: 5, w: 3 },
    { h: 9, w: 12 },
    { h: BLOCK_BAND_ROWS, w: 10 },
    { h: 2 * BLOCK_BAND_ROWS + 13, w: 21 },
    { h: 50, w: 19, window: { output: { y0: 6, y1: 41, x0: 3, x1: 15 }, input: { y0: 4, y1: 43, x0: 1, x1: 17 } } },
    { h: 80, w: 9, rows: [16, 59] }, // a chunk: from a block boundary, ending inside a band
    { h: 60, w: 14, window: { output: { y0: 3, y1: 57, x0: 0, x1: 14 }, input: { y0: 1, y1: 59, x0: 0, x1: 14 } }, rows: [11, 35] },
  ];
  for (const { h, w: width, window, rows } of cases) {
    it(`${h}x${width}${window ? ', a tile window' : ''}${rows ? `, rows ${rows[0]}..${rows[1]}` : ''}`, () => {
      const whole = window ?? wholeWindow(h, width);
      const cat1 = randomTensor(2 * n, h, width, random, 3);
      const blockInput = randomTensor(n, h, width, random, 3);
      // zero outside the input region, as a tiled forward's producer leaves it undefined there
      // (the convs read zeros there either way; the whole reference gets the same view)
      const y0 = rows ? rows[0] : whole.output.y0;
      const y1 = rows ? rows[1] : whole.output.y1;

      const cat2 = zerosF32(4 * n, h, width);
      conv2dF32(cat1, block.conv3x3Second, cat2.channelSlice(0, 2 * n), true, whole);
      conv2dF32(cat1, block.conv5x5Second, cat2.channelSlice(2 * n, 2 * n), true, whole);
      const expected = zerosF32(n, h, width);
      conv2dF32(cat2, block.confusion, expected, false, { input: whole.output, output: whole.output });
      add(expected, blockInput, expected);

      const got = new Tensor(n, h, width, new Float32Array(n * h * width).fill(Number.NaN));
      blockSecondHalfF32(block, cat1, blockInput, got, whole, { y0, y1 }, blockBandsF32(threadMemory, n, h, width));
      for (let c = 0; c < n; c++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < width; x++) {
            const i = (c * h + y) * width + x;
            if (y >= y0 && y < y1 && x >= whole.output.x0 && x < whole.output.x1) expect(got.data[i]).toBe(expected.data[i]);
            else expect(got.data[i]).toBeNaN(); // not written
          }
        }
      }
    });
  }

  it('agrees with the plain reference convs (whole tensor, several bands)', () => {
    const h = 45;
    const width = 11;
    const cat1 = randomTensor(2 * n, h, width, random, 3);
    const blockInput = randomTensor(n, h, width, random, 3);
    const cat2 = zerosF32(4 * n, h, width);
    conv2dF32Reference(cat1, w('body.0.conv_3_2.weight'), w('body.0.conv_3_2.bias'), cat2.channelSlice(0, 2 * n), 3, true);
    conv2dF32Reference(cat1, w('body.0.conv_5_2.weight'), w('body.0.conv_5_2.bias'), cat2.channelSlice(2 * n, 2 * n), 5, true);
    const expected = zerosF32(n, h, width);
    conv2dF32Reference(cat2, w('body.0.confusion.weight'), w('body.0.confusion.bias'), expected, 1, false);
    add(expected, blockInput, expected);
    const got = zerosF32(n, h, width);
    const whole = wholeWindow(h, width);
    blockSecondHalfF32(block, cat1, blockInput, got, whole, whole.output, blockBandsF32(threadMemory, n, h, width));
    expect(maxAbsError(got.data, expected.data)).toBeLessThan(1e-4);
  });
});

describe('bandsSaveMemory', () => {
  it('bands where the threads\' band tensors are smaller than the whole cat2', () => {
    expect(bandsSaveMemory(270, 480, 2)).toBe(true); // the frame: 241,920 against 518,400 per feature
    expect(bandsSaveMemory(280, 280, 1)).toBe(true); // a default 1-thread tile with its halo
    expect(bandsSaveMemory(45, 38, 2)).toBe(false); // small images keep cat2 whole
    expect(bandsSaveMemory(1048, 1048, 16)).toBe(true); // 16 threads' gang tile: just under break-even
    expect(bandsSaveMemory(2072, 2072, 64)).toBe(false); // 64 threads: the bands would take twice cat2
    expect(bandsSaveMemory(480, 270, 2)).toBe(bandsSaveMemory(270, 480, 2)); // transposed alike
  });
});
