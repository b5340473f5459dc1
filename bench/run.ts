/**
 * msrn-ts benchmark suite: `npm run bench` (compiles src and bench, then runs this).
 *
 *   (a) every conv shape of MSRN-small (n_feats 16, n_blocks 2, x2), fp32 and int8, on the
 *       270x480 LR frame (the HR conv on 540x960): ms per call, GFLOP/s (GOP/s for int8)
 *   (b) the other ops: pixelShuffle, residual add, mean shift, the conv's padding prologue
 *   (c) the whole network on one 270x480 frame, fp32 and int8: forward only and upscale() with
 *       PNG decode and encode as the CLI does it, on 1 thread, and through the worker pool on
 *       N threads (lib/threads.ts)
 *
 * Options (after `npm run bench --`):
 *   --rounds N     interleaved rounds per section (default 3)
 *   --weights F    an fp32 weight blob instead of seeded random weights (speed is the same)
 *   --quick        1 round on a 68x120 frame: checks that everything runs, numbers not comparable
 *   --only S       kernels | ops | network
 *
 * Writes bench/results/<YYYY-MM-DD>.json and bench/results/latest.md.
 */
import { cpus, loadavg } from 'node:os';
import {
  PackedConv2dF32,
  QuantizedConv2d,
  Tensor,
  add,
  addI8,
  conv2dF32,
  conv2dI8,
  forwardF32,
  packConv2dF32,
  forwardInt8,
  meanShift,
  padToFloat64,
  pixelShuffle,
  zerosF32,
  zerosI8,
  zerosU8,
} from 'msrn-ts/core';
import { encodePng, tensorToRgba, upscale } from 'msrn-ts';
import { THREADS_PENDING, createThreadedForward } from './lib/threads.js';
import { BenchModels, FRAME_HEIGHT, FRAME_WIDTH, argNumber, argValue, buildModels, prng, syntheticFrame } from './lib/setup.js';
import { TimedTask, Timing, spreadPercent, timeInterleaved } from './lib/timing.js';
import { CpuMeter, contentionNote, fmt, isoDay, machineHeader, machineInfo, markdownTable, round, writeResult } from './lib/report.js';

const quick = process.argv.includes('--quick');
const only = argValue('only');
const rounds = argNumber('rounds', quick ? 1 : 3);
const H = quick ? 68 : FRAME_HEIGHT;
const W = quick ? 120 : FRAME_WIDTH;

// ---------------------------------------------------------------------------------------------
// (a) conv kernels

interface ConvShape {
  readonly layer: string;
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  /** runs at the upscaled resolution (after PixelShuffle) */
  readonly hr: boolean;
  /** how many times each forward pass runs this shape */
  readonly perFrameFp32: number;
  readonly perFrameInt8: number;
  readonly fp32: PackedConv2dF32;
  readonly relu: boolean;
  /** null for the folded fp32 tail, which the int8 graph has no counterpart of */
  readonly int8: QuantizedConv2d | null;
}

