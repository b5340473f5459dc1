import { Tensor, zerosU8 } from '../tensor/tensor.js';
import { Gang, bandRows, memberWindow, threadMemory } from '../tensor/gang.js';
import { addI8 } from './add-i8.js';
import { QuantizedConv2d, conv2dI8, conv2dI8PixelShuffle } from './conv2d-i8.js';
import { Int8Model } from './int8-model.js';
import { ConvWindow, Region, wholeRegion } from '../tensor/region.js';
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
 *
 * `gang`: one member of a gang pass, as forwardF32's (tensor/gang.ts); the output then lives in
 * the gang's shared memory and is complete when this returns.
 */
export function forwardInt8(model: Int8Model, image: Tensor<Float32Array>, observe?: Int8Observer, core?: Region, gang?: Gang): Tensor<Uint8Array> {
  const { nFeats: n, nBlocks } = model.config;
  if (image.channels !== 3) throw new RangeError(`MSRN expects 3 input channels, got ${image.channels}`);
  if (gang && observe) throw new Error('forwardInt8: a gang pass cannot be observed');
  const { height, width } = image;
  const layer = (name: string): QuantizedConv2d => model.convs.get(name)!;
  const windows = core && !observe ? planLayerWindows(model.config, height, width, core, false) : undefined;
  const memory = gang?.memory ?? threadMemory;
  // as in forwardF32: a gang member computes its band of each conv's window, then the gang syncs
  const conv = (from: IntTensor, name: string, to: IntTensor, window?: ConvWindow) => {
    const part = memberWindow(window, from.height, from.width, gang);
    if (part !== null) conv2dI8(from, layer(name), to, part);
  };
  const sync = () => gang?.sync();

  // the image as bytes (alone in fresh memory, as before; a gang's in its arena), then sub_mean
  const pixels = gang ? memory.u8('i8.pixels', 3, height, width) : zerosU8(3, height, width);
  const input = memory.i8('i8.input', 3, height, width);
  const inputRows = bandRows(wholeRegion(height, width), gang);
  if (inputRows) {
    const plane = height * width;
    for (let c = 0; c < 3; c++) {
      for (let i = c * plane + inputRows.y0 * width; i < c * plane + inputRows.y1 * width; i++) {
        const v = image.data[i];
        if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
          throw new RangeError(`the int8 path takes 8-bit images: input value ${v} at index ${i} is not an integer 0..255`);
        }
        pixels.data[i] = v;
      }
    }
    conv2dI8(pixels, layer('sub_mean'), input, gang && { input: inputRows, output: inputRows }); // pointwise: the same rows
  }
  observe?.('input', input);
  sync();

  const features = memory.i8('i8.features', n * (nBlocks + 1), height, width);
  const headOut = features.channelSlice(nBlocks * n, n);
  conv(input, 'head.0', headOut, windows?.head);
  observe?.('head', headOut);
  sync();

  const first = memory.i8('i8.cat1', 2 * n, height, width);
  const second = memory.i8('i8.cat2', 4 * n, height, width);
  const confusion = memory.i8('i8.confusion', n, height, width);
  let blockInput = headOut;
  for (let b = 0; b < nBlocks; b++) {
    const body = `body.${b}`;
    const w = windows?.blocks[b];
    conv(blockInput, `${body}.conv_3_1`, first.channelSlice(0, n), w?.first);
    conv(blockInput, `${body}.conv_5_1`, first.channelSlice(n, n), w?.first);
    observe?.(`${body}.cat1`, first);
    sync();
    conv(first, `${body}.conv_3_2`, second.channelSlice(0, 2 * n), w?.second);
    conv(first, `${body}.conv_5_2`, second.channelSlice(2 * n, 2 * n), w?.second);
    observe?.(`${body}.cat2`, second);
    sync();
    const confusionWindow: ConvWindow | undefined = w && { input: w.output, output: w.output };
    conv(second, `${body}.confusion`, confusion, confusionWindow);
    observe?.(`${body}.confusion`, confusion);
    const blockOut = features.channelSlice(b * n, n);
    // the residual add on the rows the confusion just computed (all of them alone)
    const addRows = memberWindow(confusionWindow, height, width, gang);
    if (addRows !== null) addI8(confusion, blockInput, model.adds.get(`${body}.add`)!, blockOut, addRows?.output);
    observe?.(body, blockOut);
    sync();
    blockInput = blockOut;
  }

  // tail.0 and tail.1 in cat2's memory, unread after the last block (as forwardF32 does)
  const fused = second.channelSlice(0, n);
  conv(features, 'tail.0', fused, windows && { input: windows.fusion, output: windows.fusion });
  observe?.('tail.0', fused);
  sync();
  let current = second.channelSlice(n, n);
  conv(fused, 'tail.1', current, windows?.tail1);
  observe?.('tail.1', current);
  sync();

  for (const [i, stage] of model.upsampler.entries()) {
    const f = stage.factor;
    const shuffled = memory.i8(`i8.up.${i}.shuffle`, n, current.height * f, current.width * f);
    const part = memberWindow(windows?.upsampler[i], current.height, current.width, gang);
    if (part !== null) conv2dI8PixelShuffle(current, layer(stage.prefix), f, shuffled, part); // the conv, then PixelShuffle(f)
    observe?.(stage.prefix, shuffled);
    sync();
    current = shuffled;
  }

  const last = memory.i8('i8.tail.3', 3, current.height, current.width);
  const lastWindow = memberWindow(windows?.last, current.height, current.width, gang);
  const output = gang ? memory.u8('i8.output', 3, current.height, current.width) : zerosU8(3, current.height, current.width);
  if (lastWindow !== null) {
    conv2dI8(current, layer('tail.3'), last, lastWindow);
    observe?.('tail.3', last);
    // add_mean is pointwise: a gang member's rows of tail.3 are all it reads
    conv2dI8(last, layer('add_mean'), output, gang && lastWindow && { input: lastWindow.output, output: lastWindow.output });
  }
  observe?.('output', output);
  sync();
  return output;
}

type IntTensor = Tensor<Int8Array> | Tensor<Uint8Array>;
