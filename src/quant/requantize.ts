/**
 * Integer requantization, as TFLite does it (QuantizeMultiplier, MultiplyByQuantizedMultiplier
 * with gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT). docs/INT8.md
 * section 2 is the spec; tools/int8_reference.py implements the same with Python integers.
 *
 * JS numbers hold integers exactly only below 2^53, and the 32x32-bit product here reaches 2^62,
 * so the fast version splits the multiplier into 15 + 16 bits. The `*Reference` versions use
 * BigInt (obviously exact, slow) and the tests compare the two.
 */
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const TWO_31 = 2147483648;
const TWO_30 = 1073741824;

export interface QuantizedMultiplier {
  /** int32 in [2^30, 2^31), or 0 */
  readonly multiplier: number;
  /** power of two: positive shifts left, negative shifts right; in [-31, 30] */
  readonly shift: number;
}

/** C's frexp: v = q * 2^e with 0.5 <= |q| < 1 (q = v = 0 for 0). Exact: only powers of two are applied. */
export function frexp(v: number): [number, number] {
  if (v === 0 || !Number.isFinite(v)) return [v, 0];
  let e = Math.floor(Math.log2(Math.abs(v))) + 1;
  let q = v * 2 ** -e;
  while (Math.abs(q) < 0.5) {
    q *= 2;
    e--;
  }
  while (Math.abs(q) >= 1) {
    q /= 2;
    e++;
  }
  return [q, e];
}

/**
 * Round half away from zero (C's round), the rounding of the whole int8 spec. Math.round is exact
 * (ties toward +infinity); floor(v + 0.5) is not: it rounds 0.49999999999999994 up to 1.
 */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!Number.isFinite(real) || real < 0) throw new RangeError(`requantization multiplier must be finite and >= 0, got ${real}`);
  if (real === 0) return { multiplier: 0, shift: 0 };
  let [q, shift] = frexp(real);
  let fixed = roundHalfAway(q * TWO_31);
  if (fixed === TWO_31) {
    fixed /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (shift > 30) throw new RangeError(`requantization multiplier ${real} is too large (shift ${shift} > 30)`);
  return { multiplier: fixed, shift };
}

/**
 * MultiplyByQuantizedMultiplier(x, m, shift) for int32 x: round(x * m * 2^shift / 2^31) with
 * gemmlowp's rounding, exactly, in doubles.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  let a = shift > 0 ? x * POW2[shift] : x;
  if (a > INT32_MAX) a = INT32_MAX;
  else if (a < INT32_MIN) a = INT32_MIN;
  const high = saturatingRoundingDoublingHighMul(a, multiplier);
  return shift < 0 ? roundingDivideByPOT(high, -shift) : high;
}

/** 2^0 .. 2^31, so hot paths never call Math.pow. */
const POW2 = Float64Array.from({ length: 32 }, (_, i) => 2 ** i);
const TWO_21 = 2097152;
/** 2^0 .. 2^-63 */
const POW2_NEGATIVE = Float64Array.from({ length: 64 }, (_, i) => 2 ** -i);
const TWO_MINUS_31 = 2 ** -31;

/** trunc((a * b + nudge) / 2^31) for int32 a, b, exact although a * b needs up to 62 bits. */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  const nudge = (a >= 0) === (b >= 0) || a === 0 || b === 0 ? TWO_30 : 1 - TWO_30;
  if (a < TWO_21 && a > -TWO_21) {
    // Fast path (most conv accumulators): |a * b| < 2^52, so the product and the nudged sum are
    // exact doubles, and scaling by 2^-31 is exact too.
    return ((a * b + nudge) * TWO_MINUS_31) | 0; // | 0 truncates toward zero (and never gives -0)
  }
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // a * b = a * bHigh * 2^16 + a * bLow: both partial products stay below 2^47.
  const bHigh = b >> 16;
  const bLow = b & 0xffff;
  const high = a * bHigh;
  const low = a * bLow;
  // high * 2^16 = q * 2^31 + r * 2^16 with 0 <= r < 2^15, so the total is q * 2^31 + rest.
  const q = Math.floor(high / 32768);
  const rest = (high - q * 32768) * 65536 + low + nudge;
  const restHigh = Math.floor(rest / TWO_31);
  const floorResult = q + restHigh;
  const remainder = rest - restHigh * TWO_31;
  // floor -> truncation toward zero for negative totals.
  return floorResult < 0 && remainder !== 0 ? floorResult + 1 : floorResult;
}

