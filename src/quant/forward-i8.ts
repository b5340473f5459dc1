import { Tensor, zerosU8 } from '../tensor/tensor.js';
import { Gang, bandRows, shareWindow, threadMemory } from '../tensor/gang.js';
import { addI8 } from './add-i8.js';
import { QuantizedConv2d, conv2dI8, conv2dI8PixelShuffle } from './conv2d-i8.js';
import { Int8Model } from './int8-model.js';
import { ConvWindow, Region, wholeRegion, wholeWindow } from '../tensor/region.js';
import { planLayerWindows } from '../msrn/layer-windows.js';
import { blockBandsI8, blockSecondHalfI8 } from './block-bands-i8.js';
import { bandsSaveMemory } from '../msrn/block-bands.js';

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
  // as in forwardF32: the members of a gang share out each layer's rows, then sync
  const conv = (from: IntTensor, name: string, to: IntTensor) => (part: ConvWindow | undefined) => conv2dI8(from, layer(name), to, part);
  const sync = () => gang?.sync();

  // the image as bytes (every element of the rows below is written before sub_mean reads it)
  const pixels = memory.u8('i8.pixels', 3, height, width);
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
  shareWindow(windows?.head, height, width, gang, conv(input, 'head.0', headOut));
  observe?.('head', headOut);
  sync();

  const first = memory.i8('i8.cat1', 2 * n, height, width);
  // cat2 and the confusion whole, or (unobserved, where that takes less memory) band by band in
  // this thread's slots (block-bands-i8.ts), as forwardF32 decides
  const banded = !observe && bandsSaveMemory(height, width, gang?.size ?? 1);
  const second = banded ? undefined : memory.i8('i8.cat2', 4 * n, height, width);
  const confusion = banded ? undefined : memory.i8('i8.confusion', n, height, width);
  const bands = banded ? blockBandsI8(memory, n, height, width, gang) : undefined;
  let blockInput = headOut;
  for (let b = 0; b < nBlocks; b++) {
    const body = `body.${b}`;
    const w = windows?.blocks[b];
    shareWindow(w?.first, height, width, gang, conv(blockInput, `${body}.conv_3_1`, first.channelSlice(0, n)), conv(blockInput, `${body}.conv_5_1`, first.channelSlice(n, n)));
    observe?.(`${body}.cat1`, first);
    sync();
    const blockOut = features.channelSlice(b * n, n);
    if (bands) {
      // conv_3_2, conv_5_2, the confusion and the residual add, band by band
      const secondWindow = w?.second ?? wholeWindow(height, width);
      shareWindow(secondWindow, height, width, gang, (part) =>
        blockSecondHalfI8(model, b, first, blockInput, blockOut, secondWindow, (part ?? secondWindow).output, bands),
      );
    } else {
      const cat2 = second!; // whole when not banded, with the confusion
      const confused = confusion!;
      shareWindow(w?.second, height, width, gang, conv(first, `${body}.conv_3_2`, cat2.channelSlice(0, 2 * n)), conv(first, `${body}.conv_5_2`, cat2.channelSlice(2 * n, 2 * n)));
      observe?.(`${body}.cat2`, cat2);
      sync();
      const add = model.adds.get(`${body}.add`)!;
      if (observe) {
        conv(cat2, `${body}.confusion`, confused)(undefined);
        observe(`${body}.confusion`, confused);
        addI8(confused, blockInput, add, blockOut);
      } else {
        // the residual add right after the confusion, on the rows it just computed (all of them alone)
        shareWindow(w && { input: w.output, output: w.output }, height, width, gang, (part) => {
          conv(cat2, `${body}.confusion`, confused)(part);
          addI8(confused, blockInput, add, blockOut, gang && part?.output);
        });
      }
    }
    observe?.(body, blockOut);
    sync();
    blockInput = blockOut;
  }

  // tail.0 and tail.1 in cat1's memory, unread after the last block (as forwardF32 does)
  const fused = first.channelSlice(0, n);
  shareWindow(windows && { input: windows.fusion, output: windows.fusion }, height, width, gang, conv(features, 'tail.0', fused));
  observe?.('tail.0', fused);
  sync();
  let current = first.channelSlice(n, n);
  shareWindow(windows?.tail1, height, width, gang, conv(fused, 'tail.1', current));
  observe?.('tail.1', current);
  sync();

  for (const [i, stage] of model.upsampler.entries()) {
    const f = stage.factor;
    const shuffled = memory.i8(`i8.up.${i}.shuffle`, n, current.height * f, current.width * f);
    const from = current;
    shareWindow(windows?.upsampler[i], from.height, from.width, gang, (part) => conv2dI8PixelShuffle(from, layer(stage.prefix), f, shuffled, part)); // the conv, then PixelShuffle(f)
    observe?.(stage.prefix, shuffled);
    sync();
    current = shuffled;
  }

  const last = memory.i8('i8.tail.3', 3, current.height, current.width);
  const output = gang ? memory.u8('i8.output', 3, current.height, current.width) : zerosU8(3, current.height, current.width);
  if (observe) {
    conv2dI8(current, layer('tail.3'), last);
    observe('tail.3', last);
    conv2dI8(last, layer('add_mean'), output);
  } else {
    const from = current;
    shareWindow(windows?.last, from.height, from.width, gang, (part) => {
      conv2dI8(from, layer('tail.3'), last, part);
      // add_mean is pointwise: in a gang, on the rows of tail.3 just computed; alone, everywhere
      conv2dI8(last, layer('add_mean'), output, gang && part && { input: part.output, output: part.output });
    });
  }
  observe?.('output', output);
  sync();
  return output;
}

type IntTensor = Tensor<Int8Array> | Tensor<Uint8Array>;
