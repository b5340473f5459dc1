/**
 * A CHW tensor: a shape and one typed buffer, nothing else.
 *
 * Channels are the outermost axis, so any channel range [start, start + count) is one
 * contiguous run of the buffer. `channelSlice` returns a view over that run (a `subarray`,
 * no copy): a conv can write straight into its slot of a concat, and the concat costs nothing.
 */
export type TypedBuffer = Float32Array | Int8Array | Uint8Array | Int32Array;

export class Tensor<B extends TypedBuffer = Float32Array> {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: B;

  constructor(channels: number, height: number, width: number, data: B) {
    assertDimension('channels', channels);
    assertDimension('height', height);
    assertDimension('width', width);
    const needed = channels * height * width;
    if (data.length !== needed) {
      throw new RangeError(
        `tensor ${channels}x${height}x${width} needs ${needed} elements, buffer has ${data.length}`,
      );
    }
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.data = data;
  }

  /** Elements in one channel plane. */
  get planeSize(): number {
    return this.height * this.width;
  }

  get shape(): [number, number, number] {
    return [this.channels, this.height, this.width];
  }

  /** A view (shared memory) over channels [start, start + count). */
  channelSlice(start: number, count: number): Tensor<B> {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > this.channels) {
      throw new RangeError(`channel slice [${start}, ${start + count}) is outside 0..${this.channels}`);
    }
    const plane = this.planeSize;
    const view = this.data.subarray(start * plane, (start + count) * plane) as B;
    return new Tensor(count, this.height, this.width, view);
  }
}

function assertDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`tensor ${name} must be a positive integer, got ${value}`);
  }
}

export function zerosF32(channels: number, height: number, width: number): Tensor<Float32Array> {
  return new Tensor(channels, height, width, new Float32Array(channels * height * width));
}

export function zerosI8(channels: number, height: number, width: number): Tensor<Int8Array> {
  return new Tensor(channels, height, width, new Int8Array(channels * height * width));
}

export function zerosU8(channels: number, height: number, width: number): Tensor<Uint8Array> {
  return new Tensor(channels, height, width, new Uint8Array(channels * height * width));
}

export function zerosI32(channels: number, height: number, width: number): Tensor<Int32Array> {
  return new Tensor(channels, height, width, new Int32Array(channels * height * width));
}

/** True when both tensors have the same channels, height and width. */
export function sameShape(a: Tensor<TypedBuffer>, b: Tensor<TypedBuffer>): boolean {
  return a.channels === b.channels && a.height === b.height && a.width === b.width;
}

export function assertSameShape(what: string, a: Tensor<TypedBuffer>, b: Tensor<TypedBuffer>): void {
  if (!sameShape(a, b)) {
    throw new RangeError(`${what}: shapes differ, ${a.shape.join('x')} vs ${b.shape.join('x')}`);
  }
}