/** The convs of MSRN-small, each taken from the loaded models, so they are packed as the forward packs them. */
function convShapes(m: BenchModels): ConvShape[] {
  const n = m.config.nFeats;
  const b0 = m.fp32.blocks[0];
  const q = (name: string) => {
    const conv = m.int8.convs.get(name);
    if (!conv) throw new Error(`int8 model has no conv ${name}`);
    return conv;
  };
  const nb = m.config.nBlocks;
  const tail = m.fp32.fusedTail;
  const conv = (layer: string, cin: number, cout: number, k: number, perFrame: number, fp32: PackedConv2dF32, relu: boolean, int8: string): ConvShape => ({
    layer, cin, cout, k, hr: false, perFrameFp32: perFrame, perFrameInt8: perFrame, fp32, relu, int8: q(int8),
  });
  return [
    conv('head.0', 3, n, 3, 1, m.fp32.head, false, 'head.0'),
    conv('body.*.conv_3_1, tail.1', n, n, 3, nb + 1, b0.conv3x3First, true, 'body.0.conv_3_1'),
    conv('body.*.conv_5_1', n, n, 5, nb, b0.conv5x5First, true, 'body.0.conv_5_1'),
    conv('body.*.conv_3_2', 2 * n, 2 * n, 3, nb, b0.conv3x3Second, true, 'body.0.conv_3_2'),
    conv('body.*.conv_5_2', 2 * n, 2 * n, 5, nb, b0.conv5x5Second, true, 'body.0.conv_5_2'),
    // fp32's last confusion is the folded one (src/msrn/folded-fusion.ts): the same shape
    conv('body.*.confusion', 4 * n, n, 1, nb, b0.confusion, false, 'body.0.confusion'),
    // fp32 runs tail.0 folded with the last block's residual add, one input slot fewer (next row)
    { ...conv('tail.0 (fusion)', (nb + 1) * n, n, 1, 1, m.fp32.fusion, false, 'tail.0'), perFrameFp32: 0 },
    {
      layer: 'tail.0 without the last block, folded (fp32)', cin: nb * n, cout: n, k: 1, hr: false,
      perFrameFp32: 1, perFrameInt8: 0, fp32: m.fp32.foldedFusion.rest, relu: false, int8: null,
    },
    // fp32 runs these two folded (next row); the int8 graph runs them as they are
    { ...conv('tail.2.0 (upsampler)', n, 4 * n, 3, 1, m.fp32.upsampler[0].conv, false, 'tail.2.0'), perFrameFp32: 0 },
    { ...conv('tail.3 (at HR)', n, 3, 3, 1, m.fp32.outputConv, false, 'tail.3'), hr: true, perFrameFp32: 0 },
    {
      layer: 'tail.2.0 + tail.3 + add_mean, folded (fp32)', cin: n, cout: tail.conv.outChannels, k: 5, hr: false,
      perFrameFp32: 1, perFrameInt8: 0, fp32: tail.conv, relu: false, int8: null,
    },
  ];
}

function randomF32(c: number, h: number, w: number, seed: number): Tensor<Float32Array> {
  const t = zerosF32(c, h, w);
  const r = prng(seed);
  for (let i = 0; i < t.data.length; i++) t.data[i] = r() * 4 - 1;
  return t;
}

function randomI8(c: number, h: number, w: number, seed: number): Tensor<Int8Array> {
  const t = zerosI8(c, h, w);
  const r = prng(seed);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.floor(r() * 255) - 127;
  return t;
}

interface KernelResult {
  layer: string;
  shape: string;
  input: string;
  perFrameFp32: number;
  perFrameInt8: number;
  macs: number;
  fp32: TimingJson;
  int8: TimingJson | null;
  /** 'direct', or the Winograd variant the model packed */
  fp32Method: string;
  fp32Direct: TimingJson;
  fp32Gflops: number;
  fp32DirectGflops: number;
  int8Gops: number | null;
  target: number;
}

interface TimingJson {
  medianMs: number;
  minMs: number;
  roundMediansMs: number[];
  samples: number;
}

const timingJson = (t: Timing): TimingJson => ({
  medianMs: round(t.medianMs, 3),
  minMs: round(t.minMs, 3),
  roundMediansMs: t.roundMediansMs.map((v) => round(v, 3)),
  samples: t.samples,
});

