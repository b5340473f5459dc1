import { Tensor, zerosF32 } from '../tensor/tensor.js';
import { Gang, bandRows, shareWindow, threadMemory } from '../tensor/gang.js';
import { PackedConv2dF32, conv2dF32 } from '../ops/conv2d-f32.js';
import { add } from '../ops/elementwise.js';
import { meanShift } from '../ops/mean-shift.js';
import { pixelShuffle } from '../ops/pixel-shuffle.js';
import { MsrnModelF32 } from './model-f32.js';
import { runFusedTailF32 } from './fused-tail.js';
import { ConvWindow, Region, wholeRegion, wholeWindow } from '../tensor/region.js';
import { planLayerWindows } from './layer-windows.js';
import { bandsSaveMemory, blockBandsF32, blockSecondHalfF32 } from './block-bands.js';

/**
 * The fp32 MSRN forward pass, the official graph (MIVRC/MSRN-PyTorch):
 *
 *   x = sub_mean(in); h = head(x)
 *   for each MSRB: a = [relu(conv3(x)), relu(conv5(x))]; b = [relu(conv3'(a)), relu(conv5'(a))]
 *                  x = confusion(b) + x
 *   y = tail.1(tail.0([block_1, ..., block_B, h])); y = upsampler(y); y = tail.3(y); out = add_mean(y)
 *
 * Concats cost nothing: the block outputs and the head output are written straight into their
 * channel slices of one `features` tensor, and each MSRB's two branches into slices of `a` / `b`.
 * Unless observed, `b`, the confusion and the residual add run band by band where that takes
 * less memory than a whole `b` (block-bands.ts: on the frame and the default tiles).
 *
 * Input: (3, H, W), values 0..rgbRange. Output: (3, H * scale, W * scale), not rounded or clamped.
 *
 * `observe`, if given, sees every named intermediate tensor as soon as it is complete (names as
 * in docs/INT8.md: input, head, body.b.conv_3_1 ... body.b.cat1 ... body.b.confusion, body.b,
 * features, tail.0, tail.1, tail.2.<i>, tail.3, output). Calibration and the int8 report use it.
 * The tensor is only valid during the call: later layers and later calls reuse its memory
 * (the intermediates live in per-thread scratch slots, tensor/scratch.ts; the output is fresh).
 *
 * Without an observer, two folds (same result up to float rounding, less work): the last
 * upsampler stage, tail.3 and add_mean run as one conv at LR (fused-tail.ts), and the last
 * block's confusion and residual add run inside tail.0 (folded-fusion.ts); with one, everything
 * runs as the official graph, since the observer wants the intermediates.
 */
export type ForwardObserver = (name: string, tensor: Tensor<Float32Array>) => void;

/**
 * `core`, for a tile (tiling.ts): the part of the input whose output will be kept. Each layer is
 * then computed only where the layers after it still need it (layer-windows.ts); the output is
 * right inside the core (scaled) and holds finite values nothing should use elsewhere. Ignored
 * with an observer, which expects whole intermediates.
 *
 * `output`: a (3, H * scale, W * scale) tensor to write the result into (and return), e.g. one
 * reused from call to call; by default a fresh one. A fresh array is fresh memory, faulted in
 * page by page: 10 ms for a 256-pixel tile's 3.7 MB on this project's machine.
 *
 * `gang`: this call is one member of a gang (tensor/gang.ts) running the pass together with the
 * others: the intermediates (and, by default, the output) live in the gang's shared memory, the
 * members share out the rows of each layer and sync between layers. Returns after the last
 * sync: the whole output is complete. Not with an observer.
 */
