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
 * code on the same tensors (in `memory`, shared) and computes its own band of rows of each layer
 * (bandRows); `sync()` is the barrier between layers, since a layer reads its neighbours' rows of
 * the layer before. Unlike tiles, nothing is computed twice: no halo, and the bands are cut at
 * the Winograd tile grid, so the result is the one-thread result bit for bit.
 */
export interface Gang {
  readonly member: number;
  readonly size: number;
  readonly memory: ActivationMemory;
  /** Returns once every member has called it (the same number of times); throws if the gang was aborted. */
  sync(): void;
}

/**
 * Rows (multiple of Winograd's m = 8) that a conv's tile grid, anchored at its output region's
 * corner, steps by: bands cut there split no tile, so each member computes exactly the tiles
 * the whole conv would.
 */
export const GANG_ROW_ALIGN = 8;

/**
 * The member's part of `region`: its rows split into `gang.size` bands of whole `align`-row
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
 * The window a gang member computes of a conv: its band (bandRows) of the window's output
 * region (the whole output by default), reading the same input region. Null when its band is
 * empty. Without a gang, `window` as it is.
 */
export function memberWindow(window: ConvWindow | undefined, height: number, width: number, gang: Gang | undefined): ConvWindow | undefined | null {
  if (!gang) return window;
  const whole = wholeRegion(height, width);
  const output = bandRows(window?.output ?? whole, gang);
  return output ? { input: window?.input ?? whole, output } : null;
}
