import { Tensor, zerosF32 } from '../tensor/tensor.js';
import { Gang, shareWindow, threadMemory } from '../tensor/gang.js';
import { PackedConv2dF32, conv2dF32, packConv2dF32 } from '../ops/conv2d-f32.js';
import { pixelShuffle } from '../ops/pixel-shuffle.js';
import { ConvWindow, wholeRegion } from '../tensor/region.js';

/**
 * The fp32 tail after the last upsampler stage, folded into one conv at LR.
 *
 * The official tail ends with  conv3x3 (n -> n f^2)  ->  PixelShuffle(f)  ->  conv3x3 (n -> 3, at
 * HR)  ->  add_mean (1x1, 3 -> 3): linear maps with no activation between them. An HR output
 * pixel (f Y + dy, f X + dx) reads HR rows f Y + dy - 1 .. f Y + dy + 1, which come from LR rows
 * Y - 1 .. Y + 1, each made from LR input rows one further out: so the whole composition is a
 * 5x5 conv at LR from n channels to 3 f^2 "phase" channels (co f^2 + dy f + dx), followed by
 * PixelShuffle(f). For the model card's x2 that is 16 -> 12 channels at LR instead of 16 -> 64
 * at LR plus 16 -> 3 at HR. Measured on a 270x480 frame, one thread: 208 ms for the four
 * layers as they were, 61 ms folded (frame 1.15 -> 1.02 s).
 *
 * One thing differs at the image border. The HR conv pads the HR tensor with zeros; the folded
 * conv instead sees what the upsampler conv would give one LR pixel beyond the border (its bias,
 * plus what the zero-padded input lets through). So each HR output pixel on the border ring
 * gets those out-of-image neighbours' contributions subtracted again (correctBorder): they are
 * computed directly from the upsampler weights, for the ring of HR positions around the image
 * only (about 3,000 positions for a 270x480 frame).
 *
 * Only the fp32 path folds: the int8 graph rounds the upsampler output to int8 before the HR
 * conv, so there is nothing linear to fold. The result equals the unfolded tail up to float
 * rounding (tested against it on random weights and shapes, and against PyTorch through the
 * golden fixtures).
 */
export interface FusedTailF32 {
  /** the last upsampler stage's factor f */
  readonly factor: number;
  /** n: channels into the last upsampler conv */
  readonly inChannels: number;
  readonly colors: number;
  /** n -> colors f^2, 5x5 at LR, then PixelShuffle(f) gives the final image */
  readonly conv: PackedConv2dF32;
  /** the last upsampler conv, [n f^2][n][3][3] and [n f^2], for the values beyond the border */
  readonly upsamplerWeight: Float64Array;
  readonly upsamplerBias: Float64Array;
  /** add_mean after the HR conv, without biases: [colors][n][3][3] */
  readonly outputWeight: Float64Array;
}

/** Weights as stored (PyTorch layout); add_mean's is [colors][colors] (a 1x1 conv). */
export interface TailWeights {
  readonly upsamplerWeight: Float32Array;
  readonly upsamplerBias: Float32Array;
  readonly outputConvWeight: Float32Array;
  readonly outputConvBias: Float32Array;
  readonly addMeanWeight: Float32Array;
  readonly addMeanBias: Float32Array;
}

