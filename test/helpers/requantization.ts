import { quantizeMultiplier } from '../../src/quant/index.js';

/** Per-channel TFLite multipliers and shifts for real scales spread over exp(-maxLog) .. 1. */
export function randomRequantization(random: () => number, channels: number, maxLog: number): { multiplier: Int32Array; shift: Int32Array } {
  const multiplier = new Int32Array(channels);
  const shift = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const q = quantizeMultiplier(Math.exp(-random() * maxLog));
    multiplier[c] = q.multiplier;
    shift[c] = q.shift;
  }
  return { multiplier, shift };
}
