/**
 * The N-thread entries of the network benchmark: the library's worker pool (createUpscaler with
 * `threads` workers, which run each tile together: the frame is one tile), fed the same 270x480
 * frame and weights as the 1-thread rows. A run is one whole frame through the pool, RGBA out, as a user gets it; for
 * the peers table the output is turned back into a (3, H, W) 8-bit tensor, so its difference to
 * the fp32 output includes the rounding to 8 bits (at most 0.5 inside 0..255).
 */
import { Tensor } from 'msrn-ts/core';
import { createUpscaler } from 'msrn-ts';
import { BenchModels } from './setup.js';

export interface ThreadedRunner {
  readonly threads: number;
  readonly precision: 'fp32' | 'int8';
  /** One whole frame through the pool. Resolves to the (3, H*scale, W*scale) output. */
  run(): Promise<Tensor<Float32Array> | Tensor<Uint8Array>>;
  close(): Promise<void>;
}

/** Printed in place of N-thread rows that could not run. */
export const THREADS_PENDING = 'not measured: the worker pool could not start';

export async function createThreadedForward(
  models: BenchModels,
  frame: Tensor<Float32Array>,
  precision: 'fp32' | 'int8',
  threads: number,
): Promise<ThreadedRunner | null> {
  const upscaler = await createUpscaler({
    precision,
    weights: precision === 'fp32' ? models.fp32Bytes : models.int8Bytes,
    threads,
  });
  const { height, width } = frame;
  const plane = height * width;
  const rgb = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = frame.data[c * plane + i];
  }
  return {
    threads,
    precision,
    async run() {
      const out = await upscaler.upscale({ data: rgb, width, height, channels: 3 });
      const outPlane = out.width * out.height;
      const chw = new Uint8Array(3 * outPlane);
      for (let i = 0; i < outPlane; i++) {
        for (let c = 0; c < 3; c++) chw[c * outPlane + i] = out.data[i * 4 + c];
      }
      return new Tensor(3, out.height, out.width, chw);
    },
    close: () => upscaler.dispose(),
  };
}
