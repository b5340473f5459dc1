/**
 * Gang forwards (tensor/gang.ts): worker threads running one forward pass together on shared
 * memory, each computing its band of rows of every layer. They must give what one thread gives
 * on the same input, bit for bit (fp32 too: the bands are cut at the Winograd tile grid), with
 * and without a tile's core window, and a member that fails must stop the others instead of
 * leaving them waiting. Runs the built package (dist/), as the workers do.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, MaxCalibrator, Tensor, buildModelF32, decodeModel, forwardModel, quantizeModel, readWeightBlob, writeInt8Blob, writeWeightBlob } from '../../dist/index.js';
import { forwardModelEnsemble } from '../../dist/upscaler/model-runner.js';
import type { MsrnConfig, Precision, Region } from '../../dist/index.js';
import { forwardArenaBytes } from '../../dist/upscaler/gang-tile.js';
import { fixtureStateDict } from '../helpers/fixture-weights.js';
import { rng, syntheticImage } from '../helpers/random.js';

const DIST = new URL('../../dist/', import.meta.url).href;
const ARENA_OFFSET = 64; // after the barrier

// One gang member: decodes the model, joins the barrier, runs forwardModel with its gang and
// replies with the output (member 0) and the arena bytes it used.
const MEMBER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { decodeModel, forwardModel, forwardModelEnsemble } = await import('${DIST}upscaler/model-runner.js');
  const { SharedArena } = await import('${DIST}tensor/shared-arena.js');
  const { SharedBarrier } = await import('${DIST}tensor/shared-barrier.js');
  const { precision, weights, memory, member, size, height, width, image, core, ensemble } = workerData;
  const barrier = new SharedBarrier(memory, size);
  try {
    const loaded = decodeModel(precision, weights);
    const arena = new SharedArena(memory, ${ARENA_OFFSET});
    const gang = { member, size, memory: arena, sync: () => barrier.wait(), claim: () => barrier.claim() };
    const input = arena.f32('gang.input', 3, height, width);
    if (member === 0) input.data.set(image);
    gang.sync();
    const output = ensemble ? forwardModelEnsemble(loaded, input, core, gang) : forwardModel(loaded, input, core, true, gang);
    parentPort.postMessage({ output: member === 0 ? output.data.slice() : null, used: arena.usedBytes });
  } catch (error) {
    barrier.abort();
    parentPort.postMessage({ error: error.message, name: error.name });
  }
})();
`;

interface MemberReply {
  output?: Float32Array | Uint8Array | null;
  used?: number;
  error?: string;
  name?: string;
}

async function runGang(precision: Precision, weights: Uint8Array, image: Tensor<Float32Array>, size: number, core?: Region, arenaBytes = 1 << 26, ensemble = false): Promise<MemberReply[]> {
  const memory = new SharedArrayBuffer(ARENA_OFFSET + arenaBytes);
  const { height, width } = image;
  const workers = Array.from({ length: size }, (_, member) => new Worker(MEMBER, { eval: true, workerData: { precision, weights, memory, member, size, height, width, image: image.data, core, ensemble } }));
  try {
    return await Promise.all(workers.map((w) => new Promise<MemberReply>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const random = rng(77);

function blobs(config: MsrnConfig): { fp32: Uint8Array; int8?: Uint8Array } {
  const fp32 = writeWeightBlob(config, fixtureStateDict(config, 12));
  if (config.rgbRange !== 255) return { fp32 }; // int8 models are 0..255 only
  const calibrator = new MaxCalibrator(buildModelF32(readWeightBlob(fp32)));
  calibrator.addImage(syntheticImage(20, 20, random));
  return { fp32, int8: writeInt8Blob(quantizeModel(readWeightBlob(fp32), calibrator.result())) };
}

describe('a gang forward equals the one-thread forward bit for bit', () => {
  const cases: { config: MsrnConfig; height: number; width: number; size: number; core?: Region; ensemble?: boolean }[] = [
    { config: DEFAULT_CONFIG, height: 45, width: 38, size: 2 },
    { config: DEFAULT_CONFIG, height: 45, width: 38, size: 3, core: { y0: 13, y1: 30, x0: 5, x1: 33 } },
    { config: { ...DEFAULT_CONFIG, nFeats: 8, nBlocks: 1, scale: 3 }, height: 29, width: 20, size: 2 },
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 4, rgbRange: 1 }, height: 26, width: 17, size: 2, core: { y0: 0, y1: 17, x0: 3, x1: 17 } },
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 8 }, height: 13, width: 11, size: 2, core: { y0: 2, y1: 11, x0: 0, x1: 9 } },
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 2 }, height: 9, width: 12, size: 3 }, // fewer 8-row blocks than members
    // the self-ensemble: 8 gang passes, on flipped and transposed (so reshaped) inputs
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 2 }, height: 23, width: 17, size: 2, core: { y0: 4, y1: 20, x0: 0, x1: 12 }, ensemble: true },
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1, scale: 3 }, height: 14, width: 19, size: 3, ensemble: true },
    // large enough that the blocks' second halves run band by band (bandsSaveMemory): the members'
    // own band slots in the shared arena; the one-thread forward bands too
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 2 }, height: 140, width: 133, size: 2 },
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1 }, height: 203, width: 196, size: 3, core: { y0: 17, y1: 150, x0: 9, x1: 190 } },
    { config: { ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1 }, height: 131, width: 140, size: 2, ensemble: true },
  ];
  for (const { config, height, width, size, core, ensemble = false } of cases) {
    const { fp32, int8 } = blobs(config);
    const image = syntheticImage(height, width, random);
    for (const [precision, weights] of [['fp32', fp32], ['int8', int8]] as const) {
      if (!weights) continue;
      it(`${precision} x${config.scale} n_feats ${config.nFeats}, ${height}x${width}, ${size} members${core ? ', a core window' : ''}${ensemble ? ', self-ensemble' : ''}`, async () => {
        const loaded = decodeModel(precision, weights);
        const expected = ensemble ? forwardModelEnsemble(loaded, image, core) : forwardModel(loaded, image, core);
        const replies = await runGang(precision, weights, image, size, core, undefined, ensemble);
        for (const reply of replies) expect(reply.error).toBeUndefined();
        const got = replies[0].output!;
        if (core) {
          // only the core's output is defined with a window: compare it, scaled
          const s = config.scale;
          const outWidth = width * s;
          const plane = height * s * outWidth;
          for (let c = 0; c < 3; c++) {
            for (let y = core.y0 * s; y < core.y1 * s; y++) {
              const from = c * plane + y * outWidth;
              expect(got.subarray(from + core.x0 * s, from + core.x1 * s)).toEqual(expected.data.subarray(from + core.x0 * s, from + core.x1 * s));
            }
          }
        } else {
          // the first differing element, not toEqual: a diff of 100,000s of elements takes vitest minutes
          expect(got.length).toBe(expected.data.length);
          expect(got.findIndex((v, i) => v !== expected.data[i])).toBe(-1);
        }
        // the shared buffer's size comes from forwardArenaBytes: exactly what the forward asks for
        for (const reply of replies) expect(reply.used).toBe(forwardArenaBytes(config, precision, height, width, size, ensemble));
      });
    }
  }
});

describe('gang failures', () => {
  const int8 = blobs({ ...DEFAULT_CONFIG, nFeats: 4, nBlocks: 1 }).int8!;

  it('a member that throws stops the others (GangAbortedError) instead of leaving them at a barrier', async () => {
    const image = syntheticImage(32, 16, random);
    image.data[3 * 16 * 32 - 1] = 0.5; // not an 8-bit value, in the last member's rows only
    const replies = await runGang('int8', int8, image, 2);
    expect(replies[1].error).toMatch(/not an integer 0\.\.255/);
    expect(replies[0].name).toBe('GangAbortedError');
  });

  it('an arena too small for the forward throws a clear error', async () => {
    const image = syntheticImage(16, 16, random);
    const replies = await runGang('int8', int8, image, 2, undefined, 4096);
    for (const reply of replies) expect(reply.error).toMatch(/shared arena: slot .* the arena holds|another member of the gang failed/);
    expect(replies.some((r) => /shared arena/.test(r.error ?? ''))).toBe(true);
  });
});
