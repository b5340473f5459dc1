/**
 * A worker_threads worker holding one model: the model comes in its workerData, each message is
 * a job (upscaler/worker-jobs.ts), and each reply is copied back, never transferred (see there).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelWorkerData, WorkerRequest, createJobHandler } from '../upscaler/worker-jobs.js';

const handle = createJobHandler(workerData as ModelWorkerData);
parentPort!.on('message', (request: WorkerRequest) => parentPort!.postMessage(handle(request)));
