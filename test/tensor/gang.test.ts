import { describe, expect, it } from 'vitest';
import { GANG_ROW_ALIGN, Gang, bandRows, chunkStarts, shareWindow, threadMemory } from '../../src/tensor/gang.js';
import type { ConvWindow } from '../../src/tensor/region.js';
import { SharedArena, arenaSlotBytes } from '../../src/tensor/shared-arena.js';
import { BARRIER_BYTES, GangAbortedError, SharedBarrier } from '../../src/tensor/shared-barrier.js';

const gangOf = (member: number, size: number): Gang => ({ member, size, memory: threadMemory, sync: () => undefined, claim: () => 0 });

describe('bandRows', () => {
  it("splits a region's rows among the members in whole 8-row blocks from its top, covering each row once", () => {
    for (const [y0, y1, size] of [[0, 270, 2], [5, 150, 3], [3, 20, 2], [0, 9, 3], [10, 11, 4], [0, 64, 8]]) {
      const region = { y0, y1, x0: 2, x1: 9 };
      const seen: number[] = [];
      let blocksSeen = 0;
      for (let member = 0; member < size; member++) {
        const band = bandRows(region, gangOf(member, size));
        if (!band) continue;
        expect([band.x0, band.x1]).toEqual([2, 9]);
        expect((band.y0 - y0) % GANG_ROW_ALIGN).toBe(0); // cut at the tile grid of the region
        if (band.y1 !== y1) expect((band.y1 - y0) % GANG_ROW_ALIGN).toBe(0);
        for (let y = band.y0; y < band.y1; y++) seen.push(y);
        blocksSeen += Math.ceil((band.y1 - band.y0) / GANG_ROW_ALIGN);
      }
      expect(seen).toEqual(Array.from({ length: y1 - y0 }, (_, i) => y0 + i));
      expect(blocksSeen).toBe(Math.ceil((y1 - y0) / GANG_ROW_ALIGN));
    }
    // as even as whole blocks allow: 34 blocks of a 270-row frame, 17 each
    const frame = { y0: 0, y1: 270, x0: 0, x1: 480 };
    expect([bandRows(frame, gangOf(0, 2)), bandRows(frame, gangOf(1, 2))].map((b) => [b!.y0, b!.y1])).toEqual([[0, 136], [136, 270]]);
    expect(bandRows({ y0: 0, y1: 9, x0: 0, x1: 1 }, gangOf(0, 3))).toBeUndefined(); // 2 blocks, 3 members
    expect(bandRows(frame, undefined)).toBe(frame);
    expect(bandRows({ y0: 0, y1: 10, x0: 0, x1: 1 }, gangOf(1, 2), 1)).toEqual({ y0: 5, y1: 10, x0: 0, x1: 1 });
  });

  it('shareWindow: alone, each task once on the window; in a gang, chunks of whole 8-row blocks, every row of every task once', () => {
    const window = { input: { y0: 0, y1: 300, x0: 0, x1: 20 }, output: { y0: 3, y1: 290, x0: 2, x1: 18 } };
    const seen: [number, ConvWindow | undefined][] = [];
    shareWindow(window, 300, 20, undefined, (p) => seen.push([0, p]), (p) => seen.push([1, p]));
    expect(seen).toEqual([[0, window], [1, window]]);
    for (const [w, size] of [[window, 2], [undefined, 3], [{ input: window.input, output: { y0: 5, y1: 9, x0: 0, x1: 1 } }, 2]] as const) {
      // one member claiming alone (the others have not started) takes every chunk, task by task
      let next = 0;
      const gang: Gang = { member: 0, size, memory: threadMemory, sync: () => undefined, claim: () => next++ };
      const parts: [number, ConvWindow][] = [];
      shareWindow(w, 300, 20, gang, (p) => parts.push([0, p!]), (p) => parts.push([1, p!]));
      const output = w?.output ?? { y0: 0, y1: 300, x0: 0, x1: 20 };
      for (const task of [0, 1]) {
        const mine = parts.filter(([t]) => t === task).map(([, p]) => p);
        expect(mine.every((p) => p.input === (w?.input ?? p.input) && p.output.x0 === output.x0 && p.output.x1 === output.x1)).toBe(true);
        expect(mine.every((p) => (p.output.y0 - output.y0) % GANG_ROW_ALIGN === 0)).toBe(true);
        const rows = mine.flatMap((p) => Array.from({ length: p.output.y1 - p.output.y0 }, (_, i) => p.output.y0 + i));
        expect(rows).toEqual(Array.from({ length: output.y1 - output.y0 }, (_, i) => output.y0 + i));
      }
      expect(parts.findIndex(([t]) => t === 1)).toBe(parts.filter(([t]) => t === 0).length); // task 0's chunks first
      expect(parts.length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('chunkStarts', () => {
  it('cuts the blocks into chunks that shrink to one block, each a quarter of what is left for 2 members', () => {
    expect(chunkStarts(34, 2)).toEqual([0, 9, 16, 21, 25, 28, 30, 31, 32, 33, 34]);
    expect(chunkStarts(1, 3)).toEqual([0, 1]);
    for (const [blocks, members] of [[2, 2], [17, 3], [68, 2], [100, 8]]) {
      const starts = chunkStarts(blocks, members);
      expect(starts[0]).toBe(0);
      expect(starts.at(-1)).toBe(blocks);
      const sizes = starts.slice(1).map((s, i) => s - starts[i]);
      expect(sizes.every((size, i) => size >= 1 && (i === 0 || size <= sizes[i - 1]))).toBe(true);
      expect(sizes.at(-1)).toBe(1);
    }
  });
});

describe('SharedArena', () => {
  it('lays slots out in the order asked, aligned; the same slot is the same memory', () => {
    const buffer = new SharedArrayBuffer(64 + 4096);
    const arena = new SharedArena(buffer, 64);
    const a = arena.f32('a', 2, 3, 5);
    const b = arena.i8('b', 1, 1, 3);
    const c = arena.u8('c', 3, 2, 2);
    expect([a.data.byteOffset, b.data.byteOffset, c.data.byteOffset]).toEqual([64, 64 + 128, 64 + 192]);
    expect(arena.usedBytes).toBe(arenaSlotBytes(120) + arenaSlotBytes(3) + arenaSlotBytes(12));
    a.data[7] = 42;
    expect(arena.f32('a', 2, 3, 5).data[7]).toBe(42);
    expect(new SharedArena(buffer, 64).f32('a', 2, 3, 5).data[7]).toBe(42); // another member's arena
    expect(() => arena.f32('a', 2, 3, 6)).toThrow(/slot a was laid out for 120 bytes, now asked for 144/);
    expect(() => arena.f32('big', 32, 32, 1)).toThrow(/slot big needs 4096 bytes at 256, the arena holds 4096/);
    expect(() => new SharedArena(buffer, 10)).toThrow(/aligned/);
  });
});

describe('SharedBarrier', () => {
  it('a gang of one passes; an aborted barrier throws GangAbortedError at the next wait', () => {
    const buffer = new SharedArrayBuffer(BARRIER_BYTES);
    const alone = new SharedBarrier(buffer, 1);
    alone.wait();
    alone.wait();
    const pair = new SharedBarrier(buffer, 2);
    expect([pair.claim(), pair.claim(), pair.claim()]).toEqual([0, 1, 2]);
    alone.wait(); // the last to arrive restarts the chunk counter
    expect(pair.claim()).toBe(0);
    pair.abort();
    expect(pair.aborted).toBe(true);
    expect(() => pair.wait()).toThrow(GangAbortedError);
  });
});
