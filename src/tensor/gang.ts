import { Tensor } from './tensor.js';
import { ConvWindow, Region, wholeRegion } from './region.js';
import { scratchF32, scratchI8, scratchU8 } from './scratch.js';

/**
 * Where a forward pass gets its intermediate tensors: by default this thread's scratch slots
 * (scratch.ts); for a gang, one arena of shared memory that every member sees (shared-arena.ts).
 * A slot name stands for one tensor of the pass: asking twice gives the same memory.
 */
export interface ActivationMemory {
  f32(slot: string, channels: number, height: number, width: number): Tensor<Float32Array>;
  i8(slot: string, channels: number, height: number, width: number): Tensor<Int8Array>;
  u8(slot: string, channels: number, height: number, width: number): Tensor<Uint8Array>;
}

export const threadMemory: ActivationMemory = { f32: scratchF32, i8: scratchI8, u8: scratchU8 };

/**
 * A gang: `size` threads running one forward pass together (SPMD). Every member runs the same
 * code on the same tensors (in `memory`, shared) and computes its share of the rows of each
 * layer (shareWindow; bandRows for the cheap pointwise steps); `sync()` is the barrier between
 * layers, since a layer reads its neighbours' rows of the layer before. Unlike tiles, nothing is
 * computed twice: no halo, and rows are shared out at the Winograd tile grid, so the result is
 * the one-thread result bit for bit.
 */
export interface Gang {
  readonly member: number;
  readonly size: number;
  readonly memory: ActivationMemory;
  /** Returns once every member has called it (the same number of times); throws if the gang was aborted. */
  sync(): void;
  /** The next number of this layer's shared counter: 0, 1, 2, ... across all members, from 0 again after each sync. */
  claim(): number;
}

/**
 * Rows (multiple of Winograd's m = 8) that a conv's tile grid, anchored at its output region's
 * corner, steps by: chunks cut there split no tile, so the members compute exactly the tiles
 * the whole conv would.
 */
export const GANG_ROW_ALIGN = 8;

/**
 * A fixed split, for the cheap pointwise steps (shareWindow shares the convs out as they go):
 * the member's part of `region`, its rows split into `gang.size` bands of whole `align`-row
 * blocks counted from region.y0, as even as the blocks allow (band i gets blocks
 * floor(i B / size) .. floor((i + 1) B / size)). Undefined when the member's band is empty (more
 * members than blocks). Without a gang, the region itself.
 */
export function bandRows(region: Region, gang: Gang | undefined, align = GANG_ROW_ALIGN): Region | undefined {
  if (!gang || gang.size === 1) return region;
  const blocks = Math.ceil((region.y1 - region.y0) / align);
  const first = Math.floor((gang.member * blocks) / gang.size);
  const last = Math.floor(((gang.member + 1) * blocks) / gang.size);
  if (first === last) return undefined;
  return { ...region, y0: region.y0 + first * align, y1: Math.min(region.y1, region.y0 + last * align) };
}

/**
 * Runs the tasks of one layer on `window`'s output rows (the whole height x width tensor by
 * default), each task once on every row. Alone: each task once, on `window` as it is. In a gang:
 * the rows are cut into chunks of whole GANG_ROW_ALIGN-row blocks from the region's top (so a
 * chunk splits no Winograd tile, and the result does not depend on who computes what; sizes:
 * chunkStarts), and the members claim (task, chunk) pairs one at a time until none are left,
 * task by task: a member slowed down (the machine is shared) simply takes fewer chunks, where
 * fixed bands made the others wait for it at every barrier. At most one shareWindow between two
 * syncs (the chunk counter restarts at each sync). Each task gets the part of the window it
 * computes.
 */
export function shareWindow(
  window: ConvWindow | undefined,
  height: number,
  width: number,
  gang: Gang | undefined,
  ...tasks: ((part: ConvWindow | undefined) => void)[]
): void {
  if (!gang || gang.size === 1) {
    for (const task of tasks) task(window);
    return;
  }
  const input = window?.input ?? wholeRegion(height, width);
  const output = window?.output ?? wholeRegion(height, width);
  const starts = chunkStarts(Math.ceil((output.y1 - output.y0) / GANG_ROW_ALIGN), gang.size);
  const chunks = starts.length - 1;
  for (let k = gang.claim(); k < chunks * tasks.length; k = gang.claim()) {
    const chunk = k % chunks;
    const y0 = output.y0 + starts[chunk] * GANG_ROW_ALIGN;
    const y1 = Math.min(output.y1, output.y0 + starts[chunk + 1] * GANG_ROW_ALIGN);
    tasks[Math.floor(k / chunks)]({ input, output: { ...output, y0, y1 } });
  }
}

/**
 * Where the chunks of `blocks` row blocks start (and, last, `blocks`), largest first: each takes
 * 1 / (2 members) of the blocks still left, at least one ("guided" scheduling). The first chunks
 * are large (few calls, each with the conv's fixed costs: a Winograd strip refills r - 1 input
 * rows per call), the last ones a single block, so the last member to finish is at most about
 * one block behind the others at the barrier. The same list in every member.
 */
export function chunkStarts(blocks: number, members: number): number[] {
  const starts = [0];
  for (let at = 0; at < blocks; ) {
    at += Math.max(1, Math.ceil((blocks - at) / (2 * members)));
    starts.push(at);
  }
  return starts;
}
