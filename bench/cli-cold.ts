/**
 * `npm run bench:cli [-- --rounds N]`: what a single-image `msrn upscale` costs end to end in a
 * fresh process (Node start-up, module loading, model load, PNG decode, worker start-up, JIT
 * warm-up, the forward, PNG encode, exit), next to the warm forward it wraps.
 *
 * The input is the bench's seeded 270x480 frame (bench/lib/setup.ts) as a PNG; the CLI runs the
 * shipped weights (speed does not depend on the values). Each round runs `node dist/cli.js
 * upscale` once per variant (1 thread, all cores; fp32, int8), in rotating order; the warm
 * forwards (forwardModel on the whole frame, 1 thread, after one untimed call) are timed in this
 * process, between the rounds. Medians. Writes bench/results/cli.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel, encodePng, forwardModel, tensorToRgba } from 'msrn-ts';
import { REPO_ROOT, argNumber, syntheticFrame } from './lib/setup.js';
import { fmt, machineHeader, machineInfo, markdownTable, writeResult } from './lib/report.js';

const rounds = argNumber('rounds', 5);
const machine = await machineInfo();
const dir = mkdtempSync(join(tmpdir(), 'msrn-bench-cli-'));
const frame = syntheticFrame();
const input = join(dir, 'frame.png');
writeFileSync(input, encodePng(tensorToRgba(frame)));
const cli = join(REPO_ROOT, 'dist', 'cli.js');
const cores = availableParallelism();

interface Variant {
  readonly name: string;
  readonly precision: 'fp32' | 'int8';
  readonly threads: number;
}
const variants: Variant[] = [
  { name: 'fp32, 1 thread', precision: 'fp32', threads: 1 },
  { name: `fp32, ${cores} threads`, precision: 'fp32', threads: cores },
  { name: 'int8, 1 thread', precision: 'int8', threads: 1 },
  { name: `int8, ${cores} threads`, precision: 'int8', threads: cores },
];
const cold = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const warm = { fp32: [] as number[], int8: [] as number[] };
const models = {
  fp32: decodeModel('fp32', readFileSync(join(REPO_ROOT, 'weights', 'msrn_x2.bin'))),
  int8: decodeModel('int8', readFileSync(join(REPO_ROOT, 'weights', 'msrn_x2.int8.bin'))),
};
for (const precision of ['fp32', 'int8'] as const) forwardModel(models[precision], frame); // untimed: warm-up

for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(k + round) % variants.length];
    const output = join(dir, `out-${v.precision}-${v.threads}.png`);
    const start = performance.now();
    const run = spawnSync(process.execPath, [cli, 'upscale', input, '-o', output, '--precision', v.precision, '--threads', String(v.threads), '--quiet']);
    const ms = performance.now() - start;
    if (run.status !== 0) throw new Error(`msrn upscale failed (${v.name}): ${run.stderr.toString()}`);
    cold.get(v.name)!.push(ms);
  }
  for (const precision of ['fp32', 'int8'] as const) {
    const start = performance.now();
    forwardModel(models[precision], frame);
    warm[precision].push(performance.now() - start);
  }
}
rmSync(dir, { recursive: true, force: true });

const median = (values: readonly number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = variants.map((v) => {
  const ms = median(cold.get(v.name)!);
  const forward = median(warm[v.precision]);
  return [`\`msrn upscale\`, ${v.name}`, fmt(ms, 0), fmt(forward, 0), fmt(ms - forward, 0), `${fmt(ms / forward, 2)}x`];
});
machine.loadEnd = (await import('node:os')).loadavg().map((v) => Math.round(v * 100) / 100);
const table = markdownTable(['cold process, 270x480 PNG -> 540x960 PNG', 'ms (median)', 'warm forward, 1 thread, ms', 'difference, ms', 'cold / warm'], rows, ['l', 'r', 'r', 'r', 'r']);
const report = [
  '# `msrn upscale` cold, against the warm forward',
  '',
  machineHeader(machine),
  `- ${rounds} rounds; command: \`npm run bench:cli -- --rounds ${rounds}\``,
  '',
  table,
  '',
  'The cold run is the whole command in a fresh process: Node start-up, module loading, reading and packing the',
  'weights, PNG decode, worker start-up, the tiles (with their halos), PNG encode and exit. The warm forward is',
  'forwardModel on the whole frame in a process that has run it before (same thread count: 1).',
  '',
].join('\n');
console.log(report);
console.log(`wrote ${writeResult('cli.md', report)}`);
