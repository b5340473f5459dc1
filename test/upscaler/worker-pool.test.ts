/**
 * The pool's rules, with fake workers that answer when the test says so: the same rules run
 * over worker_threads in Node and over Web Workers in browsers.
 */
import { describe, expect, it } from 'vitest';
import { PoolWorker, PoolWorkerEvents, WorkerPool } from '../../src/upscaler/worker-pool.js';
import type { WorkerJob } from '../../src/upscaler/worker-jobs.js';

interface FakeWorker extends PoolWorker {
  readonly events: PoolWorkerEvents;
  readonly received: number[];
  terminated: boolean;
  busy: boolean | undefined;
}

function fakeSpawner() {
  const workers: FakeWorker[] = [];
  const spawn = (events: PoolWorkerEvents): PoolWorker => {
    const worker: FakeWorker = {
      events,
      received: [],
      terminated: false,
      busy: undefined,
      postMessage: ({ id }) => worker.received.push(id),
      terminate: () => {
        worker.terminated = true;
      },
      setBusy: (busy) => {
        worker.busy = busy;
      },
    };
    workers.push(worker);
    return worker;
  };
  /** Make `worker` answer its latest job with `result`. */
  const answer = (worker: FakeWorker, result: unknown) => worker.events.message({ id: worker.received.at(-1)!, result });
  return { workers, spawn, answer };
}

const job = (n: number): WorkerJob => ({ kind: 'calibrate', method: { method: 'max' }, height: 1, width: n, image: new Float32Array(3 * n) });
const settled = (promise: Promise<unknown>) => promise.then((v) => ({ value: v }), (e: Error) => ({ error: e.message }));

describe('WorkerPool', () => {
  it('runs one job per worker, queues the rest in order, and marks workers busy while they work', async () => {
    const { workers, spawn, answer } = fakeSpawner();
    const pool = new WorkerPool(2, spawn);
    const owner = {};
    const results = [1, 2, 3].map((n) => pool.run<string>(owner, job(n)));
    expect(workers.map((w) => w.received.length)).toEqual([1, 1]);
    expect(workers.map((w) => w.busy)).toEqual([true, true]);
    const first = workers.find((w) => w.received[0] === 0)!;
    answer(first, 'a');
    expect(first.received).toEqual([0, 2]); // the freed worker takes the queued job
    answer(first, 'c');
    expect(first.busy).toBe(false);
    answer(workers.find((w) => w !== first)!, 'b');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    await pool.terminate();
  });

  it("cancel rejects the owner's queued and running jobs and replaces the workers that ran them", async () => {
    const { workers, spawn, answer } = fakeSpawner();
    const pool = new WorkerPool(2, spawn);
    const mine = {};
    const other = {};
    const a = settled(pool.run(mine, job(1)));
    const b = pool.run<string>(other, job(2));
    const c = settled(pool.run(mine, job(3))); // queued
    const [runsMine, runsOther] = workers[0].received[0] === 0 ? [workers[0], workers[1]] : [workers[1], workers[0]];
    pool.cancel(mine, new Error('stop'));
    expect(await a).toEqual({ error: 'stop' });
    expect(await c).toEqual({ error: 'stop' });
    expect(runsMine.terminated).toBe(true);
    expect(runsOther.terminated).toBe(false);
    expect(workers.length).toBe(3); // a fresh worker took the stopped one's place
    runsMine.events.message({ id: 0, result: 'late' }); // a reply that crossed the cancel is ignored
    answer(runsOther, 'b');
    expect(await b).toBe('b');
    const d = pool.run<string>(mine, job(4)); // the pool still has two workers
    const e = pool.run<string>(mine, job(5));
    const busy = workers.filter((w) => !w.terminated && w.received.length > 0 && w.busy);
    expect(busy.length).toBe(2);
    for (const w of busy) answer(w, `r${w.received.at(-1)}`);
    expect((await Promise.all([d, e])).sort()).toEqual(['r3', 'r4']);
    await pool.terminate();
  });

  it('a worker error fails every job and every later run; errors of workers stopped on purpose do not', async () => {
    const { workers, spawn } = fakeSpawner();
    const pool = new WorkerPool(1, spawn);
    const owner = {};
    const running = settled(pool.run(owner, job(1)));
    pool.cancel(owner, new Error('cancelled'));
    workers[0].events.error(new Error('exited')); // the stopped worker's exit
    expect(await running).toEqual({ error: 'cancelled' });
    const next = settled(pool.run(owner, job(2)));
    workers[1].events.error(new Error('a model worker failed: boom'));
    expect(await next).toEqual({ error: 'a model worker failed: boom' });
    expect(workers.every((w) => w.terminated)).toBe(true); // the pool is done: nothing left running
    expect(await settled(pool.run(owner, job(3)))).toEqual({ error: 'a model worker failed: boom' });
    await pool.terminate();
  });

  it('terminate stops every worker and rejects what is left', async () => {
    const { workers, spawn } = fakeSpawner();
    const pool = new WorkerPool(3, spawn);
    const pending = settled(pool.run({}, job(1)));
    await pool.terminate(new Error('disposed'));
    expect(await pending).toEqual({ error: 'disposed' });
    expect(workers.every((w) => w.terminated)).toBe(true);
    expect(await settled(pool.run({}, job(2)))).toEqual({ error: 'disposed' });
    expect(() => new WorkerPool(0, fakeSpawner().spawn)).toThrow(/at least one worker, got 0/);
  });

  it('runGang starts its jobs together once enough workers are idle; jobs queued after it wait', async () => {
    const { workers, spawn, answer } = fakeSpawner();
    const pool = new WorkerPool(2, spawn);
    const owner = {};
    const single = pool.run<string>(owner, job(1)); // takes one worker
    const gang = pool.runGang(owner, [job(2), job(3)]);
    const after = pool.run<string>(owner, job(4)); // queued behind the gang
    expect(workers.map((w) => w.received.length).sort()).toEqual([0, 1]); // the gang waits for both
    answer(workers.find((w) => w.received.length === 1)!, 's');
    expect(workers.map((w) => w.received.at(-1)).sort()).toEqual([1, 2]); // both members started at once
    for (const w of workers) answer(w, `g${w.received.at(-1)}`);
    expect(await gang).toEqual(['g1', 'g2']); // in job order
    expect(await single).toBe('s');
    answer(workers.find((w) => w.received.at(-1) === 3)!, 'x');
    expect(await after).toBe('x');
    await expect(pool.runGang(owner, [job(1), job(2), job(3)])).rejects.toThrow(/a gang of 3 jobs needs as many workers, the pool has 2/);
    await pool.terminate();
  });

  it("runGang waits for every member and rejects with the failing member's error, not the others' aborts", async () => {
    const { workers, spawn } = fakeSpawner();
    const pool = new WorkerPool(2, spawn);
    const gang = settled(pool.runGang({}, [job(1), job(2)]));
    const [a, b] = workers;
    a.events.message({ id: a.received[0], error: 'another member of the gang failed' }); // the abort arrives first
    b.events.message({ id: b.received[0], error: 'input value 0.5 is not an integer 0..255' });
    expect(await gang).toEqual({ error: 'input value 0.5 is not an integer 0..255' });
    expect(a.busy).toBe(false);
    expect(b.busy).toBe(false);
    await pool.terminate();
  });
});