export function forwardF32(
  model: MsrnModelF32,
  input: Tensor<Float32Array>,
  observe?: ForwardObserver,
  core?: Region,
  output?: Tensor<Float32Array>,
  gang?: Gang,
): Tensor<Float32Array> {
  const { nFeats: n, nBlocks } = model.config;
  if (gang && observe) throw new Error('forwardF32: a gang pass cannot be observed');
  if (input.channels !== model.config.nColors) {
    throw new RangeError(`MSRN expects ${model.config.nColors} input channels, got ${input.channels}`);
  }
  const { height, width } = input;
  const { scale } = model.config;
  if (output && (output.channels !== model.config.nColors || output.height !== height * scale || output.width !== width * scale)) {
    throw new RangeError(`forwardF32: output is ${output.shape.join('x')}, expected ${model.config.nColors}x${height * scale}x${width * scale}`);
  }
  const windows = core && !observe ? planLayerWindows(model.config, height, width, core, true) : undefined;
  const memory = gang?.memory ?? threadMemory;
  // In a gang the members share out the rows of each layer's window (shareWindow), and sync after
  // each layer (the next one reads rows others computed); alone, each conv runs on its window.
  const conv = (from: Tensor<Float32Array>, packed: PackedConv2dF32, to: Tensor<Float32Array>, relu: boolean) =>
    (part: ConvWindow | undefined) => conv2dF32(from, packed, to, relu, part);
  const sync = () => gang?.sync();

  const shifted = memory.f32('f32.input', 3, height, width);
  const inputRows = bandRows(wholeRegion(height, width), gang);
  if (inputRows) meanShift(input, model.subMean.weight, model.subMean.bias, shifted, gang && inputRows);
  observe?.('input', shifted);
  sync();

  // Observed: [block 0, ..., block B-1, head], the order of the official torch.cat(MSRB_out +
  // [res]). Unobserved, the last block's confusion and residual add run folded into tail.0
  // (folded-fusion.ts): the last block's output is never written, and the slots are [block 0,
  // ..., block B-2, head, tail.0], so the folded tail.0 reads one channel range.
  const foldFusion = !observe;
  const features = memory.f32('f32.features', n * (nBlocks + 1), height, width);
  const headOut = features.channelSlice((foldFusion ? nBlocks - 1 : nBlocks) * n, n);
  shareWindow(windows?.head, height, width, gang, conv(shifted, model.head, headOut, false));
  observe?.('head', headOut);
  sync();

  const first = memory.f32('f32.cat1', 2 * n, height, width);
  // tail.0's output: folded, in the features slot the last block's output would take; else in
  // cat1's memory, which nothing reads after the last block (fresh memory is faulted in page by
  // page, tensor/scratch.ts: 8.7 MB less of it for a 256-pixel tile)
  const fused = foldFusion ? features.channelSlice(nBlocks * n, n) : first.channelSlice(0, n);
  // cat2 whole, or (unobserved, where that takes less memory) band by band in this thread's slots
  const banded = !observe && bandsSaveMemory(height, width, gang?.size ?? 1);
  const second = banded ? undefined : memory.f32('f32.cat2', 4 * n, height, width);
  const bands = banded ? blockBandsF32(memory, n, height, width, gang) : undefined;
  let blockInput = headOut;
  model.blocks.forEach((block, b) => {
    const name = `body.${b}`;
    const w = windows?.blocks[b];
    // Folded, the last block's confusion output is added into tail.0's output (its residual add
    // and tail.0 in one), whose other inputs' part runs here, beside the block's first convs: it
    // reads the head and the earlier blocks, and the sync below completes it before the adds.
    const foldedLast = foldFusion && b === nBlocks - 1;
    const firstTasks = [
      conv(blockInput, block.conv3x3First, first.channelSlice(0, n), true),
      conv(blockInput, block.conv5x5First, first.channelSlice(n, n), true),
    ];
    if (foldedLast) {
      // on the first convs' output rows, which hold the fusion's window (a 1x1 reads no more)
      const rest = conv(features.channelSlice(0, nBlocks * n), model.foldedFusion.rest, fused, false);
      firstTasks.push((part) => rest(part && { input: part.output, output: part.output }));
    }
    shareWindow(w?.first, height, width, gang, ...firstTasks);
    observe?.(`${name}.conv_3_1`, first.channelSlice(0, n));
    observe?.(`${name}.conv_5_1`, first.channelSlice(n, n));
    observe?.(`${name}.cat1`, first);
    sync();
    const blockOut = foldedLast ? fused : features.channelSlice(b * n, n);
    const residual = foldedLast ? fused : blockInput;
    const confusionConv = foldedLast ? model.foldedFusion.confusion : block.confusion;
    if (bands) {
      // conv_3_2, conv_5_2, the confusion and the residual add, band by band (block-bands.ts)
      const secondWindow = w?.second ?? wholeWindow(height, width);
      const bandBlock = foldedLast ? { ...block, confusion: confusionConv } : block;
      shareWindow(secondWindow, height, width, gang, (part) =>
        blockSecondHalfF32(bandBlock, first, residual, blockOut, secondWindow, (part ?? secondWindow).output, bands),
      );
    } else {
      const cat2 = second!; // whole when not banded
      shareWindow(
        w?.second, height, width, gang,
        conv(first, block.conv3x3Second, cat2.channelSlice(0, 2 * n), true),
        conv(first, block.conv5x5Second, cat2.channelSlice(2 * n, 2 * n), true),
      );
      observe?.(`${name}.conv_3_2`, cat2.channelSlice(0, 2 * n));
      observe?.(`${name}.conv_5_2`, cat2.channelSlice(2 * n, 2 * n));
      observe?.(`${name}.cat2`, cat2);
      sync();
      if (observe) {
        conv2dF32(cat2, block.confusion, blockOut, false);
        observe(`${name}.confusion`, blockOut);
        add(blockOut, blockInput, blockOut);
      } else {
        // the residual add right after the confusion, on the rows it just computed (all of them
        // alone); folded, the confusion goes to cat1's memory first (read by nothing now), since
        // its output already holds the rest of tail.0
        const confusionOut = foldedLast ? first.channelSlice(0, n) : blockOut;
        shareWindow(w && { input: w.output, output: w.output }, height, width, gang, (part) => {
          conv2dF32(cat2, confusionConv, confusionOut, false, part);
          add(confusionOut, residual, blockOut, gang && part?.output);
        });
      }
    }
    observe?.(name, blockOut);
    sync();
    blockInput = blockOut;
  });
  observe?.('features', features);

  if (!foldFusion) {
    shareWindow(windows && { input: windows.fusion, output: windows.fusion }, height, width, gang, conv(features, model.fusion, fused, false));
    observe?.('tail.0', fused);
    sync();
  }
  // tail.1 in cat1's memory, which nothing reads after the last block
  let current = first.channelSlice(n, n);
  shareWindow(windows?.tail1, height, width, gang, conv(fused, model.tailConv, current, false));
  observe?.('tail.1', current);
  sync();

  // the stages before the last one always run as they are; the last one too when observed
  const unfolded = observe ? model.upsampler : model.upsampler.slice(0, -1);
  for (const [i, stage] of unfolded.entries()) {
    const f = stage.factor;
    const expanded = memory.f32(`f32.up.${i}.conv`, f * f * n, current.height, current.width);
    const shuffled = memory.f32(`f32.up.${i}.shuffle`, n, current.height * f, current.width * f);
    const from = current;
    shareWindow(windows?.upsampler[i], from.height, from.width, gang, (part) => {
      conv2dF32(from, stage.conv, expanded, false, part);
      pixelShuffle(expanded, f, shuffled, gang && part?.output); // the shuffle of the rows just computed
    });
    observe?.(stage.prefix, shuffled);
    sync();
    current = shuffled;
  }
  if (!observe) {
    const into = output ?? (gang && memory.f32('f32.output', model.config.nColors, height * scale, width * scale));
    const result = runFusedTailF32(current, model.fusedTail, windows?.last, into, gang);
    sync();
    return result;
  }

  const result = output ?? zerosF32(3, current.height, current.width);
  conv2dF32(current, model.outputConv, result, false);
  observe?.('tail.3', result);
  meanShift(result, model.addMean.weight, model.addMean.bias, result);
  observe?.('output', result);
  return result;
}
