/**
 * msrn-ts next to other engines: `npm run bench:peers` (install the peers first:
 * `npm --prefix bench/peers install`, see bench/peers/README.md).
 *
 * The same weights (seeded random weights of the model card's config, or --weights) and the
 * same 270x480 frame go through msrn-ts (fp32 and int8, 1 thread), onnxruntime-node (1 and 2
 * threads), onnxruntime-web (wasm), tfjs-backend-wasm, tfjs-backend-cpu and PyTorch. Every
 * output is checked against msrn-ts fp32 (max abs difference on the 0..255 output); times are
 * medians and fastest runs of interleaved rounds (tinybench, task order rotated each round), the
 * 1-thread engines, the multi-threaded ones, msrn-ts's pool paired with its 1-thread forward and
 * the child-process ones (PyTorch) timed as four separate groups. A second table gives the speed
 * targets (speedTargets) from this one run.
 *
 * Options (after `npm run bench:peers --`):
 *   --rounds N       interleaved rounds (default 3; tfjs-backend-cpu runs in the first only)
 *   --weights F      an fp32 weight blob instead of seeded random weights
 *   --onnx F         an ONNX export of those weights (default: tools/export_onnx.py makes one)
 *   --python P       the Python with torch (default /usr/bin/python3)
 *   --skip a,b       engines to leave out, by name prefix (e.g. tfjs-backend-cpu,PyTorch)
 *   --quick          1 round on a 68x120 frame: checks that everything runs; nothing written
 *
 * Writes bench/results/peers.md, bench/results/peers.svg and bench/results/peers-<YYYY-MM-DD>.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, forwardF32, forwardInt8, readWeightBlob } from 'msrn-ts/core';
import { FRAME_HEIGHT, FRAME_WIDTH, argNumber, argValue, buildModels, syntheticFrame } from '../lib/setup.js';
import { THREADS_PENDING, createThreadedForward } from '../lib/threads.js';
import { TimedTask, Timing, median, timeInterleaved } from '../lib/timing.js';
import { Bar, CpuMeter, barChartSvg, fmt, isoDay, machineHeader, machineInfo, markdownTable, round, writeResult } from '../lib/report.js';
import { Engine, EngineOrSkip, Frame, exportOnnx, onnxruntimeNode, pytorch, tfjs, wasmPeerInWorker, writeRawInput } from './engines.js';

const quick = process.argv.includes('--quick');
const rounds = argNumber('rounds', quick ? 1 : 3);
const H = quick ? 68 : FRAME_HEIGHT;
const W = quick ? 120 : FRAME_WIDTH;
const python = argValue('python') ?? '/usr/bin/python3';
const skip = (argValue('skip') ?? '').split(',').filter(Boolean);

interface Row {
  engine: string;
  threads: number;
  detail: string;
  /** median of all samples, ms */
  ms: number | null;
  /** the fastest sample, ms: on a shared machine, the run that other load disturbed least */
  fastestMs: number | null;
  gflops: number | null;
  /** msrn-ts fp32 1-thread time / this time: > 1 is faster than msrn-ts */
  speedVsMsrn: number | null;
  /** the same from the fastest samples */
  speedVsMsrnFastest: number | null;
  maxAbsDiff: number | null;
  runs: number;
  note: string;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`output sizes differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = d; // NaN counts as the largest difference
  }
  return max;
}

function msrnEngine(name: string, precision: 'fp32' | 'int8', fn: () => Tensor<Float32Array> | Tensor<Uint8Array>): Engine {
  const run = async () => {
    const out = fn();
    return { output: out.data };
  };
  return {
    engine: name,
    threads: 1,
    detail: precision === 'fp32' ? 'forwardF32' : 'forwardInt8 (u8 output; its diff is the int8 quantization error, not an engine mismatch)',
    warmup: async () => void (await run()),
    run,
  };
}

async function main(): Promise<void> {
  const machine = await machineInfo();
  const started = performance.now();
  const models = buildModels(argValue('weights'));
  const blob = readWeightBlob(models.fp32Bytes);
  const input = syntheticFrame(H, W);
  const frame: Frame = { input, scale: models.config.scale };
  const gflop = (2 * models.macsPerPixel * H * W) / 1e9;
  const work = mkdtempSync(join(tmpdir(), 'msrn-peers-'));
  const log = (line: string) => process.stderr.write(`  ${line} (load ${loadavg()[0].toFixed(2)})\n`);

  try {
    const blobPath = join(work, 'model.bin');
    writeFileSync(blobPath, models.fp32Bytes);
    const inputPath = join(work, 'input.f32');
    writeRawInput(inputPath, input);

    const want = (engine: string) => !skip.some((s) => engine.toLowerCase().startsWith(s.toLowerCase()));
    const candidates: EngineOrSkip[] = [];
    candidates.push(msrnEngine('msrn-ts', 'fp32', () => forwardF32(models.fp32, input)));
    candidates.push(msrnEngine('msrn-ts int8', 'int8', () => forwardInt8(models.int8, input)));
    const nThreads = Math.max(2, cpus().length);
    const threaded = await createThreadedForward(models, input, 'fp32', nThreads);
    if (threaded) {
      candidates.push({
        engine: 'msrn-ts',
        threads: nThreads,
        detail: 'worker pool',
        warmup: async () => void (await threaded.run()),
        run: async () => ({ output: (await threaded.run()).data }),
        close: () => threaded.close(),
      });
    } else {
      candidates.push({ engine: 'msrn-ts', threads: nThreads, skipped: THREADS_PENDING });
    }

    log('exporting ONNX');
    const onnx = argValue('onnx') ?? exportOnnx(python, blobPath, join(work, 'model.onnx'));
    const tryEngine = async (engine: string, threads: number, make: () => Promise<EngineOrSkip> | EngineOrSkip): Promise<EngineOrSkip> => {
      if (!want(engine)) return { engine, threads, skipped: 'left out (--skip)' };
      try {
        return await make();
      } catch (error) {
        return { engine, threads, skipped: `failed to start: ${(error as Error).message.split('\n')[0]}` };
      }
    };
    candidates.push(await tryEngine('onnxruntime-node', 1, () => onnxruntimeNode(onnx, frame, 1)));
    candidates.push(await tryEngine('onnxruntime-node', 2, () => onnxruntimeNode(onnx, frame, 2)));
    // The wasm peers run in worker threads: a wasm module in this thread would slow the pure-JS
    // engines here by 15-40% (wasm-worker.ts says why).
    candidates.push(await tryEngine('onnxruntime-web (wasm)', 1, () => wasmPeerInWorker('onnxruntime-web', onnx, models.fp32Bytes, frame)));
    candidates.push(await tryEngine('tfjs-backend-wasm', 1, () => wasmPeerInWorker('tfjs-backend-wasm', onnx, models.fp32Bytes, frame)));
    const warmupFrame = syntheticFrame(24, 24, 3);
    candidates.push(await tryEngine('tfjs-backend-cpu', 1, () => tfjs('cpu', blob, frame, warmupFrame)));
    const torchOut = join(work, 'torch-out.f32');
    candidates.push(await tryEngine('PyTorch (CPU)', 1, () => pytorch(python, blobPath, inputPath, torchOut, frame, 1)));
    candidates.push(await tryEngine('PyTorch (CPU)', 2, () => pytorch(python, blobPath, inputPath, torchOut, frame, 2)));

    const engines = candidates.filter((c): c is Engine => 'run' in c);
    const label = (e: { engine: string; threads: number }) => `${e.engine}, ${e.threads} thread${e.threads === 1 ? '' : 's'}`;

    // Warm-up (untimed), which also checks that every engine runs; one that throws is skipped.
    const failed = new Map<string, string>();
    for (const e of engines) {
      log(`warm-up: ${label(e)}`);
      try {
        await e.warmup();
      } catch (error) {
        failed.set(label(e), `failed in warm-up: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    const timed = engines.filter((e) => !failed.has(label(e)));
    const outputs = new Map<string, Float32Array | Uint8Array>();
    const tasks: TimedTask[] = timed.map((e) => ({
      name: label(e),
      async: true,
      maxRounds: e.maxRounds,
      fn: async () => {
        const result = await e.run();
        outputs.set(label(e), result.output);
        return result.ms !== undefined ? { overriddenDuration: result.ms } : undefined;
      },
    }));
    const meter = new CpuMeter();
    // 1-thread engines first, then the multi-threaded ones, each group interleaved, so that
    // nothing a multi-threaded run leaves behind (threads still spinning or cleaning up) can land
    // on a 1-thread run.
    // Child-process engines (PyTorch) come last, in their own group (Engine.outOfProcess says why).
    const threadsOf = new Map(timed.map((e) => [label(e), e.threads]));
    const outOfProcess = new Set(timed.filter((e) => e.outOfProcess).map(label));
    const inProcess = tasks.filter((t) => !outOfProcess.has(t.name));
    // The 2-thread target is a ratio of two times, and this machine's speed drifts between the
    // groups (a minute apart): msrn-ts's pool runs in a group of its own, interleaved with a
    // second 1-thread forward, and the target divides those two (as bench:pool does).
    const poolName = threaded ? label({ engine: 'msrn-ts', threads: nThreads }) : undefined;
    const pairedOne: TimedTask = { name: PAIRED_ONE_THREAD, fn: () => void forwardF32(models.fp32, input) };
    const poolTask = inProcess.find((t) => t.name === poolName);
    const timings = new Map<string, Timing>();
    for (const [group, groupTasks] of [
      ['1 thread', inProcess.filter((t) => threadsOf.get(t.name) === 1)],
      ['several threads', inProcess.filter((t) => threadsOf.get(t.name) !== 1 && t !== poolTask)],
      ['msrn-ts pool and 1 thread, paired', poolTask ? [poolTask, pairedOne] : []],
      ['child processes', tasks.filter((t) => outOfProcess.has(t.name))],
    ] as const) {
      if (!groupTasks.length) continue;
      const groupTimings = await timeInterleaved(groupTasks, {
        rounds,
        iterations: 1,
        warmupIterations: 0,
        onRound: (r, n) => log(`${group}: round ${r}/${n}`),
      });
      for (const [name, t] of groupTimings) timings.set(name, t);
    }
    const others = meter.otherCores();
    for (const e of engines) await e.close?.();

    const reference = outputs.get(label(engines[0]))!;
    const refMs = timings.get(label(engines[0]))!.medianMs;
    const refFastest = timings.get(label(engines[0]))!.minMs;
    let refMin = Infinity;
    let refMax = -Infinity;
    for (const v of reference) (refMin = Math.min(refMin, v)), (refMax = Math.max(refMax, v));
    const rows: Row[] = candidates.map((c) => {
      const name = label(c);
      const t = timings.get(name);
      if (!('run' in c) || !t) {
        const note = 'skipped' in c ? c.skipped : (failed.get(name) ?? 'not measured');
        return { engine: c.engine, threads: c.threads, detail: 'detail' in c ? c.detail : '', ms: null, fastestMs: null, gflops: null, speedVsMsrn: null, speedVsMsrnFastest: null, maxAbsDiff: null, runs: 0, note };
      }
      return {
        engine: c.engine,
        threads: c.threads,
        detail: c.detail,
        ms: round(t.medianMs, 1),
        fastestMs: round(t.minMs, 1),
        gflops: round(gflop / (t.medianMs / 1e3), 3),
        speedVsMsrn: round(refMs / t.medianMs, 3),
        speedVsMsrnFastest: round(refFastest / t.minMs, 3),
        maxAbsDiff: Number(maxAbsDiff(outputs.get(name)!, reference).toPrecision(3)),
        runs: t.samples,
        note: '',
      };
    });

    machine.loadEnd = loadavg().map((v) => round(v, 2));
    const seconds = (performance.now() - started) / 1000;
    const reproduce = `npm --prefix bench/peers install && npm run bench:peers${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const header = [
      '# msrn-ts and peer engines',
      '',
      machineHeader(machine),
      `- model: MSRN n_feats ${models.config.nFeats}, n_blocks ${models.config.nBlocks}, x${models.config.scale}; weights: ${models.source}`,
      `- frame: ${H}x${W} LR -> ${H * models.config.scale}x${W * models.config.scale}, ${fmt(gflop, 2)} GFLOP (2 x ${models.macsPerPixel.toLocaleString('en-US')} MACs x ${(H * W).toLocaleString('en-US')} pixels)${quick ? ' (--quick: a small frame, numbers not comparable)' : ''}`,
      `- method: same weights and input everywhere; ${rounds} interleaved rounds, median of all runs and the fastest run (1-thread engines, multi-threaded ones, msrn-ts's pool with a second msrn-ts 1-thread forward, and child processes (PyTorch) in separate groups, in that order); ms/frame is the forward call (input tensor in, output data out), not model loading; max abs diff: against msrn-ts fp32, on the raw output (it spans ${fmt(refMin, 1)}..${fmt(refMax, 1)} of 0..255)`,
      `- load during the timed rounds: other processes kept ${fmt(others, 2)} of ${machine.cores} cores busy on average (this counts the PyTorch subprocesses too); the 2-thread rows compete with them for a core, so they understate what 2 free cores give`,
      `- reproduce: \`${reproduce}\``,
    ].join('\n');
    const table = markdownTable(
      ['engine', 'threads', 'ms / frame', 'GFLOP/s', 'speed vs msrn-ts 1 thread', 'fastest run, ms', 'speed vs msrn-ts, fastest runs', 'max abs diff', 'runs', 'notes'],
      rows.map((r) => [
        r.engine,
        String(r.threads),
        r.ms !== null ? fmt(r.ms, 0) : '-',
        r.gflops !== null ? fmt(r.gflops, 2) : '-',
        r.speedVsMsrn !== null ? `${fmt(r.speedVsMsrn, 2)}x` : '-',
        r.fastestMs !== null ? fmt(r.fastestMs, 0) : '-',
        r.speedVsMsrnFastest !== null ? `${fmt(r.speedVsMsrnFastest, 2)}x` : '-',
        r.maxAbsDiff !== null ? r.maxAbsDiff.toExponential(2) : '-',
        String(r.runs),
        r.note || r.detail,
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    );
    const paired = timings.get(PAIRED_ONE_THREAD);
    const targets = speedTargets(rows, paired, (engine, threads) => timings.get(label({ engine, threads })));
    const footer = `_load average at end: ${machine.loadEnd.join(' / ')}; took ${fmt(seconds, 0)} s. Chart: peers.svg._`;
    const pool = rows.find((r) => r.engine === 'msrn-ts' && r.threads > 1 && r.ms !== null);
    const pairedNote = paired && pool
      ? `The 2-thread target divides the pool's times by those of a second msrn-ts 1-thread forward timed in the same rounds as the pool (${fmt(paired.medianMs, 0)} ms median, ${fmt(paired.minMs, 0)} fastest); against the 1-thread group's time above, the ratios are ${fmt(refMs / pool.ms!, 3)} and ${fmt(refFastest / pool.fastestMs!, 3)}.`
      : '';
    const markdown = `${header}\n\n${table}\n\n${targetsMarkdown(targets)}\n\n${pairedNote ? `${pairedNote}\n\n` : ''}${footer}\n`;
    console.log('\n' + markdown);

    const bars: Bar[] = rows.map((r) => ({
      label: `${r.engine}, ${r.threads}T`,
      value: r.gflops ?? NaN,
      note: r.note.startsWith('not measured: the worker pool') ? 'not measured (the worker pool could not start)' : r.note ? 'not measured (see peers.md)' : undefined,
      highlight: r.engine.startsWith('msrn-ts'),
    }));
    const svg = barChartSvg(
      `MSRN x2 (n_feats ${models.config.nFeats}, n_blocks ${models.config.nBlocks}), ${H}x${W} frame: GFLOP/s`,
      'GFLOP/s',
      bars,
      `${machine.date.slice(0, 10)}, ${machine.cpu}, ${machine.cores} cores, ${fmt(others, 1)} of them kept busy by other processes meanwhile; median of ${rounds} interleaved rounds`,
    );
    if (quick) {
      console.log('(--quick: results not written to bench/results)');
      return;
    }
    const pairedOneThread = paired ? { ms: round(paired.medianMs, 1), fastestMs: round(paired.minMs, 1), runs: paired.samples } : null;
    const json = { machine, otherCoresDuringRounds: others, config: models.config, weights: models.source, frame: { height: H, width: W, gflop: round(gflop, 4) }, rounds, seconds: round(seconds, 1), rows, pairedOneThread, targets };
    const written = [
      writeResult(`peers-${isoDay(machine.date)}.json`, JSON.stringify(json, null, 2) + '\n'),
      writeResult('peers.md', markdown),
      writeResult('peers.svg', svg),
    ];
    console.log(written.map((p) => `wrote ${p}`).join('\n'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One of the speed issue's targets: a ratio of two rows' times from this run. */
interface SpeedTarget {
  readonly target: string;
  /** numerator / denominator of times */
  readonly ratio: string;
  /** the ratio must be at least (or at most) `bound` */
  readonly needs: 'at least' | 'at most';
  readonly bound: number;
  /** from the medians, and from the fastest runs; null when a row was not measured */
  readonly median: number | null;
  readonly fastest: number | null;
  /**
   * the median over the rounds of the ratio of the two rows' round medians: within a round the
   * two ran seconds apart, where a group's runs span minutes, so the machine's drift cancels
   * best in it (null where the two were not timed in the same rounds)
   */
  readonly perRound: number | null;
}

/** The name of the msrn-ts 1-thread forward timed in the pool's group (not a row of the table). */
const PAIRED_ONE_THREAD = 'msrn-ts, 1 thread (paired with the pool)';

/**
 * The targets, all from this one run: fp32 at least as fast as onnxruntime-web's wasm (1 thread),
 * int8 within 10% of fp32's time, 2 threads at least 1.85x one. Each is given from the medians
 * and from the fastest runs: on a shared machine a burst of other load can land on one row's
 * rounds, and the fastest run of each is the one it disturbed least. The 2-thread target takes
 * its 1-thread time from `paired`, timed in the same rounds as the pool, when there is one.
 */
function speedTargets(rows: readonly Row[], paired: Timing | undefined, timingOf: (engine: string, threads: number) => Timing | undefined): SpeedTarget[] {
  const find = (engine: string, threads: number) => rows.find((r) => r.engine === engine && r.threads === threads && r.ms !== null);
  const fp32 = find('msrn-ts', 1);
  const int8 = find('msrn-ts int8', 1);
  const pool = rows.find((r) => r.engine === 'msrn-ts' && r.threads > 1 && r.ms !== null);
  const ort = find('onnxruntime-web (wasm)', 1);
  const ratio = (num: Row | undefined, den: Row | undefined, key: 'ms' | 'fastestMs') =>
    num?.[key] && den?.[key] ? round(num[key]! / den[key]!, 3) : null;
  // rounds in which both ran (timeInterleaved's rounds: the same group, the same count)
  const perRound = (num: Timing | undefined, den: Timing | undefined) => {
    if (!num || !den) return null;
    const n = Math.min(num.roundMediansMs.length, den.roundMediansMs.length);
    return n ? round(median(Array.from({ length: n }, (_, i) => num.roundMediansMs[i] / den.roundMediansMs[i])), 3) : null;
  };
  const target = (text: string, ratioText: string, num: Row | undefined, den: Row | undefined, needs: SpeedTarget['needs'], bound: number, rounds: number | null): SpeedTarget => ({
    target: text,
    ratio: ratioText,
    needs,
    bound,
    median: ratio(num, den, 'ms'),
    fastest: ratio(num, den, 'fastestMs'),
    perRound: rounds,
  });
  const threads = pool?.threads ?? 2;
  const one: Row | undefined = paired && fp32 ? { ...fp32, ms: paired.medianMs, fastestMs: paired.minMs } : fp32;
  const fp32Timing = timingOf('msrn-ts', 1);
  return [
    target('fp32 at least as fast as onnxruntime-web (wasm SIMD), 1 thread', 'onnxruntime-web time / msrn-ts fp32 time', ort, fp32, 'at least', 1, perRound(timingOf('onnxruntime-web (wasm)', 1), fp32Timing)),
    target('int8 within 10% of fp32, 1 thread', 'msrn-ts int8 time / msrn-ts fp32 time', int8, fp32, 'at most', 1.1, perRound(timingOf('msrn-ts int8', 1), fp32Timing)),
    target(
      `${threads} threads at least 1.85x one`,
      `fp32 1 thread (whole frame${paired ? ', timed in the same rounds as the pool' : ''}) / fp32 ${threads} threads (worker pool: RGB pixels in, RGBA out)`,
      one,
      pool,
      'at least',
      1.85,
      // the pool's rounds are those of its own group, shared with `paired` only
      paired ? perRound(paired, timingOf('msrn-ts', threads)) : null,
    ),
  ];
}

function targetsMarkdown(targets: readonly SpeedTarget[]): string {
  const cell = (v: number | null, t: SpeedTarget) => {
    if (v === null) return 'not measured';
    const met = t.needs === 'at least' ? v >= t.bound : v <= t.bound;
    return `${fmt(v, 3)} (${met ? 'met' : 'not met'})`;
  };
  return markdownTable(
    ['target', 'ratio', 'needs', 'from the medians', 'from the fastest runs', 'median of the per-round ratios'],
    targets.map((t) => [t.target, t.ratio, `${t.needs} ${fmt(t.bound, 2)}`, cell(t.median, t), cell(t.fastest, t), cell(t.perRound, t)]),
    ['l', 'l', 'l', 'r', 'r', 'r'],
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
