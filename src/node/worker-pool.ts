import { Worker } from 'node:worker_threads';
import type { ModelWorkerData, WorkerJob, WorkerReply } from './model-worker.js';

/**
 * A fixed set of model workers and a queue. Each worker takes one job at a time; `cancel` drops a
 * caller's queued jobs (a job already running finishes, its result is discarded), `terminate`
 * stops every worker at once.
 */
interface Pending {
  readonly id: number;
  readonly job: WorkerJob;
  readonly owner: object;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;
  private nextId = 0;

  constructor(readonly size: number, data: ModelWorkerData) {
    const url = new URL('./model-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      // Each worker gets its own copy of the weights (a few hundred KB).
      const worker = new Worker(url, { workerData: data });
      worker.unref(); // an idle pool must not keep the process alive
      worker.on('message', (reply: WorkerReply) => this.finish(worker, reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.failure) this.fail(new Error(`a model worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /**
   * Queue a job. Its buffers are copied to the worker, never transferred: see model-worker.ts
   * for why no ArrayBuffer may ever be detached in a thread that runs the kernels.
   */
  run<R>(owner: object, job: WorkerJob): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, owner, resolve: resolve as (r: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Drop `owner`'s queued jobs; they reject with `reason`. */
  cancel(owner: object, reason: Error): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].owner === owner) this.queue.splice(i, 1)[0].reject(reason);
    }
    for (const pending of this.running.values()) if (pending.owner === owner) pending.reject(reason);
  }

  async terminate(reason = new Error('the upscaler was disposed')): Promise<void> {
    this.failure ??= reason;
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(reason);
    this.queue.length = 0;
    this.running.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.ref(); // busy workers keep the process alive until their job is done
      worker.postMessage({ id: pending.id, job: pending.job });
    }
  }

  private finish(worker: Worker, reply: WorkerReply): void {
    const pending = this.running.get(worker);
    this.running.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if (pending) {
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.result);
    }
    this.dispatch();
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(error);
    this.queue.length = 0;
    this.running.clear();
  }
}
