import { Tensor, TypedBuffer } from '../tensor/tensor.js';

/**
 * The definition of conv2d that every fast kernel is checked against: PyTorch's Conv2d with
 * stride 1, 'same' zero padding (k / 2 on each side, odd k), bias, and an optional ReLU.
 *
 *   out[co, y, x] = bias[co] + sum_{ci, ky, kx} w[co, ci, ky, kx] * in[ci, y + ky - p, x + kx - p]
 *
 * with out-of-image reads taken as zero. Weights are in PyTorch's [Cout, Cin, K, K] order.
 * Plain loops, bounds checked per tap, accumulated in float64: slow and obviously right.
 */
export function conv2dF32Reference(
  input: Tensor<Float32Array>,
  weight: Float32Array,
  bias: Float32Array,
  output: Tensor<Float32Array>,
  kernelSize: number,
  relu: boolean,
): void {
  checkReferenceShapes(input, weight, bias, output, kernelSize);
  for (let co = 0; co < output.channels; co++) {
    for (let y = 0; y < output.height; y++) {
      for (let x = 0; x < output.width; x++) {
        const sum = convSumAt(input, weight, kernelSize, co, y, x, bias[co]);
        output.data[(co * output.height + y) * output.width + x] = relu && sum < 0 ? 0 : sum;
      }
    }
  }
}

/**
 * `initial` + sum over (ci, ky, kx) of w[co, ci, ky, kx] * in[ci, y + ky - p, x + kx - p] for one
 * output position, out-of-image taps skipped (zero padding). In float64, so exact for the int8
 * path's integers too: the shared inner loop of both reference convs.
 */
export function convSumAt(
  input: Tensor<TypedBuffer>,
  weight: ArrayLike<number>,
  kernelSize: number,
  co: number,
  y: number,
  x: number,
  initial: number,
): number {
  const { channels: cin, height, width } = input;
  const pad = (kernelSize - 1) / 2;
  let sum = initial;
  for (let ci = 0; ci < cin; ci++) {
    for (let ky = 0; ky < kernelSize; ky++) {
      const iy = y + ky - pad;
      if (iy < 0 || iy >= height) continue;
      for (let kx = 0; kx < kernelSize; kx++) {
        const ix = x + kx - pad;
        if (ix < 0 || ix >= width) continue;
        sum += weight[((co * cin + ci) * kernelSize + ky) * kernelSize + kx] * input.data[(ci * height + iy) * width + ix];
      }
    }
  }
  return sum;
}

/** The checks of both reference convs: weight and bias sizes, and an output as large as the input. */
export function checkReferenceShapes(
  input: Tensor<TypedBuffer>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  output: Tensor<TypedBuffer>,
  kernelSize: number,
): void {
  checkConvShapes(input.channels, output.channels, kernelSize, weight.length, bias.length);
  if (output.height !== input.height || output.width !== input.width) {
    throw new RangeError(`conv2d: output is ${output.height}x${output.width}, input is ${input.height}x${input.width}`);
  }
}

/** Shared argument checks for every conv2d flavour (fp32 and int8, reference and fast). */
export function checkConvShapes(
  cin: number,
  cout: number,
  kernelSize: number,
  weightLength: number,
  biasLength: number,
): void {
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new RangeError(`conv2d: kernel size must be a positive odd integer, got ${kernelSize}`);
  }
  const expected = cout * cin * kernelSize * kernelSize;
  if (weightLength !== expected) {
    throw new RangeError(
      `conv2d: weight has ${weightLength} values, ${cout}x${cin}x${kernelSize}x${kernelSize} needs ${expected}`,
    );
  }
  if (biasLength !== cout) {
    throw new RangeError(`conv2d: bias has ${biasLength} values, expected ${cout}`);
  }
}
