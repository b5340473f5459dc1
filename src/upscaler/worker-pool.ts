import type { WorkerJob, WorkerReply } from './worker-jobs.js';
import { GANG_ABORTED_MESSAGE } from '../tensor/shared-barrier.js';

/**
 * A fixed number of model workers and a queue, whatever the runtime: Node's worker_threads and
 * the browser's Web Workers each give a `SpawnWorker` (node/node-workers.ts,
 * browser/web-workers.ts), and the queueing, cancelling and failure rules live here once.
 *
 * Each worker takes one job at a time. `cancel` drops a caller's queued jobs and stops its running
 * ones at once: their workers are terminated and replaced by fresh ones, so an aborted upscale
 * burns no more CPU (a tile can take seconds). `terminate` stops every worker.
 */
export interface PoolWorker {
  postMessage(message: { readonly id: number; readonly job: WorkerJob }): void;
  /** Stops the worker now; its exit must not be reported as an error. */
  terminate(): Promise<unknown> | void;
  /** Node: a busy worker keeps the process alive, an idle one must not. */
  setBusy?(busy: boolean): void;
}

export interface PoolWorkerEvents {
  message(reply: WorkerReply): void;
  /** the worker failed to start, threw outside a job, or exited on its own */
  error(error: Error): void;
}

export type SpawnWorker = (events: PoolWorkerEvents) => PoolWorker;

interface Pending {
  readonly id: number;
  readonly job: WorkerJob;
  readonly owner: object;
  /** the size of the gang this job belongs to (its members queue one after the other), else 1 */
  readonly gang: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly idle: PoolWorker[] = [];
  private readonly running = new Map<PoolWorker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly workers = new Set<PoolWorker>();
  /** terminations in flight, awaited by terminate() so nothing is left running after it */
  private readonly stopping = new Set<Promise<unknown>>();
  private failure: Error | undefined;
  private nextId = 0;

  constructor(
    readonly size: number,
    private readonly spawn: SpawnWorker,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a worker pool needs at least one worker, got ${size}`);
    for (let i = 0; i < size; i++) this.idle.push(this.start());
  }

  /** Queue a job; it resolves with the worker's result or rejects with its error. */
  run<R>(owner: object, job: WorkerJob): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, owner, gang: 1, resolve: resolve as (r: unknown) => void, reject });
      this.dispatch();
    });
  }

  /**
   * Queue jobs that must run at the same time, one per worker (a gang, gang-tile.ts: they wait
   * for each other at barriers). They start together once that many workers are idle; jobs
   * queued after them wait. Resolves with every result in order; if any fail, rejects once all
   * have ended, with the first error that is not another member's GangAbortedError.
   */
  async runGang(owner: object, jobs: readonly WorkerJob[]): Promise<unknown[]> {
    if (jobs.length > this.size) throw new RangeError(`a gang of ${jobs.length} jobs needs as many workers, the pool has ${this.size}`);
    if (this.failure) throw this.failure;
    const results = jobs.map(
      (job) =>
        new Promise<unknown>((resolve, reject) => {
          this.queue.push({ id: this.nextId++, job, owner, gang: jobs.length, resolve, reject });
        }),
    );
    this.dispatch();
    const settled = await Promise.allSettled(results);
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as Error);
    if (failed.length > 0) throw failed.find((e) => e.message !== GANG_ABORTED_MESSAGE) ?? failed[0];
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
  }

  /** Reject `owner`'s queued and running jobs with `reason`; the workers running them are replaced. */
  cancel(owner: object, reason: Error): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].owner === owner) this.queue.splice(i, 1)[0].reject(reason);
    }
    for (const [worker, pending] of [...this.running]) {
      if (pending.owner !== owner) continue;
      pending.reject(reason);
      this.running.delete(worker);
      this.stop(worker);
      if (!this.failure) this.idle.push(this.start());
    }
    this.dispatch();
  }

  /** Stop every worker; queued and running jobs reject with `reason`. */
  async terminate(reason = new Error('the upscaler was disposed')): Promise<void> {
    this.failure ??= reason;
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(reason);
    this.queue.length = 0;
    this.running.clear();
    this.idle.length = 0;
    for (const worker of this.workers) this.stop(worker);
    await Promise.all(this.stopping);
  }

  private start(): PoolWorker {
    const worker: PoolWorker = this.spawn({
      message: (reply) => this.finish(worker, reply),
      error: (error) => {
        if (this.workers.has(worker)) this.fail(error); // not one stopped on purpose
      },
    });
    worker.setBusy?.(false);
    this.workers.add(worker);
    return worker;
  }

  private stop(worker: PoolWorker): void {
    this.workers.delete(worker);
    const done = Promise.resolve(worker.terminate()).catch(() => undefined);
    this.stopping.add(done);
    void done.then(() => this.stopping.delete(done));
  }

  private dispatch(): void {
    // in queue order; a gang at the head waits until it can start whole
    while (this.queue.length > 0 && this.idle.length >= this.queue[0].gang) {
      for (let k = this.queue[0].gang; k > 0; k--) {
        const worker = this.idle.pop()!;
        const pending = this.queue.shift()!;
        this.running.set(worker, pending);
        worker.setBusy?.(true);
        worker.postMessage({ id: pending.id, job: pending.job });
      }
    }
  }

  private finish(worker: PoolWorker, reply: WorkerReply): void {
    if (!this.workers.has(worker)) return; // a reply that crossed a cancel: the worker is gone
    const pending = this.running.get(worker);
    this.running.delete(worker);
    worker.setBusy?.(false);
    this.idle.push(worker);
    if (pending) {
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.result);
    }
    this.dispatch();
  }

  /**
   * A worker died: the pool is done. Every job rejects and every worker stops, since a job still
   * running may never end (a gang member would wait for the dead one at its next barrier) and,
   * in Node, a busy worker keeps the process alive.
   */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(error);
    this.queue.length = 0;
    this.running.clear();
    this.idle.length = 0;
    for (const worker of [...this.workers]) this.stop(worker);
  }
}
