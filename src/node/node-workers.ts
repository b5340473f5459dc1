import { Worker } from 'node:worker_threads';
import type { SpawnWorker } from '../upscaler/worker-pool.js';
import type { ModelWorkerData } from '../upscaler/worker-jobs.js';

/**
 * Model workers as worker_threads, for the shared WorkerPool. Each worker gets its own copy of
 * the weights (a few hundred KB). An idle worker is unref'd so that an idle pool never keeps the
 * process alive; a busy one is ref'd until its job is done.
 */
export function nodeWorkers(data: ModelWorkerData): SpawnWorker {
  const url = new URL('./model-worker.js', import.meta.url);
  return (events) => {
    const worker = new Worker(url, { workerData: data });
    let stopping = false;
    worker.on('message', events.message);
    worker.on('error', events.error);
    worker.on('exit', (code) => {
      if (code !== 0 && !stopping) events.error(new Error(`a model worker exited with code ${code}`));
    });
    return {
      postMessage: (message) => worker.postMessage(message),
      terminate: () => {
        stopping = true;
        return worker.terminate();
      },
      setBusy: (busy) => (busy ? worker.ref() : worker.unref()),
    };
  };
}
