import { Tensor, TypedBuffer } from '../tensor/tensor.js';
import { RowRange } from '../tensor/region.js';

/**
 * PixelShuffle(r) in PyTorch's channel order: (C * r * r, H, W) -> (C, H * r, W * r) with
 *   out[c, h * r + i, w * r + j] = in[c * r * r + i * r + j, h, w].
 * A permutation, so it works on any element type (fp32 and int8 alike) and never rounds.
 */
export function pixelShuffleReference<B extends TypedBuffer>(input: Tensor<B>, r: number, output: Tensor<B>): void {
  checkPixelShuffle(input, r, output);
  const c = output.channels;
  const { height, width } = input;
  for (let oc = 0; oc < c; oc++) {
    for (let oy = 0; oy < height * r; oy++) {
      for (let ox = 0; ox < width * r; ox++) {
        const i = oy % r;
        const j = ox % r;
        const ic = oc * r * r + i * r + j;
        const iy = Math.floor(oy / r);
        const ix = Math.floor(ox / r);
        output.data[(oc * height * r + oy) * width * r + ox] = input.data[(ic * height + iy) * width + ix];
      }
    }
  }
}

/**
 * Same permutation, walking each input plane row by row and scattering with stride r. With
 * `rows` (of the input), only the output rows they make: r y0 .. r y1 - 1.
 */
export function pixelShuffle<B extends TypedBuffer>(input: Tensor<B>, r: number, output: Tensor<B>, rows?: RowRange): void {
  checkPixelShuffle(input, r, output);
  const y0 = rows?.y0 ?? 0;
  const y1 = rows?.y1 ?? input.height;
  const { height, width } = input;
  const src = input.data;
  const dst = output.data;
  const outWidth = width * r;
  const outPlane = height * r * outWidth;
  for (let ic = 0; ic < input.channels; ic++) {
    const oc = Math.floor(ic / (r * r));
    const i = Math.floor(ic / r) % r;
    const j = ic % r;
    let s = (ic * height + y0) * width;
    for (let y = y0; y < y1; y++) {
      let d = oc * outPlane + (y * r + i) * outWidth + j;
      for (let x = 0; x < width; x++, d += r) dst[d] = src[s++];
    }
  }
}

/** Output shape of pixelShuffle(r) for an input of (channels, height, width). */
export function pixelShuffleShape(channels: number, height: number, width: number, r: number): [number, number, number] {
  return [channels / (r * r), height * r, width * r];
}

function checkPixelShuffle(input: Tensor<TypedBuffer>, r: number, output: Tensor<TypedBuffer>): void {
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`pixelShuffle: factor must be a positive integer, got ${r}`);
  if (input.channels % (r * r) !== 0) {
    throw new RangeError(`pixelShuffle: ${input.channels} input channels are not a multiple of ${r}x${r}`);
  }
  const [c, h, w] = pixelShuffleShape(input.channels, input.height, input.width, r);
  if (output.channels !== c || output.height !== h || output.width !== w) {
    throw new RangeError(`pixelShuffle: output is ${output.shape.join('x')}, expected ${c}x${h}x${w}`);
  }
}
