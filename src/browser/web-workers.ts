import type { SpawnWorker } from '../upscaler/worker-pool.js';
import type { ModelWorkerData } from '../upscaler/worker-jobs.js';

/**
 * Model workers as module Web Workers, for the shared WorkerPool. Each is sent its own copy of
 * the weights (a few hundred KB) as its first message.
 *
 * Without `workerUrl` the worker is created with the literal
 * `new Worker(new URL('./model-worker.js', import.meta.url), { type: 'module' })`, the form that
 * Vite (tested: test/browser/bundler.test.ts) and webpack 5 emit as a separate chunk. A worker
 * script must be same-origin: that is also all a strict CSP (`worker-src 'self'`) allows.
 */
export function webWorkers(data: ModelWorkerData, workerUrl?: string | URL): SpawnWorker {
  return (events) => {
    let worker: Worker;
    try {
      worker = workerUrl
        ? new Worker(workerUrl, { type: 'module', name: 'msrn-ts model worker' })
        : new Worker(new URL('./model-worker.js', import.meta.url), { type: 'module', name: 'msrn-ts model worker' });
    } catch (error) {
      throw new Error(`cannot start a model worker from ${String(workerUrl ?? 'model-worker.js')}: ${(error as Error).message}`);
    }
    worker.onmessage = (event) => events.message(event.data);
    worker.onerror = (event) => {
      event.preventDefault(); // reported through the pool instead of the console
      const what = event.message || `its script could not be loaded or run (${String(workerUrl ?? 'model-worker.js')})`;
      events.error(new Error(`a model worker failed: ${what}`));
    };
    worker.onmessageerror = () => events.error(new Error('a model worker sent a reply that could not be read'));
    worker.postMessage(data);
    return {
      postMessage: (message) => worker.postMessage(message),
      terminate: () => worker.terminate(),
    };
  };
}