export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = exponent >= 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * One conv's per-output-channel requantization, planned once at model load so the row loop
 * below takes no per-value decisions: multiplier and shift (TFLite's), the output clamp
 * [lo, hi], and for each channel the accumulator range [accLo, accHi] of the fast path.
 */
export interface RequantizePlan {
  readonly multiplier: Int32Array;
  readonly shift: Int32Array;
  readonly lo: number;
  readonly hi: number;
  /**
   * Per channel, an accumulator range whose requantized values are exactly lo..hi:
   * requantize(clamp(a, accLo, accHi)) = clamp(requantize(a), lo, hi) for every int32 a.
   * NaN where the fast path does not apply (see accumulatorClampRange). accLo is 0 rather than
   * negative where 0 already requantizes to lo.
   */
  readonly accLo: Float64Array;
  readonly accHi: Float64Array;
}

export function planRequantize(multiplier: Int32Array, shift: Int32Array, lo: number, hi: number): RequantizePlan {
  if (multiplier.length !== shift.length) throw new RangeError(`planRequantize: ${multiplier.length} multipliers but ${shift.length} shifts`);
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi)) throw new RangeError(`planRequantize: bad clamp [${lo}, ${hi}]`);
  const accLo = new Float64Array(multiplier.length).fill(Number.NaN);
  const accHi = new Float64Array(multiplier.length).fill(Number.NaN);
  for (let co = 0; co < multiplier.length; co++) {
    const range = accumulatorClampRange(multiplier[co], shift[co], lo, hi);
    if (!range) continue;
    [accLo[co], accHi[co]] = range;
    // Where 0 itself requantizes to lo (a ReLU's clamp at 0: every body conv of MSRN), all of
    // accLo..0 gives lo as well (v is monotone), so the clamp may start at 0: then the fast loop
    // sees only a >= 0 and drops the sign term of the negative rounding.
    if (accLo[co] < 0 && multiplyByQuantizedMultiplier(0, multiplier[co], shift[co]) === lo) accLo[co] = 0;
  }
  return { multiplier, shift, lo, hi, accLo, accHi };
}

/**
 * The int32 accumulators whose requantized value lies in [lo, hi]: [accLo, accHi] with
 * v(accLo) = lo and v(accHi) = hi, where v(a) = MultiplyByQuantizedMultiplier(a, multiplier, shift).
 * Then clamping the accumulator to [accLo, accHi] first clamps the result to [lo, hi] exactly,
 * because v is monotone (both of its roundings are) and, for shift <= 0 (a real multiplier below
 * 1), rises by at most 1 per unit step of a, so it takes every value between lo and hi.
 *
 * Returns null where the fast path of requantizeRow does not apply: a zero multiplier, a shift
 * outside [-21, -1], or a range reaching 2^21 (see requantizeRow for why). Found by bisection on
 * the exact (tested) multiplyByQuantizedMultiplier.
 */
export function accumulatorClampRange(multiplier: number, shift: number, lo: number, hi: number): [number, number] | null {
  if (multiplier === 0 || shift > -1 || shift < -21) return null;
  const v = (a: number) => multiplyByQuantizedMultiplier(a, multiplier, shift);
  if (!(v(INT32_MIN) < lo && v(INT32_MAX) > hi)) return null;
  // smallest a with v(a) >= target, for v(INT32_MIN) < target <= v(INT32_MAX)
  const firstAtLeast = (target: number): number => {
    let below = INT32_MIN; // v(below) < target
    let above = INT32_MAX; // v(above) >= target
    while (above - below > 1) {
      const mid = Math.floor((below + above) / 2);
      if (v(mid) >= target) above = mid;
      else below = mid;
    }
    return above;
  };
  const accLo = firstAtLeast(lo);
  const accHi = firstAtLeast(hi + 1) - 1;
  if (!(accLo > -TWO_21 && accHi < TWO_21)) return null;
  return [accLo, accHi];
}