async function benchKernels(m: BenchModels): Promise<KernelResult[]> {
  const shapes = convShapes(m);
  const scale = m.config.scale;
  const tasks: TimedTask[] = [];
  shapes.forEach((s, i) => {
    const h = s.hr ? H * scale : H;
    const w = s.hr ? W * scale : W;
    const inF = randomF32(s.cin, h, w, 100 + i);
    const outF = zerosF32(s.cout, h, w);
    const inQ = randomI8(s.cin, h, w, 200 + i);
    const outQ = zerosI8(s.cout, h, w);
    // The direct loop on the same shape, for the Winograd speed-up (speed does not depend on the weights).
    const r = prng(400 + i);
    const direct = packConv2dF32(
      Float32Array.from({ length: s.cout * s.cin * s.k * s.k }, () => r() - 0.5),
      Float32Array.from({ length: s.cout }, () => r() - 0.5),
      s.cout,
      s.cin,
      s.k,
      { method: 'direct' },
    );
    tasks.push({ name: `${s.layer} fp32`, fn: () => conv2dF32(inF, s.fp32, outF, s.relu) });
    tasks.push({ name: `${s.layer} fp32 direct`, fn: () => conv2dF32(inF, direct, outF, s.relu) });
    const int8 = s.int8;
    if (int8) tasks.push({ name: `${s.layer} int8`, fn: () => conv2dI8(inQ, int8, outQ) });
  });
  const timings = await timeInterleaved(tasks, {
    rounds,
    iterations: quick ? 1 : 2,
    warmupIterations: 1,
    onRound: (r, n) => progress(`kernels: round ${r}/${n}`),
  });
  return shapes.map((s) => {
    const h = s.hr ? H * scale : H;
    const w = s.hr ? W * scale : W;
    const macs = h * w * s.cout * s.cin * s.k * s.k;
    const f = timings.get(`${s.layer} fp32`)!;
    const q = timings.get(`${s.layer} int8`) ?? null;
    const d = timings.get(`${s.layer} fp32 direct`)!;
    return {
      layer: s.layer,
      shape: `${s.cin}->${s.cout} ${s.k}x${s.k}`,
      input: `${h}x${w}`,
      perFrameFp32: s.perFrameFp32,
      perFrameInt8: s.perFrameInt8,
      macs,
      fp32: timingJson(f),
      int8: q && timingJson(q),
      fp32Method: s.fp32.winograd ? winogradName(s.fp32.winograd.variant.matrices) : 'direct',
      fp32Direct: timingJson(d),
      fp32Gflops: round((2 * macs) / (f.medianMs * 1e6), 3),
      fp32DirectGflops: round((2 * macs) / (d.medianMs * 1e6), 3),
      int8Gops: q && round((2 * macs) / (q.medianMs * 1e6), 3),
      target: s.k === 1 ? 3 : 5,
    };
  });
}

const winogradName = (w: { m: number; r: number }) => `Winograd F(${w.m}x${w.m}, ${w.r}x${w.r})`;

// ---------------------------------------------------------------------------------------------
// (b) other ops

interface OpResult {
  op: string;
  precision: 'fp32' | 'int8';
  tensor: string;
  elements: number;
  timing: TimingJson;
  melemPerS: number;
}

