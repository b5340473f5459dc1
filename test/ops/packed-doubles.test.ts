import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { copyDoubles, packedDoubles } from '../../src/ops/packed-doubles.js';

// V8's own view of an array's elements kind, through its natives syntax (allowed from here on,
// for functions compiled after this line)
setFlagsFromString('--allow-natives-syntax');
const hasDoubleElements = new Function('a', 'return %HasDoubleElements(a)') as (a: unknown) => boolean;
const hasHoleyElements = new Function('a', 'return %HasHoleyElements(a)') as (a: unknown) => boolean;

describe('packedDoubles', () => {
  it('makes a packed array of double zeros of the length asked for', () => {
    for (const length of [1, 2, 3, 7, 1000, 1024, 1025, 300_001]) {
      const array = packedDoubles(length);
      expect(array.length).toBe(length);
      expect(array.every((v) => v === 0 && !Object.is(v, -0))).toBe(true);
      expect(hasDoubleElements(array)).toBe(true);
      expect(hasHoleyElements(array)).toBe(false);
    }
  });

  it('stays double when integers are copied in (as packed weights are)', () => {
    const array = packedDoubles(10);
    copyDoubles(Float64Array.from([1, 2, 3, -4]), array, 5);
    expect(array).toEqual([0, 0, 0, 0, 0, 1, 2, 3, -4, 0]);
    expect(hasDoubleElements(array)).toBe(true);
    expect(hasHoleyElements(array)).toBe(false);
  });

  it('copyDoubles refuses what does not fit', () => {
    const array = packedDoubles(4);
    expect(() => copyDoubles(new Float64Array(3), array, 2)).toThrow(/3 values at 2 do not fit an array of 4/);
    expect(() => copyDoubles(new Float64Array(1), array, -1)).toThrow(RangeError);
    expect(array).toEqual([0, 0, 0, 0]);
  });
});
