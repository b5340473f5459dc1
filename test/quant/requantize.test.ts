import { describe, expect, it } from 'vitest';
import {
  accumulatorClampRange,
  planRequantize,
  requantizeRow,
  INT32_MAX,
  INT32_MIN,
  frexp,
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierReference,
  quantizeMultiplier,
  roundHalfAway,
  roundingDivideByPOT,
  roundingDivideByPOTReference,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingDoublingHighMulReference,
} from '../../src/quant/requantize.js';
import { rng } from '../helpers/random.js';

const random = rng(2024);
const int32 = () => Math.floor(random() * 2 ** 32) - 2 ** 31;

describe('requantization primitives', () => {
  it('match hand-computed values', () => {
    expect(saturatingRoundingDoublingHighMul(2 ** 30, 2 ** 30)).toBe(2 ** 29);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(1, 2 ** 30)).toBe(1); // 0.5 rounds away from zero
    expect(saturatingRoundingDoublingHighMul(-1, 2 ** 30)).toBe(0); // gemmlowp's nudge: -0.5 goes toward zero
    expect(saturatingRoundingDoublingHighMul(3, 2 ** 30 + 2 ** 29)).toBe(2); // 2.25 -> 2
    expect(roundingDivideByPOT(5, 1)).toBe(3); // 2.5 -> 3
    expect(roundingDivideByPOT(-5, 1)).toBe(-3); // -2.5 -> -3 (away from zero)
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // -1.5 -> -2
    expect(roundingDivideByPOT(-5, 2)).toBe(-1); // -1.25 -> -1
    expect(roundingDivideByPOT(7, 0)).toBe(7);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1);
  });

  it('frexp and round behave like C', () => {
    expect(frexp(1)).toEqual([0.5, 1]);
    expect(frexp(0.75)).toEqual([0.75, 0]);
    expect(frexp(3e-10)[0]).toBeGreaterThanOrEqual(0.5);
    const [q, e] = frexp(3e-10);
    expect(q * 2 ** e).toBe(3e-10);
    expect([roundHalfAway(2.5), roundHalfAway(-2.5), roundHalfAway(0.49999999999999994), roundHalfAway(-0.4)]).toEqual([3, -3, 0, -0]);
  });

  it('quantizeMultiplier follows TFLite', () => {
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 3 * 2 ** 29, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 }); // rounds up to 2^31
    expect(quantizeMultiplier(1e-12)).toEqual({ multiplier: 0, shift: 0 }); // below 2^-31
    expect(() => quantizeMultiplier(2 ** 31)).toThrow(/too large/);
    expect(() => quantizeMultiplier(Number.NaN)).toThrow(/finite/);
    for (let i = 0; i < 1000; i++) {
      const real = Math.exp((random() - 0.8) * 30);
      const { multiplier, shift } = quantizeMultiplier(real);
      if (multiplier === 0) continue;
      expect(multiplier).toBeGreaterThanOrEqual(2 ** 30);
      expect(multiplier).toBeLessThan(2 ** 31);
      expect(Math.abs((multiplier * 2 ** shift) / 2 ** 31 - real) / real).toBeLessThan(2 ** -30);
    }
  });

  it('the fast double-split versions equal the BigInt references on random and edge inputs', () => {
    // Around 2^21 the fast path (exact doubles) hands over to the split product.
    const edges = [0, 1, -1, 2, -2, 2 ** 21 - 1, -(2 ** 21) + 1, 2 ** 21, -(2 ** 21), 2 ** 30, -(2 ** 30), INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 65535, -65536];
    const multipliers = [0, 2 ** 30, 2 ** 31 - 1, 2 ** 30 + 1, 1518500250, 65536, 65535];
    for (const a of edges) for (const b of [...multipliers, ...edges]) {
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(saturatingRoundingDoublingHighMulReference(a, b));
    }
    for (let i = 0; i < 20000; i++) {
      const a = int32();
      const b = i % 2 ? int32() : 2 ** 30 + Math.floor(random() * 2 ** 30);
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(saturatingRoundingDoublingHighMulReference(a, b));
      const exponent = Math.floor(random() * 32);
      expect(roundingDivideByPOT(a, exponent)).toBe(roundingDivideByPOTReference(a, exponent));
      const shift = Math.floor(random() * 40) - 31;
      const x = i % 3 ? Math.floor((random() - 0.5) * 2 ** 24) : a;
      expect(multiplyByQuantizedMultiplier(x, b >= 0 ? b : -b, shift)).toBe(
        multiplyByQuantizedMultiplierReference(x, b >= 0 ? b : -b, shift),
      );
    }
    for (const x of edges) for (const shift of [-31, -20, -1, 0, 1, 5, 30]) {
      expect(multiplyByQuantizedMultiplier(x, 2 ** 30 + 12345, shift)).toBe(
        multiplyByQuantizedMultiplierReference(x, 2 ** 30 + 12345, shift),
      );
    }
  });

  it('requantizeRow equals multiplyByQuantizedMultiplier + clamp value by value, rounding first when asked', () => {
    const values = [0, 1, -1, 0.49, -0.49, 1.4, -1.6, 2 ** 21 - 1, -(2 ** 21) + 1, 2 ** 21, -(2 ** 21), 2 ** 22, -(2 ** 22), 2 ** 25, -(2 ** 25), INT32_MAX, INT32_MIN];
    for (let i = 0; i < 1200; i++) values.push(Math.floor((random() - 0.5) * 2 ** (4 + (i % 24))) + (i % 5 === 0 ? random() * 0.4 - 0.2 : 0));
    const acc = Float64Array.from([7, ...values]); // offset 1 below
    const shifts = [-31, -30, -22, -20, -12, -9, -1, 0, 1, 6];
    const multipliers = [0, 2 ** 30, 2 ** 31 - 1, 1518500250];
    // one channel per (multiplier, shift): the plan takes its fast path for some, not for others
    const multiplier = Int32Array.from(shifts.flatMap(() => multipliers));
    const shift = Int32Array.from(shifts.flatMap((s) => multipliers.map(() => s)));
    for (const [lo, hi, dst] of [[-128, 127, new Int8Array(values.length + 2)], [0, 127, new Int8Array(values.length + 2)], [0, 255, new Uint8Array(values.length + 2)]] as const) {
      const plan = planRequantize(multiplier, shift, lo, hi);
      expect(plan.accLo.some(Number.isNaN)).toBe(true);
      expect(plan.accLo.some((v) => !Number.isNaN(v))).toBe(true);
      for (let co = 0; co < multiplier.length; co++) {
        for (const round of [false, true]) {
          requantizeRow(acc, 1, values.length, plan, co, dst, 2, round);
          values.forEach((raw, i) => {
            const x = round ? Math.round(raw) : raw;
            if (!Number.isInteger(x)) return; // unrounded fractions are not accumulators
            const v = multiplyByQuantizedMultiplierReference(x, multiplier[co], shift[co]);
            expect(dst[i + 2]).toBe(Math.min(hi, Math.max(lo, v)));
          });
        }
      }
    }
  });

  it('requantizeRow clamps exactly around each fast channel\'s accLo, accHi, 0 and +-2^21', () => {
    // The fast loops clamp the int8 result, not the accumulator: values just inside and outside
    // the accumulator range, and far outside it (up to int32), with Winograd-like fractions.
    for (let trial = 0; trial < 300; trial++) {
      const { multiplier, shift } = quantizeMultiplier(Math.exp(-random() * 14));
      const [lo, hi, dst] = trial % 3 === 0 ? [0, 255, new Uint8Array(64)] : trial % 3 === 1 ? [-128, 127, new Int8Array(64)] : [0, 127, new Int8Array(64)];
      const plan = planRequantize(Int32Array.of(multiplier), Int32Array.of(shift), lo, hi);
      if (Number.isNaN(plan.accLo[0])) continue;
      const exact = [0, plan.accLo[0], plan.accHi[0], 2 ** 21, -(2 ** 21), INT32_MAX, INT32_MIN + 1].flatMap((c) => [c - 2, c - 1, c, c + 1, c + 2]);
      const clamped = exact.filter((a) => a >= INT32_MIN && a <= INT32_MAX);
      for (const round of [false, true]) {
        const acc = Float64Array.from(clamped, (a) => (round && Math.abs(a) < 2 ** 30 ? a + (random() - 0.5) * 0.45 : a));
        requantizeRow(acc, 0, acc.length, plan, 0, dst, 0, round);
        clamped.forEach((a, i) => expect(dst[i]).toBe(Math.min(hi, Math.max(lo, multiplyByQuantizedMultiplierReference(a, multiplier, shift)))));
      }
    }
  });

  it('accumulatorClampRange gives the accumulators that requantize to exactly lo..hi', () => {
    for (let i = 0; i < 300; i++) {
      const { multiplier, shift } = quantizeMultiplier(Math.exp(-random() * 14));
      const [lo, hi] = i % 3 === 0 ? [0, 255] : i % 3 === 1 ? [-128, 127] : [0, 127];
      const range = accumulatorClampRange(multiplier, shift, lo, hi);
      if (!range) {
        // only where the fast path cannot hold: a range reaching 2^21, or a shift outside [-21, -1]
        const wide = Math.max(Math.abs(lo), hi + 1) * 2 ** (31 - shift) / multiplier >= 2 ** 20;
        expect(multiplier === 0 || shift > -1 || shift < -21 || wide).toBe(true);
        continue;
      }
      const [accLo, accHi] = range;
      const v = (a: number) => multiplyByQuantizedMultiplierReference(a, multiplier, shift);
      expect([v(accLo - 1) < lo, v(accLo), v(accHi), v(accHi + 1) > hi]).toEqual([true, lo, hi, true]);
      expect(Math.max(-accLo, accHi)).toBeLessThan(2 ** 21);
    }
    expect(accumulatorClampRange(2 ** 30, 1, 0, 127)).toBeNull(); // real multiplier above 1
    expect(accumulatorClampRange(2 ** 30, 0, 0, 127)).toBeNull(); // e = 0: the formula needs e >= 1
    expect(accumulatorClampRange(0, -5, 0, 127)).toBeNull();
    expect(accumulatorClampRange(2 ** 30, -22, 0, 127)).toBeNull();
    expect(accumulatorClampRange(2 ** 30, -21, 0, 127)).toBeNull(); // 127 needs a up to ~2^29
    // M = 2^30, e = 9: v(a) = round(a / 1024), ties away from zero after the high mul's a / 2:
    // v(-512) = round(-0.5) = -1, v(-511) = 0; v(130558) = 127, v(130559): 65280 / 512 = 127.5 -> 128
    expect(accumulatorClampRange(2 ** 30, -9, 0, 127)).toEqual([-511, 130558]);
  });
});