/**
 * A row of conv accumulators through requantization and the clamp, for output channel `co` of
 * `plan`: dst[dstOffset + i] = clamp(MultiplyByQuantizedMultiplier(acc[accOffset + i]), lo, hi),
 * with the accumulators first rounded to the nearest integer when `round` is set (the Winograd
 * engine delivers them within its error bound, below 1/4, of the exact integers).
 *
 * Every per-channel decision is taken once per row, and the fast path (channels with an
 * accumulator clamp range: all of MSRN's) has no data-dependent branch: conv outputs change sign
 * and hit the clamp at random, so such branches mispredict. It is one floor of one exact double:
 * - the result is clamped to [lo, hi] as an int32 with shifts and masks, no branch and no
 *   Math.min / Math.max (V8 compiles those on doubles to compares and branches for NaN and -0,
 *   which mispredict on conv rows: measured on a 32->32 conv's accumulators, half of them
 *   negative, 9.8 -> 2.3 ns a value). For |a| < 2^21 the double below is exact (next point);
 *   a channel has the fast path only if every a beyond [accLo, accHi] (accumulatorClampRange,
 *   within +-2^21) requantizes to lo or hi, and on each side of 0 the computed double is
 *   monotone in a (each rounding is), so beyond that range it lands at or past the computed
 *   value at accLo or accHi, which is exact: the clamp gives lo or hi there, as the spec does.
 * - With e = -shift >= 1 and n = 1 when the doubling high mul is negative (else 0):
 *   SaturatingRoundingDoublingHighMul(a, M) = floor(a M / 2^31 + 1/2) (gemmlowp's nudge of 2^30,
 *   or 1 - 2^30 for negative products, then truncation toward zero), and
 *   RoundingDivideByPOT(h, e) = h >> e, plus 1 when (h & mask) > mask / 2 + n,
 *     = floor((h + 2^(e-1) - n) / 2^e)  (round half up, or half down for negative h).
 *   With floor((floor(x) + k) / 2^e) = floor((x + k) / 2^e) for integer k:
 *     v = floor(a M / 2^(31+e) + 1/2 + 2^-(e+1) - n 2^-e).
 *   n may be taken as (a < 0): where h = 0 and a < 0, both choices of n give 0 (for e >= 1).
 * - That double is exact: a M / 2^(31+e) is a power-of-two scaling of an integer below 2^52, and
 *   the whole is an integer below 2^52 + 2^51 + 2^30 < 2^53 in units of 2^-(31+e) (e <= 21).
 * Other channels go value by value through multiplyByQuantizedMultiplier.
 * The `round` test is hoisted out of the loops (measured: 25% of the loop's time inside it).
 */
export function requantizeRow(
  acc: Float64Array,
  accOffset: number,
  count: number,
  plan: RequantizePlan,
  co: number,
  dst: Int8Array | Uint8Array,
  dstOffset: number,
  round: boolean,
): void {
  const accLo = plan.accLo[co];
  const multiplier = plan.multiplier[co];
  const shift = plan.shift[co];
  if (Number.isNaN(accLo)) {
    const { lo, hi } = plan;
    for (let i = 0; i < count; i++) {
      // Math.floor(x + 0.5), not Math.round: V8 compiles Math.round to a branch on the fraction,
      // which mispredicts on real data (measured: 3x slower on real conv rows), while Math.floor
      // is one instruction. Winograd sums are within 1/4 of their integer, so any rounding to
      // nearest gives it.
      const a = round ? Math.floor(acc[accOffset + i] + 0.5) : acc[accOffset + i];
      const v = multiplyByQuantizedMultiplier(a, multiplier, shift);
      dst[dstOffset + i] = v < lo ? lo : v > hi ? hi : v;
    }
    return;
  }
  const scale = multiplier * POW2_NEGATIVE[31 - shift]; // M / 2^(31+e), exact
  const halfUp = 0.5 + POW2_NEGATIVE[1 - shift]; // 1/2 + 2^-(e+1)
  const step = POW2_NEGATIVE[-shift]; // 2^-e
  const { lo, hi } = plan;
  // Both loops round every accumulator: Math.floor(a + 0.5) gives an exact (integer) one back,
  // so `round` needs no loop of its own. `| 0` on the indices spares V8's overflow checks.
  if (accLo >= 0) requantizeRowNonNegative(acc, accOffset, count, lo, hi, scale, halfUp, dst, dstOffset);
  else requantizeRowSigned(acc, accOffset, count, lo, hi, scale, halfUp, step, dst, dstOffset);
}