export function fuseTailF32(weights: TailWeights, factor: number, inChannels: number, colors: number): FusedTailF32 {
  const f = factor;
  const n = inChannels;
  const phases = f * f;
  const { upsamplerWeight: up, upsamplerBias: upBias, outputConvWeight: hr, outputConvBias: hrBias, addMeanWeight: am, addMeanBias: amBias } = weights;
  if (up.length !== n * phases * n * 9 || upBias.length !== n * phases || hr.length !== colors * n * 9 || hrBias.length !== colors) {
    throw new RangeError(`fuseTailF32: weights do not match n = ${n}, factor ${f}, ${colors} colors`);
  }
  if (am.length !== colors * colors || amBias.length !== colors) throw new RangeError(`fuseTailF32: add_mean must be ${colors}x${colors}`);

  // add_mean after the HR conv: one 3x3 conv n -> colors
  const outputWeight = new Float64Array(colors * n * 9);
  const outputBias = new Float64Array(colors);
  for (let co = 0; co < colors; co++) {
    outputBias[co] = amBias[co];
    for (let j = 0; j < colors; j++) {
      outputBias[co] += am[co * colors + j] * hrBias[j];
      for (let i = 0; i < n * 9; i++) outputWeight[co * n * 9 + i] += am[co * colors + j] * hr[j * n * 9 + i];
    }
  }

  // The folded 5x5 conv: phase (dy, dx) of output color co, LR tap (oy, ox) in -2..2.
  const outChannels = colors * phases;
  const weight = new Float64Array(outChannels * n * 25);
  const bias = new Float64Array(outChannels);
  for (let co = 0; co < colors; co++) {
    for (let dy = 0; dy < f; dy++) {
      for (let dx = 0; dx < f; dx++) {
        const oc = co * phases + dy * f + dx;
        bias[oc] = outputBias[co];
        for (let ty = -1; ty <= 1; ty++) {
          // HR row f Y + dy + ty is phase py of LR row Y + ly
          const ly = Math.floor((dy + ty) / f);
          const py = dy + ty - ly * f;
          for (let tx = -1; tx <= 1; tx++) {
            const lx = Math.floor((dx + tx) / f);
            const px = dx + tx - lx * f;
            for (let c = 0; c < n; c++) {
              const t = outputWeight[(co * n + c) * 9 + (ty + 1) * 3 + (tx + 1)];
              const uc = c * phases + py * f + px; // the upsampler channel behind that HR pixel
              bias[oc] += t * upBias[uc];
              addScaledKernels(weight, oc, up, uc, n, ly, lx, t);
            }
          }
        }
      }
    }
  }
  return {
    factor: f,
    inChannels: n,
    colors,
    conv: packConv2dF32(weight, bias, outChannels, n, 5),
    upsamplerWeight: Float64Array.from(up),
    upsamplerBias: Float64Array.from(upBias),
    outputWeight,
  };
}

/**
 * weight[oc][ci] (5x5) += t * up[uc][ci] (3x3) placed at LR offset (ly, lx), for every ci. Its
 * own function (a couple of thousand calls per model) so a cold load runs it optimized early.
 */
function addScaledKernels(weight: Float64Array, oc: number, up: Float32Array, uc: number, n: number, ly: number, lx: number, t: number): void {
  for (let ci = 0; ci < n; ci++) {
    for (let ky = 0; ky < 3; ky++) {
      for (let kx = 0; kx < 3; kx++) {
        const oy = ly + ky - 1;
        const ox = lx + kx - 1;
        weight[((oc * n + ci) * 5 + oy + 2) * 5 + ox + 2] += t * up[((uc * n + ci) * 3 + ky) * 3 + kx];
      }
    }
  }
}

/**
 * The final image (colors, f H, f W) from the input of the last upsampler conv (n, H, W). With
 * a window (a tile's, in the input's coordinates), only its output region is right: the border
 * correction is still made on the whole tensor's border ring, which is the image's where a tile
 * meets it and lies outside the kept core elsewhere.
 *
 * In a gang (tensor/gang.ts) the members share out the window's rows: each computes the conv,
 * the shuffle and the border correction of the HR rows its chunks make. The caller syncs the
 * gang afterwards.
 */
export function runFusedTailF32(
  input: Tensor<Float32Array>,
  tail: FusedTailF32,
  window?: ConvWindow,
  output: Tensor<Float32Array> = zerosF32(tail.colors, input.height * tail.factor, input.width * tail.factor),
  gang?: Gang,
): Tensor<Float32Array> {
  const f = tail.factor;
  const { height, width } = input;
  const phases = (gang?.memory ?? threadMemory).f32('f32.tail.phases', tail.colors * f * f, height, width);
  if (!gang) {
    conv2dF32(input, tail.conv, phases, false, window);
    pixelShuffle(phases, f, output); // writes every element: `output` may hold anything before
    correctBorder(input, tail, output, 0, output.height);
    return output;
  }
  shareWindow(window, height, width, gang, (part) => {
    conv2dF32(input, tail.conv, phases, false, part);
    const rows = part?.output ?? wholeRegion(height, width); // (a gang of one: the whole window)
    pixelShuffle(phases, f, output, rows);
    correctBorder(input, tail, output, rows.y0 * f, rows.y1 * f);
  });
  return output;
}

