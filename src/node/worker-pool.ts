import { Worker } from 'node:worker_threads';
import type { TileJob, TileResult, TileWorkerData } from './tile-worker.js';

/**
 * A fixed set of tile workers and a queue. Each worker takes one job at a time; `cancel` drops a
 * caller's queued jobs (a job already running finishes, its result is discarded), `terminate`
 * stops every worker at once.
 */
interface Pending {
  readonly job: TileJob;
  readonly owner: object;
  readonly resolve: (core: Float32Array | Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;
  private nextId = 0;

  constructor(readonly size: number, data: TileWorkerData) {
    const url = new URL('./tile-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      // Each worker gets its own copy of the weights (a few hundred KB).
      const worker = new Worker(url, { workerData: data });
      worker.unref(); // an idle pool must not keep the process alive
      worker.on('message', (result: TileResult) => this.finish(worker, result));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.failure) this.fail(new Error(`a tile worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  run(owner: object, tile: TileJob['tile'], input: Float32Array): Promise<Float32Array | Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, tile, input }, owner, resolve, reject });
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
      worker.ref(); // busy workers keep the process alive until their tile is done
      worker.postMessage(pending.job, [pending.job.input.buffer as ArrayBuffer]);
    }
  }

  private finish(worker: Worker, result: TileResult): void {
    const pending = this.running.get(worker);
    this.running.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if (pending) {
      if ('error' in result) pending.reject(new Error(result.error));
      else pending.resolve(result.core);
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
