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
const TWO_22 = 4194304;
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
 * A row of conv accumulators through requantization and the clamp: dst[dstOffset + i] =
 * clamp(MultiplyByQuantizedMultiplier(acc[accOffset + i], multiplier, shift), lo, hi), with the
 * accumulators first rounded to the nearest integer when `round` is set (the Winograd engine
 * delivers them within its error bound, below 1/4, of the exact integers).
 *
 * The same arithmetic as multiplyByQuantizedMultiplier, with the per-channel decisions taken
 * once per row, and for the usual right shift a fast path without sign-dependent branches (conv
 * outputs change sign at random, so such branches mispredict; measured: this loop was the int8
 * path's largest cost after the convs). For |a| < 2^22:
 * - SaturatingRoundingDoublingHighMul(a, M) is round-half-up of a * M / 2^31 (gemmlowp's nudge
 *   of 2^30, or 1 - 2^30 for negative products, then truncation), and a * M * 2^-31 + 1/2 is an
 *   exact double (|a * M| + 2^30 < 2^53), so its floor is the result exactly;
 * - RoundingDivideByPOT's threshold (mask >> 1) + (x < 0) is (mask >> 1) + (x >>> 31), and
 *   "remainder > threshold" is the sign bit of threshold - remainder.
 * - the clamp to [lo, hi] is integer arithmetic on the sign bits, also branch-free.
 * Anything else goes through multiplyByQuantizedMultiplier.
 */
export function requantizeRow(
  acc: Float64Array,
  accOffset: number,
  count: number,
  multiplier: number,
  shift: number,
  lo: number,
  hi: number,
  dst: Int8Array | Uint8Array,
  dstOffset: number,
  round: boolean,
): void {
  const exponent = -shift;
  if (shift > 0 || exponent >= 31) {
    for (let i = 0; i < count; i++) {
      const a = round ? Math.floor(acc[accOffset + i] + 0.5) : acc[accOffset + i];
      const v = multiplyByQuantizedMultiplier(a, multiplier, shift);
      dst[dstOffset + i] = v < lo ? lo : v > hi ? hi : v;
    }
    return;
  }
  const mask = (1 << exponent) - 1;
  const half = mask >> 1;
  const scale = multiplier * TWO_MINUS_31; // exact: a power-of-two scaling of an integer
  for (let i = 0; i < count; i++) {
    // Math.floor(x + 0.5), not Math.round: V8 compiles Math.round to a branch on the fraction,
    // which mispredicts on real data (measured: 3x slower than this on real conv rows), while
    // Math.floor is one instruction. Winograd sums are within 1/4 of their integer, so any
    // rounding to nearest gives it.
    const a = round ? Math.floor(acc[accOffset + i] + 0.5) : acc[accOffset + i];
    if (!(a < TWO_22 && a > -TWO_22)) {
      const big = multiplyByQuantizedMultiplier(a, multiplier, shift);
      dst[dstOffset + i] = big < lo ? lo : big > hi ? hi : big;
      continue;
    }
    // round half up of a * M / 2^31; a * M + 2^30 < 2^53, so a * scale + 0.5 is exact
    const high = Math.floor(a * scale + 0.5);
    let v = (high >> exponent) + ((half + (high >>> 31) - (high & mask)) >>> 31);
    // clamp without branches (ReLU layers clamp about half their values, at random); |v| < 2^22
    const below = v - lo;
    v -= below & (below >> 31);
    const above = v - hi;
    dst[dstOffset + i] = v - (above & ~(above >> 31));
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
