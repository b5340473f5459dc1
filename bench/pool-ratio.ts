/**
 * `npm run bench:pool [-- --rounds 20 --precision int8 --threads 2 --baseline <checkout>]`: how
 * much faster the worker pool runs the 270x480 frame than one thread, timed in the same rounds:
 * each round runs a 1-thread forward and the pool's upscale (RGB pixels in, RGBA out) of the
 * same frame, in rotating order, in one process. With `--baseline`, the dist/ of another
 * checkout (built, e.g. a `git worktree` of an older commit) gets its own pool in the same
 * rounds, for a before/after on the same minutes of a shared machine. Medians and fastest runs.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_INT8_WEIGHTS_PATH, DEFAULT_WEIGHTS_PATH, createUpscaler, decodeModel, forwardModel } from 'msrn-ts';
import { FRAME_HEIGHT as H, FRAME_WIDTH as W, argNumber, argValue, syntheticFrame } from './lib/setup.js';

const rounds = argNumber('rounds', 20);
const threads = argNumber('threads', 2);
const precision = (argValue('precision') ?? 'fp32') as 'fp32' | 'int8';
const baseline = argValue('baseline');

const weights = readFileSync(precision === 'fp32' ? DEFAULT_WEIGHTS_PATH : DEFAULT_INT8_WEIGHTS_PATH);
const frame = syntheticFrame();
const rgb = new Uint8Array(H * W * 3);
for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = frame.data[c * H * W + i];
const pixels = { data: rgb, width: W, height: H, channels: 3 as const };

const loaded = decodeModel(precision, weights);
const pool = await createUpscaler({ precision, weights, threads });
type Pool = { upscale(input: typeof pixels): Promise<unknown>; dispose(): Promise<void> };
let before: Pool | undefined;
if (baseline) {
  const other = (await import(pathToFileURL(join(resolve(baseline), 'dist', 'index.js')).href)) as { createUpscaler(options: object): Promise<Pool> };
  before = await other.createUpscaler({ precision, weights, threads });
}

const tasks: [string, () => unknown][] = [
  ['1 thread (forward)', () => forwardModel(loaded, frame)],
  [`pool, ${threads} threads`, () => pool.upscale(pixels)],
  ...(before ? [[`baseline pool, ${threads} threads`, () => before!.upscale(pixels)] as [string, () => unknown]] : []),
];
const times = tasks.map(() => [] as number[]);
for (let round = -1; round < rounds; round++) {
  // rotate the order each round; round -1 warms up and is not counted
  for (let j = 0; j < tasks.length; j++) {
    const t = (j + Math.max(0, round)) % tasks.length;
    const start = performance.now();
    await tasks[t][1]();
    if (round >= 0) times[t].push(performance.now() - start);
  }
}
await pool.dispose();
await before?.dispose();

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const fastest = (a: number[]) => Math.min(...a);
const [one] = times;
console.log(`# ${H}x${W} frame, ${precision}, ${rounds} rounds${baseline ? `, baseline ${baseline}` : ''}`);
console.log('| run | median ms | fastest ms | 1 thread / this (medians) | (fastest) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [i, [name]] of tasks.entries()) {
  const ratio = (f: (a: number[]) => number) => (i === 0 ? '' : `${(f(one) / f(times[i])).toFixed(2)}x`);
  console.log(`| ${name} | ${median(times[i]).toFixed(0)} | ${fastest(times[i]).toFixed(0)} | ${ratio(median)} | ${ratio(fastest)} |`);
}
