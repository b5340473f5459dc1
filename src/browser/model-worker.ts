/**
 * A module Web Worker holding one model: the first message is the model (ModelWorkerData), each
 * later one a job (upscaler/worker-jobs.ts). Replies are copied, never transferred (see there).
 * It imports only the browser-safe core, so it runs unbundled as a native ES module too.
 */
import { ModelWorkerData, WorkerReply, WorkerRequest, createJobHandler } from '../upscaler/worker-jobs.js';

/** The part of DedicatedWorkerGlobalScope used here (the DOM and WebWorker type libraries cannot both be loaded). */
interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;
let handle: ((request: WorkerRequest) => WorkerReply) | undefined;

scope.onmessage = (event) => {
  if (!handle) {
    handle = createJobHandler(event.data as ModelWorkerData);
    return;
  }
  scope.postMessage(handle(event.data as WorkerRequest));
};
