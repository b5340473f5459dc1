import { Tensor, zerosU8 } from '../tensor/tensor.js';
import { scratchI8 } from '../tensor/scratch.js';
import { addI8 } from './add-i8.js';
import { QuantizedConv2d, conv2dI8, conv2dI8PixelShuffle } from './conv2d-i8.js';
import { Int8Model } from './int8-model.js';
import { Region } from '../tensor/region.js';
import { planLayerWindows } from '../msrn/layer-windows.js';

export type Int8Observer = (name: string, tensor: Tensor<Int8Array> | Tensor<Uint8Array>) => void;

/**
 * The integer-only MSRN forward pass of docs/INT8.md section 4: u8 image in, u8 image out, int8
 * activations and int32 accumulators in between. Same structure as forwardF32 (concats are
 * channel slices; producers requantize straight into the concat's scale).
 *
 * `image` is (3, H, W) holding integers 0..255 (what rgbaToTensor gives). `observe` sees the int8
 * intermediates: input, head, body.b.cat1, body.b.cat2, body.b.confusion, body.b, tail.0, tail.1,
 * tail.2.<i> (after its PixelShuffle), tail.3, output.
 * Like forwardF32's, an observed tensor is only valid during the call: the intermediates live in
 * per-thread scratch slots (tensor/scratch.ts) that later layers and calls reuse; the output is fresh.
 *
 * `core`, for a tile: as in forwardF32, each layer is computed only where later layers need it;
 * the output is exact inside the core (scaled), bytes nothing should use elsewhere. Ignored
 * with an observer.
 */
export function forwardInt8(model: Int8Model, image: Tensor<Float32Array>, observe?: Int8Observer, core?: Region): Tensor<Uint8Array> {
  const { nFeats: n, nBlocks } = model.config;
  if (image.channels !== 3) throw new RangeError(`MSRN expects 3 input channels, got ${image.channels}`);
  const { height, width } = image;
  const conv = (name: string): QuantizedConv2d => model.convs.get(name)!;
  const windows = core && !observe ? planLayerWindows(model.config, height, width, core, false) : undefined;

  const pixels = new Tensor(3, height, width, new Uint8Array(image.data.length));
  for (let i = 0; i < image.data.length; i++) {
    const v = image.data[i];
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
      throw new RangeError(`the int8 path takes 8-bit images: input value ${v} at index ${i} is not an integer 0..255`);
    }
    pixels.data[i] = v;
  }

  const input = scratchI8('i8.input', 3, height, width);
  conv2dI8(pixels, conv('sub_mean'), input);
  observe?.('input', input);

  const features = scratchI8('i8.features', n * (nBlocks + 1), height, width);
  const headOut = features.channelSlice(nBlocks * n, n);
  conv2dI8(input, conv('head.0'), headOut, windows?.head);
  observe?.('head', headOut);

  const first = scratchI8('i8.cat1', 2 * n, height, width);
  const second = scratchI8('i8.cat2', 4 * n, height, width);
  const confusion = scratchI8('i8.confusion', n, height, width);
  let blockInput = headOut;
  for (let b = 0; b < nBlocks; b++) {
    const body = `body.${b}`;
    const w = windows?.blocks[b];
    conv2dI8(blockInput, conv(`${body}.conv_3_1`), first.channelSlice(0, n), w?.first);
    conv2dI8(blockInput, conv(`${body}.conv_5_1`), first.channelSlice(n, n), w?.first);
    observe?.(`${body}.cat1`, first);
    conv2dI8(first, conv(`${body}.conv_3_2`), second.channelSlice(0, 2 * n), w?.second);
    conv2dI8(first, conv(`${body}.conv_5_2`), second.channelSlice(2 * n, 2 * n), w?.second);
    observe?.(`${body}.cat2`, second);
    conv2dI8(second, conv(`${body}.confusion`), confusion, w && { input: w.output, output: w.output });
    observe?.(`${body}.confusion`, confusion);
    const blockOut = features.channelSlice(b * n, n);
    addI8(confusion, blockInput, model.adds.get(`${body}.add`)!, blockOut);
    observe?.(body, blockOut);
    blockInput = blockOut;
  }

  // tail.0 and tail.1 in cat2's memory, unread after the last block (as forwardF32 does)
  const fused = second.channelSlice(0, n);
  conv2dI8(features, conv('tail.0'), fused, windows && { input: windows.fusion, output: windows.fusion });
  observe?.('tail.0', fused);
  let current = second.channelSlice(n, n);
  conv2dI8(fused, conv('tail.1'), current, windows?.tail1);
  observe?.('tail.1', current);

  for (const [i, stage] of model.upsampler.entries()) {
    const f = stage.factor;
    const shuffled = scratchI8(`i8.up.${i}.shuffle`, n, current.height * f, current.width * f);
    conv2dI8PixelShuffle(current, conv(stage.prefix), f, shuffled, windows?.upsampler[i]); // the conv, then PixelShuffle(f)
    observe?.(stage.prefix, shuffled);
    current = shuffled;
  }

  const last = scratchI8('i8.tail.3', 3, current.height, current.width);
  conv2dI8(current, conv('tail.3'), last, windows?.last);
  observe?.('tail.3', last);
  const output = zerosU8(3, current.height, current.width);
  conv2dI8(last, conv('add_mean'), output);
  observe?.('output', output);
  return output;
}
