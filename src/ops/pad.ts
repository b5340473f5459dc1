import { Tensor } from '../tensor/tensor.js';

/**
 * Copies a CHW tensor (float32, or int8 for the int8 path) into a zero-padded float64 buffer, `pad` zeros on every side of
 * every channel plane, plus spare zeros at the end (the fast conv computes up to 3 phantom
 * pixels past the last column of a row, reading up to 3 elements past it, and discards them).
 *
 * The buffer is module-level scratch reused from call to call: convs run one at a time per
 * thread (each worker has its own module instance), and allocating a fresh buffer per layer
 * would make the garbage collector the bottleneck. The returned array is only valid until the
 * next call.
 */
let scratch = new Float64Array(0);
const PAD_SPARE = 3;

export function padToFloat64(input: Tensor<Float32Array | Int8Array | Uint8Array>, pad: number): Float64Array {
  return padToFloat64Box(input, pad, input.height + 2 * pad, input.width + 2 * pad);
}

/**
 * The general form: each channel plane becomes paddedHeight x paddedWidth with the image at row
 * `pad`, column `pad`, zeros everywhere else (the Winograd conv pads the far sides up to a whole
 * number of tiles). Same scratch-buffer contract as padToFloat64.
 */
export function padToFloat64Box(
  input: Tensor<Float32Array | Int8Array | Uint8Array>,
  pad: number,
  paddedHeight: number,
  paddedWidth: number,
): Float64Array {
  const { channels, height, width } = input;
  if (paddedHeight < height + pad || paddedWidth < width + pad) {
    throw new RangeError(`padToFloat64Box: ${paddedHeight}x${paddedWidth} cannot hold ${height}x${width} at offset ${pad}`);
  }
  const needed = channels * paddedHeight * paddedWidth + PAD_SPARE;
  if (scratch.length < needed) scratch = new Float64Array(needed);
  const out = scratch.subarray(0, needed);
  if (pad > 0 || paddedHeight > height || paddedWidth > width) out.fill(0);
  else out.fill(0, needed - PAD_SPARE);
  const src = input.data;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      let o = (c * paddedHeight + y + pad) * paddedWidth + pad;
      let i = (c * height + y) * width;
      const end = i + width;
      while (i < end) out[o++] = src[i++];
    }
  }
  return out;
}
