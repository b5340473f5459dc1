import { describe, expect, it } from 'vitest';
import { releaseScratch, scratchF32, scratchI8 } from '../../src/tensor/scratch.js';

describe('scratch slots', () => {
  it('hand back the same memory for the same slot, shaped as asked, growing when needed', () => {
    releaseScratch();
    const a = scratchF32('test.a', 2, 3, 4);
    expect(a.shape).toEqual([2, 3, 4]);
    a.data.fill(7);
    const smaller = scratchF32('test.a', 1, 2, 3);
    expect(smaller.data.length).toBe(6);
    expect(smaller.data.buffer).toBe(a.data.buffer); // reused, contents left as they were
    expect(Array.from(smaller.data)).toEqual([7, 7, 7, 7, 7, 7]);
    const larger = scratchF32('test.a', 3, 3, 4);
    expect(larger.data.length).toBe(36);
    expect(larger.data.buffer).not.toBe(a.data.buffer);
    expect(scratchF32('test.a', 2, 3, 4).data.buffer).toBe(larger.data.buffer);
  });

  it('keep slots and element types apart', () => {
    releaseScratch();
    const f = scratchF32('test.b', 1, 1, 8);
    const g = scratchF32('test.c', 1, 1, 8);
    const i = scratchI8('test.b', 1, 1, 8);
    expect(f.data.buffer).not.toBe(g.data.buffer);
    expect(i.data).toBeInstanceOf(Int8Array);
    releaseScratch();
    expect(scratchF32('test.b', 1, 1, 8).data.buffer).not.toBe(f.data.buffer);
  });
});
