import { Tensor } from './tensor.js';

/**
 * Reusable tensors for a forward pass's intermediates (the concat buffers, the block inputs...),
 * one buffer per named slot, kept from call to call. Module state: convs and forwards run one at
 * a time per thread, and each worker has its own module instance (as pad.ts's scratch).
 *
 * Why: a fresh typed array is fresh memory, and the kernel maps it in page by page on first
 * touch. Measured on this project's machine (a small VM, where a page fault costs ~11 us): a
 * cold 270x480 fp32 frame faulted in 230 MB (~58,000 faults), and every later frame still
 * 75 MB (~18,600 faults, about 0.2 s), because the large arrays were mmapped afresh and
 * returned to the system each time. Reused slots are faulted in once per thread.
 *
 * The tensor's contents are whatever the slot's last user left there: callers must write every
 * element before reading any (every conv, add and shuffle of the forwards writes its whole
 * output). A slot grows to the largest size asked of it and keeps that memory until
 * `releaseScratch`.
 */
const floatSlots = new Map<string, Float32Array>();
const int8Slots = new Map<string, Int8Array>();
const uint8Slots = new Map<string, Uint8Array>();

export function scratchF32(slot: string, channels: number, height: number, width: number): Tensor<Float32Array> {
  const size = channels * height * width;
  let buffer = floatSlots.get(slot);
  if (!buffer || buffer.length < size) floatSlots.set(slot, (buffer = new Float32Array(size)));
  return new Tensor(channels, height, width, buffer.length === size ? buffer : buffer.subarray(0, size));
}

export function scratchI8(slot: string, channels: number, height: number, width: number): Tensor<Int8Array> {
  const size = channels * height * width;
  let buffer = int8Slots.get(slot);
  if (!buffer || buffer.length < size) int8Slots.set(slot, (buffer = new Int8Array(size)));
  return new Tensor(channels, height, width, buffer.length === size ? buffer : buffer.subarray(0, size));
}

export function scratchU8(slot: string, channels: number, height: number, width: number): Tensor<Uint8Array> {
  const size = channels * height * width;
  let buffer = uint8Slots.get(slot);
  if (!buffer || buffer.length < size) uint8Slots.set(slot, (buffer = new Uint8Array(size)));
  return new Tensor(channels, height, width, buffer.length === size ? buffer : buffer.subarray(0, size));
}

/** Drops every slot (the memory goes back once the garbage collector frees it). */
export function releaseScratch(): void {
  floatSlots.clear();
  int8Slots.clear();
  uint8Slots.clear();
}