/**
 * requantizeRow's fast path where every a < 0 requantizes to lo (accLo >= 0: a ReLU's clamp, all
 * of MSRN's body convs), so the sign term can be dropped: for a < 0 the double is below 1/2 + 1/2,
 * its truncation at most 0, and the clamp takes it to lo >= 0. For the a >= 0 that matter,
 * truncation (`| 0`) is the floor.
 */
function requantizeRowNonNegative(
  acc: Float64Array,
  accOffset: number,
  count: number,
  lo: number,
  hi: number,
  scale: number,
  halfUp: number,
  dst: Int8Array | Uint8Array,
  dstOffset: number,
): void {
  for (let i = 0; i < count; i = (i + 1) | 0) {
    const a = Math.floor(acc[(accOffset + i) | 0] + 0.5);
    const v = (a * scale + halfUp) | 0;
    const aboveLo = (v - lo) | 0; // clamp below: lo + max(v - lo, 0)
    const w = (lo + (aboveLo & ~(aboveLo >> 31))) | 0;
    const aboveHi = (w - hi) | 0; // clamp above: hi + min(w - hi, 0)
    dst[(dstOffset + i) | 0] = (hi + (aboveHi & (aboveHi >> 31))) | 0;
  }
}

/**
 * requantizeRow's fast path for channels whose negative accumulators matter (no ReLU clamp). The
 * clamp is written out here and in requantizeRowNonNegative: as a shared helper function it
 * measured 8-15% slower a value (2.35 -> 2.69 ns, 3.3 -> 3.8 ns).
 */
function requantizeRowSigned(
  acc: Float64Array,
  accOffset: number,
  count: number,
  lo: number,
  hi: number,
  scale: number,
  halfUp: number,
  step: number,
  dst: Int8Array | Uint8Array,
  dstOffset: number,
): void {
  for (let i = 0; i < count; i = (i + 1) | 0) {
    const a = Math.floor(acc[(accOffset + i) | 0] + 0.5);
    const v = Math.floor(a * scale + (halfUp - ((a | 0) >>> 31) * step)) | 0;
    const aboveLo = (v - lo) | 0;
    const w = (lo + (aboveLo & ~(aboveLo >> 31))) | 0;
    const aboveHi = (w - hi) | 0;
    dst[(dstOffset + i) | 0] = (hi + (aboveHi & (aboveHi >> 31))) | 0;
  }
}

// ---- References: the spec written with BigInt, for the tests. ----

export function saturatingRoundingDoublingHighMulReference(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero
}

export function roundingDivideByPOTReference(x: number, exponent: number): number {
  const big = BigInt(x);
  const mask = (1n << BigInt(exponent)) - 1n;
  const remainder = big & mask;
  const threshold = (mask >> 1n) + (big < 0n ? 1n : 0n);
  return Number((big >> BigInt(exponent)) + (remainder > threshold ? 1n : 0n));
}

export function multiplyByQuantizedMultiplierReference(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  let shifted = BigInt(x) * (1n << BigInt(left));
  if (shifted > BigInt(INT32_MAX)) shifted = BigInt(INT32_MAX);
  if (shifted < BigInt(INT32_MIN)) shifted = BigInt(INT32_MIN);
  return roundingDivideByPOTReference(saturatingRoundingDoublingHighMulReference(Number(shifted), multiplier), right);
}
