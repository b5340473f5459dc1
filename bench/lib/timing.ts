/**
 * Interleaved, repeated timing on top of tinybench.
 *
 * tinybench runs one task's iterations back to back. On a shared machine (another process may
 * take a core for a while) that lets a burst of load land on one variant only. So a measurement
 * here is R rounds; each round is one tinybench Bench that runs every task for a few iterations,
 * in an order rotated every round; the reported time is the median of all the samples of all
 * rounds, and the spread of the per-round medians shows how stable the machine was.
 */
import { Bench } from 'tinybench';

export interface TimedTask {
  readonly name: string;
  readonly fn: () => unknown | Promise<unknown>;
  /** true when fn returns a promise (said up front, so tinybench does not call fn to find out) */
  readonly async?: boolean;
  /** take part in the first `maxRounds` rounds only (for a peer that needs ~26 s a run) */
  readonly maxRounds?: number;
}

export interface Timing {
  readonly name: string;
  /** median over every sample of every round, ms */
  readonly medianMs: number;
  readonly minMs: number;
  /** per-round medians (tinybench p50), ms */
  readonly roundMediansMs: number[];
  readonly samples: number;
}

export interface TimingOptions {
  readonly rounds: number;
  /** timed iterations per task per round */
  readonly iterations: number;
  /** untimed iterations per task, in the first round only */
  readonly warmupIterations: number;
  /** called after each round, e.g. for progress output */
  readonly onRound?: (round: number, rounds: number) => void;
}

export async function timeInterleaved(tasks: readonly TimedTask[], options: TimingOptions): Promise<Map<string, Timing>> {
  const samples = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  const roundMedians = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    const bench = new Bench({
      iterations: options.iterations,
      time: 0, // stop at the iteration count: each round is short, the rounds give the repetition
      warmup: round === 0 && options.warmupIterations > 0,
      warmupIterations: options.warmupIterations,
      warmupTime: 0,
      retainSamples: true,
      throws: true,
    });
    const active = tasks.filter((t) => round < (t.maxRounds ?? Infinity));
    const shift = round % active.length;
    const order = [...active.slice(shift), ...active.slice(0, shift)];
    for (const task of order) bench.add(task.name, task.fn, { async: task.async ?? false });
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`bench task ${task.name} ended as ${result.state}`);
      const taskSamples = result.latency.samples ?? [];
      samples.get(task.name)!.push(...taskSamples);
      roundMedians.get(task.name)!.push(result.latency.p50);
    }
    options.onRound?.(round + 1, options.rounds);
  }
  const timings = new Map<string, Timing>();
  for (const task of tasks) {
    const all = samples.get(task.name)!;
    timings.set(task.name, {
      name: task.name,
      medianMs: median(all),
      minMs: Math.min(...all),
      roundMediansMs: roundMedians.get(task.name)!,
      samples: all.length,
    });
  }
  return timings;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Round-median spread as a percentage of the median: (max - min) / median. */
export function spreadPercent(timing: Timing): number {
  const r = timing.roundMediansMs;
  return (100 * (Math.max(...r) - Math.min(...r))) / timing.medianMs;
}
