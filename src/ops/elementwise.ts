import { Tensor, TypedBuffer, assertSameShape } from '../tensor/tensor.js';
import { RowRange } from '../tensor/region.js';

/**
 * Element-wise ops. The fast forms run one flat loop over the buffer (CHW is contiguous); the
 * references walk (c, y, x) explicitly, so an indexing mistake in either would show as a mismatch.
 */

export function reluReference(input: Tensor<Float32Array>, output: Tensor<Float32Array>): void {
  assertSameShape('relu', input, output);
  const { channels, height, width } = input;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (c * height + y) * width + x;
        output.data[i] = Math.max(0, input.data[i]);
      }
    }
  }
}

/** ReLU; `output` may be `input` (in place). */
export function relu(input: Tensor<Float32Array>, output: Tensor<Float32Array>): void {
  assertSameShape('relu', input, output);
  const src = input.data;
  const dst = output.data;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    dst[i] = v < 0 ? 0 : v;
  }
}

export function addReference(a: Tensor<Float32Array>, b: Tensor<Float32Array>, output: Tensor<Float32Array>): void {
  assertSameShape('add', a, b);
  assertSameShape('add', a, output);
  const { channels, height, width } = a;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (c * height + y) * width + x;
        output.data[i] = a.data[i] + b.data[i];
      }
    }
  }
}

/**
 * output = a + b, rounded to float32 like PyTorch's fp32 add; `output` may alias `a` or `b`.
 * With `rows`, only those rows of every channel.
 */
export function add(a: Tensor<Float32Array>, b: Tensor<Float32Array>, output: Tensor<Float32Array>, rows?: RowRange): void {
  assertSameShape('add', a, b);
  assertSameShape('add', a, output);
  const x = a.data;
  const y = b.data;
  const dst = output.data;
  forEachRowRun(output, rows, (start, end) => {
    for (let i = start; i < end; i++) dst[i] = x[i] + y[i];
  });
}

/**
 * Calls `visit(start, end)` for the element runs of `rows` (all rows by default) in a CHW
 * tensor: one run per channel, since a channel's rows y0 .. y1 - 1 are contiguous.
 */
export function forEachRowRun(tensor: Tensor<TypedBuffer>, rows: RowRange | undefined, visit: (start: number, end: number) => void): void {
  if (!rows) {
    visit(0, tensor.data.length);
    return;
  }
  const plane = tensor.planeSize;
  for (let c = 0; c < tensor.channels; c++) visit(c * plane + rows.y0 * tensor.width, c * plane + rows.y1 * tensor.width);
}

/**
 * The rows of a band (msrn/block-bands.ts): calls `visit(o, s)` for every channel and row y in
 * y0 .. y1 - 1 of `out`, with o the index of its first element and s that of row
 * y - y0 + bandRow of the same channel of `band` (as many channels and columns as `out`, its own
 * height). `what` names the caller in the error when the band does not hold those rows.
 */
export function forEachBandRow(
  what: string,
  band: Tensor<TypedBuffer>,
  bandRow: number,
  out: Tensor<TypedBuffer>,
  y0: number,
  y1: number,
  visit: (o: number, s: number) => void,
): void {
  if (band.channels !== out.channels || band.width !== out.width || bandRow < 0 || bandRow + (y1 - y0) > band.height) {
    throw new RangeError(`${what}: a ${band.shape.join('x')} band from row ${bandRow} does not hold rows ${y0}..${y1 - 1} of ${out.shape.join('x')}`);
  }
  const { width } = out;
  const outPlane = out.planeSize;
  const bandPlane = band.planeSize;
  for (let c = 0; c < out.channels; c++) {
    for (let y = y0; y < y1; y++) visit(c * outPlane + y * width, c * bandPlane + (y - y0 + bandRow) * width);
  }
}

/**
 * add of a band's rows (msrn/block-bands.ts): out[c][y][x] = band[c][y - y0 + bandRow][x] +
 * residual[c][y][x] for rows y0 .. y1 - 1 and columns x0 .. x1 - 1 only.
 */
export function addFromBand(
  band: Tensor<Float32Array>,
  bandRow: number,
  residual: Tensor<Float32Array>,
  out: Tensor<Float32Array>,
  y0: number,
  y1: number,
  x0: number,
  x1: number,
): void {
  assertSameShape('addFromBand', residual, out);
  const a = band.data;
  const b = residual.data;
  const dst = out.data;
  forEachBandRow('addFromBand', band, bandRow, out, y0, y1, (o, s) => {
    for (let x = x0; x < x1; x++) dst[o + x] = a[s + x] + b[o + x];
  });
}

/**
 * Channel concat. The MSRN graph never calls it (convs write into channel slices of the concat
 * tensor, see Tensor.channelSlice), but it is the op those slices stand for, and the tests use it
 * to check that equivalence.
 */
export function concatChannelsReference<B extends TypedBuffer>(inputs: Tensor<B>[], output: Tensor<B>): void {
  checkConcat(inputs, output);
  const { height, width } = output;
  let oc = 0;
  for (const input of inputs) {
    for (let c = 0; c < input.channels; c++, oc++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          output.data[(oc * height + y) * width + x] = input.data[(c * height + y) * width + x];
        }
      }
    }
  }
}

export function concatChannels<B extends TypedBuffer>(inputs: Tensor<B>[], output: Tensor<B>): void {
  checkConcat(inputs, output);
  let offset = 0;
  for (const input of inputs) {
    (output.data as TypedBuffer).set(input.data as never, offset);
    offset += input.data.length;
  }
}

function checkConcat(inputs: Tensor<TypedBuffer>[], output: Tensor<TypedBuffer>): void {
  if (inputs.length === 0) throw new RangeError('concat: no inputs');
  let channels = 0;
  for (const input of inputs) {
    if (input.height !== output.height || input.width !== output.width) {
      throw new RangeError(
        `concat: input is ${input.height}x${input.width}, output is ${output.height}x${output.width}`,
      );
    }
    if (input.data.constructor !== output.data.constructor) throw new TypeError('concat: element types differ');
    channels += input.channels;
  }
  if (channels !== output.channels) {
    throw new RangeError(`concat: inputs have ${channels} channels in all, output has ${output.channels}`);
  }
}
