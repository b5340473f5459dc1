/**
 * A worker thread that holds one WebAssembly peer (onnxruntime-web or tfjs-backend-wasm) for
 * bench/peers/run.ts, so that no wasm module lives in the main thread.
 *
 * Why: when a wasm module grows its memory, V8 detaches the memory's old ArrayBuffer, and the
 * first detached buffer in a thread invalidates a V8 protector for good: every typed-array access
 * in optimized code then also checks for detached buffers. Measured: msrn-ts fp32 1.03 s -> 1.22 s
 * per frame, and tfjs-backend-cpu 18.2 s -> 25.8 s, when the wasm peers shared their thread. The
 * pure-JS engines (msrn-ts, tfjs-backend-cpu) run in the main thread, which no wasm touches.
 *
 * Protocol: workerData says which engine; the worker answers 'ready' (or 'skipped'), then each
 * 'warmup' / 'run' / 'close' request with 'done' / 'result' (with its own timing of the call) /
 * 'closed', or 'error'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor, readWeightBlob } from 'msrn-ts/core';
import { Engine, EngineOrSkip, Frame, onnxruntimeWeb, tfjs } from './engines.js';

export interface WasmWorkerData {
  readonly kind: 'onnxruntime-web' | 'tfjs-backend-wasm';
  /** path to the ONNX export, or the reason there is none */
  readonly onnx: string | { readonly engine: string; readonly threads: number; readonly skipped: string };
  readonly weights: Uint8Array;
  readonly input: { readonly height: number; readonly width: number; readonly data: Float32Array };
  readonly scale: number;
}

export type WasmWorkerReply =
  | { readonly type: 'ready'; readonly engine: string; readonly threads: number; readonly detail: string; readonly maxRounds?: number }
  | { readonly type: 'skipped'; readonly engine: string; readonly threads: number; readonly skipped: string }
  | { readonly type: 'done' }
  | { readonly type: 'result'; readonly output: Float32Array | Uint8Array; readonly ms: number }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly message: string };

const data = workerData as WasmWorkerData;
const post = (reply: WasmWorkerReply) => parentPort!.postMessage(reply); // copied, never transferred

async function start(): Promise<EngineOrSkip> {
  const { height, width } = data.input;
  const frame: Frame = { input: new Tensor(3, height, width, data.input.data), scale: data.scale };
  if (data.kind === 'onnxruntime-web') return onnxruntimeWeb(data.onnx, frame);
  return tfjs('wasm', readWeightBlob(data.weights), frame, frame.input);
}

let engine: Engine | undefined;
try {
  const started = await start();
  if ('skipped' in started) post({ type: 'skipped', engine: started.engine, threads: started.threads, skipped: started.skipped });
  else {
    engine = started;
    post({ type: 'ready', engine: started.engine, threads: started.threads, detail: started.detail, maxRounds: started.maxRounds });
  }
} catch (error) {
  post({ type: 'error', message: (error as Error).message.split('\n')[0] });
}

parentPort!.on('message', async (request: 'warmup' | 'run' | 'close') => {
  try {
    if (!engine) throw new Error('the engine did not start');
    if (request === 'warmup') {
      await engine.warmup();
      post({ type: 'done' });
    } else if (request === 'run') {
      const t0 = performance.now();
      const result = await engine.run();
      post({ type: 'result', output: result.output, ms: performance.now() - t0 });
    } else {
      await engine.close?.();
      post({ type: 'closed' });
    }
  } catch (error) {
    post({ type: 'error', message: (error as Error).message.split('\n')[0] });
  }
});