/**
 * Takes back, on the HR border ring, what the folded conv added for HR positions outside the
 * image: for each such position q, the upsampler's output there (computed directly, zero
 * padding) through the taps of the HR conv that reach q from inside. Only the output rows
 * rowFrom .. rowTo - 1 are corrected (a gang member's band; all of them alone).
 */
function correctBorder(input: Tensor<Float32Array>, tail: FusedTailF32, output: Tensor<Float32Array>, rowFrom: number, rowTo: number): void {
  const { factor: f, inChannels: n, colors, upsamplerWeight: up, upsamplerBias: upBias, outputWeight } = tail;
  const { height, width } = input;
  const src = input.data;
  const plane = height * width;
  const outHeight = height * f;
  const outWidth = width * f;
  const outPlane = outHeight * outWidth;
  const dst = output.data;
  const beyond = new Float64Array(n); // the upsampler's n channels at one outside HR position

  const visit = (qy: number, qx: number) => {
    // LR pixel (Y, X) and phase (py, px) of HR position (qy, qx); floor division for -1
    const Y = Math.floor(qy / f);
    const X = Math.floor(qx / f);
    const py = qy - Y * f;
    const px = qx - X * f;
    // the LR rows and columns of the 3x3 window around (Y, X) that lie in the image (the rest is
    // zero padding), found once: no test inside the loops (on a 270x480 frame the ring took
    // 16 ms with a test per tap, 9 ms so; the folded conv itself takes 45-48)
    const y0 = Math.max(Y - 1, 0);
    const y1 = Math.min(Y + 1, height - 1);
    const x0 = Math.max(X - 1, 0);
    const x1 = Math.min(X + 1, width - 1);
    for (let c = 0; c < n; c++) {
      const uc = c * f * f + py * f + px;
      let s = upBias[uc];
      for (let ci = 0; ci < n; ci++) {
        const kernel = (uc * n + ci) * 9 - (Y - 1) * 3 - (X - 1); // + y * 3 + x: tap (y - Y + 1, x - X + 1)
        const channel = ci * plane;
        for (let y = y0; y <= y1; y++) {
          const k = kernel + y * 3;
          const i = channel + y * width;
          for (let x = x0; x <= x1; x++) s += up[k + x] * src[i + x];
        }
      }
      beyond[c] = s;
    }
    // every inside HR pixel p = q - (ty, tx) whose 3x3 window reaches q, in rows rowFrom .. rowTo - 1
    for (let ty = Math.max(-1, qy - rowTo + 1); ty <= Math.min(1, qy - rowFrom); ty++) {
      const y = qy - ty;
      for (let tx = Math.max(-1, qx - outWidth + 1); tx <= Math.min(1, qx); tx++) {
        const x = qx - tx;
        const tap = (ty + 1) * 3 + (tx + 1);
        for (let co = 0; co < colors; co++) {
          let s = 0;
          for (let c = 0; c < n; c++) s += outputWeight[(co * n + c) * 9 + tap] * beyond[c];
          dst[co * outPlane + y * outWidth + x] -= s;
        }
      }
    }
  };
  // the ring of HR positions just outside the image, each once (corners included); the top and
  // bottom rows of it reach only output rows 0 and outHeight - 1, a side position qy rows
  // qy - 1 .. qy + 1
  for (let qx = -1; qx <= outWidth; qx++) {
    if (rowFrom === 0) visit(-1, qx);
    if (rowTo === outHeight) visit(outHeight, qx);
  }
  for (let qy = Math.max(0, rowFrom - 1); qy < Math.min(outHeight, rowTo + 1); qy++) {
    visit(qy, -1);
    visit(qy, outWidth);
  }
}