async function benchOps(m: BenchModels): Promise<OpResult[]> {
  const n = m.config.nFeats;
  const r = m.config.scale;
  const expF = randomF32(r * r * n, H, W, 300);
  const shufF = zerosF32(n, H * r, W * r);
  const expQ = randomI8(r * r * n, H, W, 301);
  const shufQ = zerosI8(n, H * r, W * r);
  const aF = randomF32(n, H, W, 302);
  const bF = randomF32(n, H, W, 303);
  const aQ = randomI8(n, H, W, 304);
  const bQ = randomI8(n, H, W, 305);
  const sumQ = zerosI8(n, H, W);
  const addParams = m.int8.adds.get('body.0.add');
  if (!addParams) throw new Error('int8 model has no body.0.add');
  const lr = syntheticFrame(H, W, 306);
  const lrShifted = zerosF32(3, H, W);
  const hrF = randomF32(3, H * r, W * r, 307);
  const hrOut = zerosF32(3, H * r, W * r);
  const lrU8 = zerosU8(3, H, W);
  lrU8.data.set(lr.data);
  const lrQ = zerosI8(3, H, W);
  const hrQ = randomI8(3, H * r, W * r, 308);
  const hrU8 = zerosU8(3, H * r, W * r);
  const padIn = randomF32(2 * n, H, W, 309);
  const subMean = m.int8.convs.get('sub_mean')!;
  const addMean = m.int8.convs.get('add_mean')!;
  const { subMean: subF, addMean: addF } = m.fp32;

  const ops: { op: string; precision: 'fp32' | 'int8'; tensor: Tensor<Float32Array | Int8Array | Uint8Array>; fn: () => void }[] = [
    { op: `pixelShuffle(${r})`, precision: 'fp32', tensor: expF, fn: () => pixelShuffle(expF, r, shufF) },
    { op: `pixelShuffle(${r})`, precision: 'int8', tensor: expQ, fn: () => pixelShuffle(expQ, r, shufQ) },
    { op: 'residual add (in place)', precision: 'fp32', tensor: aF, fn: () => add(aF, bF, aF) },
    { op: 'residual add (requantizing)', precision: 'int8', tensor: aQ, fn: () => addI8(aQ, bQ, addParams, sumQ) },
    { op: 'sub_mean (LR)', precision: 'fp32', tensor: lr, fn: () => meanShift(lr, subF.weight, subF.bias, lrShifted) },
    { op: 'sub_mean (LR, u8 -> int8 1x1 conv)', precision: 'int8', tensor: lrU8, fn: () => conv2dI8(lrU8, subMean, lrQ) },
    { op: 'add_mean (HR)', precision: 'fp32', tensor: hrF, fn: () => meanShift(hrF, addF.weight, addF.bias, hrOut) },
    { op: 'add_mean (HR, int8 -> u8 1x1 conv)', precision: 'int8', tensor: hrQ, fn: () => conv2dI8(hrQ, addMean, hrU8) },
    { op: 'conv prologue: pad to float64, pad 2', precision: 'fp32', tensor: padIn, fn: () => void padToFloat64(padIn, 2) },
  ];
  const timings = await timeInterleaved(
    ops.map((o) => ({ name: `${o.op} ${o.precision}`, fn: o.fn })),
    { rounds, iterations: quick ? 3 : 10, warmupIterations: 3, onRound: (i, k) => progress(`ops: round ${i}/${k}`) },
  );
  return ops.map((o) => {
    const t = timings.get(`${o.op} ${o.precision}`)!;
    const elements = o.tensor.data.length;
    return {
      op: o.op,
      precision: o.precision,
      tensor: o.tensor.shape.join('x'),
      elements,
      timing: timingJson(t),
      melemPerS: round(elements / (t.medianMs * 1e3), 1),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// (c) whole network

interface NetworkResult {
  run: string;
  precision: 'fp32' | 'int8';
  threads: number;
  timing: TimingJson | null;
  /** 2 * MACs per LR pixel * LR pixels / time */
  effectiveGflops: number | null;
  spreadPercent: number | null;
  note: string;
}

/** The 1-thread runs, and the N-thread ones when lib/threads.ts can build a pool. */
async function benchNetwork(m: BenchModels, jitWarm: boolean): Promise<NetworkResult[]> {
  const frame = syntheticFrame(H, W);
  const pixels = H * W;
  const gflop = (2 * m.macsPerPixel * pixels) / 1e9;
  const png = encodePng(tensorToRgba(frame));
  const tasks: TimedTask[] = [
    { name: 'forward fp32', fn: () => forwardF32(m.fp32, frame) },
    { name: 'forward int8', fn: () => forwardInt8(m.int8, frame) },
    { name: 'upscale() fp32', fn: () => upscale(png, { weights: m.fp32Bytes, threads: 1 }), async: true },
    { name: 'upscale() int8', fn: () => upscale(png, { weights: m.int8Bytes, precision: 'int8', threads: 1 }), async: true },
  ];
  const rows: Omit<NetworkResult, 'timing' | 'effectiveGflops' | 'spreadPercent'>[] = [
    { run: 'forward', precision: 'fp32', threads: 1, note: 'forwardF32 on a 3xHxW tensor' },
    { run: 'forward', precision: 'int8', threads: 1, note: 'forwardInt8, integer-only' },
    { run: 'upscale(), PNG in and out', precision: 'fp32', threads: 1, note: 'decode + blob load + forward + encode, as the CLI' },
    { run: 'upscale(), PNG in and out', precision: 'int8', threads: 1, note: 'decode + blob load + forward + encode, as the CLI' },
  ];
  const threads = Math.max(2, cpus().length);
  const timingOptions = {
    rounds: quick ? 1 : Math.max(3, rounds),
    iterations: 1,
    // After the kernel section the conv code is JIT-compiled already; a warm-up frame would
    // only add ~30 s. Alone (--only network), one warm-up frame per task.
    warmupIterations: jitWarm ? 0 : 1,
  };
  // The 1-thread runs first, then the pools: nothing a multi-threaded run leaves behind can land
  // on a 1-thread run. (Interleaved, the pool used to slow 1-thread frames by 15%: it transferred
  // buffers, which slows every later typed-array access in the thread, see model-worker.ts; it
  // copies now, and interleaved they measure the same, 1,048 ms.)
  const timings = await timeInterleaved(tasks, { ...timingOptions, onRound: (r, n) => progress(`network, 1 thread: round ${r}/${n}`) });
  const closers: (() => Promise<void>)[] = [];
  const poolTasks: TimedTask[] = [];
  for (const precision of ['fp32', 'int8'] as const) {
    const runner = await createThreadedForward(m, frame, precision, threads);
    const name = `forward ${precision} x${threads}`;
    if (runner) {
      poolTasks.push({ name, fn: () => runner.run(), async: true });
      closers.push(() => runner.close());
    }
    rows.push({ run: 'forward', precision, threads, note: runner ? 'worker pool' : THREADS_PENDING });
  }
  try {
    if (poolTasks.length) {
      const poolTimings = await timeInterleaved(poolTasks, { ...timingOptions, onRound: (r, n) => progress(`network, ${threads} threads: round ${r}/${n}`) });
      for (const [name, t] of poolTimings) timings.set(name, t);
    }
    return rows.map((row, i) => {
      const name = i < 4 ? tasks[i].name : `forward ${row.precision} x${row.threads}`;
      const t = timings.get(name);
      return {
        ...row,
        timing: t ? timingJson(t) : null,
        effectiveGflops: t ? round(gflop / (t.medianMs / 1e3), 3) : null,
        spreadPercent: t ? round(spreadPercent(t), 1) : null,
      };
    });
  } finally {
    for (const close of closers) await close();
  }
}

// ---------------------------------------------------------------------------------------------

function progress(line: string): void {
  process.stderr.write(`  ${line} (load ${loadavg()[0].toFixed(2)})\n`);
}

async function main(): Promise<void> {
  const machine = await machineInfo();
  const started = performance.now();
  const models = buildModels(argValue('weights'));
  const pixels = H * W;
  const frameGflop = (2 * models.macsPerPixel * pixels) / 1e9;
  const reproduce = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const intro = [
    `# msrn-ts benchmark`,
    '',
    machineHeader(machine),
    `- model: MSRN n_feats ${models.config.nFeats}, n_blocks ${models.config.nBlocks}, x${models.config.scale}; ${models.macsPerPixel.toLocaleString('en-US')} MACs per LR pixel; weights: ${models.source}`,
    `- frame: ${H}x${W} LR -> ${H * models.config.scale}x${W * models.config.scale}, ${fmt(frameGflop, 2)} GFLOP per frame${quick ? ' (--quick: a small frame, numbers not comparable)' : ''}`,
    `- method: tinybench, ${rounds} interleaved rounds (task order rotated each round), median of all samples; GFLOP/s = 2 x MACs / median time (GOP/s for int8)`,
    `- reproduce: \`${reproduce}\``,
  ].join('\n');
  console.log(intro + '\n');

  const sections: string[] = [];
  const json: Record<string, unknown> = {
    machine,
    config: models.config,
    weights: models.source,
    frame: { height: H, width: W, gflop: round(frameGflop, 4) },
    method: { rounds, quick, tinybench: '6', median: 'of all samples of all interleaved rounds' },
  };

  if (!only || only === 'kernels') {
    const meter = new CpuMeter();
    const kernels = await benchKernels(models);
    const others = meter.otherCores();
    json.kernels = kernels;
    json.kernelsOtherCores = others;
    const totalF = kernels.reduce((s, k) => s + k.perFrameFp32 * k.fp32.medianMs, 0);
    const totalQ = kernels.reduce((s, k) => s + k.perFrameInt8 * (k.int8?.medianMs ?? 0), 0);
    const table = markdownTable(
      ['layer', 'conv', 'input', 'per frame fp32 / int8', 'fp32 method', 'fp32 ms', 'fp32 GFLOP/s', 'direct loop GFLOP/s', 'int8 ms', 'int8 GOP/s', 'int8 speed vs fp32', 'target (fp32)'],
      [
        ...kernels.map((k) => [
          k.layer,
          k.shape,
          k.input,
          `${k.perFrameFp32} / ${k.perFrameInt8}`,
          k.fp32Method,
          fmt(k.fp32.medianMs, 1),
          fmt(k.fp32Gflops, 2),
          fmt(k.fp32DirectGflops, 2),
          k.int8 ? fmt(k.int8.medianMs, 1) : '-',
          k.int8Gops === null ? '-' : fmt(k.int8Gops, 2),
          k.int8 ? `${fmt(k.fp32.medianMs / k.int8.medianMs, 2)}x` : '-',
          `>= ${k.target} ${k.fp32Gflops >= k.target ? 'met' : 'not met'}`,
        ]),
        ['all convs of one frame', '', '', '', '', fmt(totalF, 0), '', '', fmt(totalQ, 0), '', `${fmt(totalF / totalQ, 2)}x`, ''],
      ],
      ['l', 'l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    );
    sections.push(
      `## Conv kernels, 1 thread\n\nms per call (median); "per frame": calls in one forward pass of each precision (fp32 folds the upsampler conv, the HR conv and add_mean into one 5x5 conv at LR, src/msrn/fused-tail.ts, and the last block's residual add into tail.0, src/msrn/folded-fusion.ts; the int8 graph cannot, it rounds in between); the last row is the sum of calls x ms. GFLOP/s counts the direct conv's 2 x MACs whatever the method (effective GFLOP/s: Winograd does fewer multiplies); "direct loop" is the register-blocked direct conv on the same shape, for comparison. Load: ${contentionNote(others, 1)}.\n\n${table}`,
    );
    console.log(sections[sections.length - 1] + '\n');
  }

  if (!only || only === 'ops') {
    const meter = new CpuMeter();
    const ops = await benchOps(models);
    const others = meter.otherCores();
    json.ops = ops;
    json.opsOtherCores = others;
    const table = markdownTable(
      ['op', 'precision', 'input', 'ms', 'M elements/s'],
      ops.map((o) => [o.op, o.precision, o.tensor, fmt(o.timing.medianMs, 2), fmt(o.melemPerS, 0)]),
      ['l', 'l', 'l', 'r', 'r'],
    );
    sections.push(`## Other ops, 1 thread\n\nLoad: ${contentionNote(others, 1)}.\n\n${table}`);
    console.log(sections[sections.length - 1] + '\n');
  }

  if (!only || only === 'network') {
    const meter = new CpuMeter();
    const network = await benchNetwork(models, !only);
    const others = meter.otherCores();
    json.network = network;
    json.networkOtherCores = others;
    const table = markdownTable(
      ['run', 'precision', 'threads', 'ms / frame', 'effective GFLOP/s', 'round spread', 'what'],
      network.map((r) => [
        r.run,
        r.precision,
        String(r.threads),
        r.timing ? fmt(r.timing.medianMs, 0) : '-',
        r.effectiveGflops !== null ? fmt(r.effectiveGflops, 2) : '-',
        r.spreadPercent !== null ? `${fmt(r.spreadPercent, 1)}%` : '-',
        r.note,
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'l'],
    );
    sections.push(
      `## Whole network, ${H}x${W} frame\n\neffective GFLOP/s = 2 x ${models.macsPerPixel.toLocaleString('en-US')} x ${pixels.toLocaleString('en-US')} pixels / time (${fmt(frameGflop, 2)} GFLOP; the int8 row counts the same ops). The 1-thread runs are timed (interleaved) before the worker pools start, then the pools (interleaved). Round spread: (max - min) of the per-round medians / median. Load: ${contentionNote(others, 1)}.\n\n${table}`,
    );
    console.log(sections[sections.length - 1] + '\n');
  }

  machine.loadEnd = loadavg().map((v) => round(v, 2));
  const seconds = (performance.now() - started) / 1000;
  json.seconds = round(seconds, 1);
  const footer = `_load average at end: ${machine.loadEnd.join(' / ')}; bench took ${fmt(seconds, 0)} s._`;
  console.log(footer);
  const markdown = [intro, ...sections, footer].join('\n\n') + '\n';
  if (quick || only) {
    console.log('\n(--quick / --only: results not written to bench/results)');
    return;
  }
  const jsonPath = writeResult(`${isoDay(machine.date)}.json`, JSON.stringify(json, null, 2) + '\n');
  const mdPath = writeResult('latest.md', markdown);
  console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
