import { Tensor } from './tensor.js';
import { ActivationMemory } from './gang.js';

/**
 * ActivationMemory over one SharedArrayBuffer, for a gang (gang.ts): slots are laid out one
 * after the other in the order they are first asked for. Every member runs the same forward,
 * asking for the same slots in the same order, so each slot lands at the same offset in every
 * member's arena: the same tensor. Its size must be known before the pass (the main thread
 * allocates it): forwardArenaBytes (upscaler/gang-tile.ts) sums the slots of each forward, and
 * asking for more than the arena holds throws instead of overlapping another slot.
 */
export const ARENA_ALIGN = 64; // bytes: every slot starts on a cache line

export class SharedArena implements ActivationMemory {
  private readonly slots = new Map<string, { offset: number; bytes: number }>();
  private used = 0;

  /** The arena is bytes byteOffset .. byteOffset + byteLength - 1 of `buffer` (byteOffset a multiple of ARENA_ALIGN). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly byteOffset = 0,
    private readonly byteLength = buffer.byteLength - byteOffset,
  ) {
    if (byteOffset % ARENA_ALIGN !== 0 || byteOffset + byteLength > buffer.byteLength) {
      throw new RangeError(`shared arena: ${byteLength} bytes at ${byteOffset} do not fit an aligned part of a ${buffer.byteLength}-byte buffer`);
    }
  }

  /** Bytes handed out so far. */
  get usedBytes(): number {
    return this.used;
  }

  f32(slot: string, channels: number, height: number, width: number): Tensor<Float32Array> {
    const size = channels * height * width;
    return new Tensor(channels, height, width, new Float32Array(this.buffer, this.take(slot, size * 4), size));
  }

  i8(slot: string, channels: number, height: number, width: number): Tensor<Int8Array> {
    const size = channels * height * width;
    return new Tensor(channels, height, width, new Int8Array(this.buffer, this.take(slot, size), size));
  }

  u8(slot: string, channels: number, height: number, width: number): Tensor<Uint8Array> {
    const size = channels * height * width;
    return new Tensor(channels, height, width, new Uint8Array(this.buffer, this.take(slot, size), size));
  }

  private take(slot: string, bytes: number): number {
    const known = this.slots.get(slot);
    if (known) {
      if (bytes > known.bytes) throw new RangeError(`shared arena: slot ${slot} was laid out for ${known.bytes} bytes, now asked for ${bytes}`);
      return this.byteOffset + known.offset;
    }
    const offset = this.used;
    if (offset + bytes > this.byteLength) {
      throw new RangeError(`shared arena: slot ${slot} needs ${bytes} bytes at ${offset}, the arena holds ${this.byteLength} (its size and the forward's slots disagree)`);
    }
    this.slots.set(slot, { offset, bytes });
    this.used = offset + arenaSlotBytes(bytes);
    return this.byteOffset + offset;
  }
}

/** What one slot of `bytes` takes in an arena, alignment included. */
export function arenaSlotBytes(bytes: number): number {
  return Math.ceil(bytes / ARENA_ALIGN) * ARENA_ALIGN;
}
