/**
 * `npm run bench:detach`: how much slower msrn-ts runs in a thread where an ArrayBuffer has been
 * detached (by a postMessage transfer, or by WebAssembly memory growth). The first detach in a
 * thread invalidates a V8 protector for good, after which optimized code checks every
 * typed-array access for a detached buffer. This is why the worker pool copies its messages
 * (src/node/model-worker.ts) and bench:peers runs the wasm peers in worker threads.
 *
 * One process, fp32 forward on the 270x480 frame: 5 frames, then one 16-byte buffer detached
 * with structuredClone(..., { transfer }), then 5 frames; medians, after one warm-up frame.
 * The order cannot be interleaved: a detach cannot be undone.
 */
import { forwardF32 } from 'msrn-ts/core';
import { buildModels, syntheticFrame } from './lib/setup.js';

const models = buildModels();
const frame = syntheticFrame();
const medianOf = (runs: number): number => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    forwardF32(models.fp32, frame);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[runs >> 1];
};

forwardF32(models.fp32, frame); // warm-up
const before = medianOf(5);
const buffer = new ArrayBuffer(16);
structuredClone(buffer, { transfer: [buffer] });
if (buffer.byteLength !== 0) throw new Error('the buffer was not detached');
const after = medianOf(5);
console.log(`fp32 forward, 270x480, 1 thread: ${before.toFixed(0)} ms before a detached ArrayBuffer, ${after.toFixed(0)} ms after (${((after / before - 1) * 100).toFixed(0)}% slower)`);
