import { ConvWindow, Region, checkRegion, expandRegion, scaleRegion } from '../tensor/region.js';
import { MsrnConfig, upsamplerStages } from './config.js';

/**
 * Where each layer of a tiled forward pass must be computed. A tile is run on its core plus a
 * halo of the receptive-field radius (tiling.ts), but only the core's output is kept: layer l
 * needs to be right only within the core grown by the radius of the layers after it. Computing
 * every layer on the whole haloed tile threw away, on a 256-pixel tile with its 12-pixel halos,
 * 20% of the work; with the regions below each layer stops where later layers stop needing it.
 *
 * Every conv gets a ConvWindow (input: the region its producer computed; output: the region it
 * must compute), so a Winograd conv reads zeros beyond its producer's region (as padding) and
 * the bytes of a tile do not depend on what earlier tiles left in the scratch tensors. Regions
 * are worked out backwards from the core, each grown by the next layer's kernel radius and
 * clipped to the tensor (where the tile meets the image border, the padding is the real one).
 *
 * `core`: the pixels whose output is kept, in the coordinates of the LR input tensor. `folded`:
 * the fp32 graph, whose last upsampler stage, HR conv and add_mean run as one 5x5 conv at the
 * last stage's input resolution (fused-tail.ts); the int8 graph runs them as they are.
 */
export interface LayerWindows {
  readonly head: ConvWindow;
  /** per block: the first round of convs (3x3 and 5x5), the second round, and the 1x1 confusion + residual add (its output region) */
  readonly blocks: readonly { readonly first: ConvWindow; readonly second: ConvWindow; readonly output: Region }[];
  /** tail.0, the 1x1 fusion over the concat of the block outputs and the head's */
  readonly fusion: Region;
  readonly tail1: ConvWindow;
  /** the upsampler stages that run as conv + PixelShuffle, each at its input resolution */
  readonly upsampler: readonly ConvWindow[];
  /** int8: tail.3 at HR; fp32: the folded conv at the last stage's input resolution */
  readonly last: ConvWindow;
}

export function planLayerWindows(config: MsrnConfig, height: number, width: number, core: Region, folded: boolean): LayerWindows {
  checkRegion('tile core', core, height, width);
  const stages = upsamplerStages(config.scale);
  const unfolded = folded ? stages.slice(0, -1) : stages;
  // the resolution (times LR) at the input of each unfolded stage, and of the last layer
  const resolutions: number[] = [];
  let resolution = 1;
  for (const stage of unfolded) {
    resolutions.push(resolution);
    resolution *= stage.factor;
  }
  const grow = (region: Region, by: number, at: number) => expandRegion(region, by, height * at, width * at);
  // The pixels of resolution `at` whose PixelShuffle(f) outputs cover `region` (at at * f).
  const before = (region: Region, f: number): Region => ({
    y0: Math.floor(region.y0 / f),
    y1: Math.ceil(region.y1 / f),
    x0: Math.floor(region.x0 / f),
    x1: Math.ceil(region.x1 / f),
  });

  // The last layer: int8's tail.3 (3x3 at HR), or fp32's folded 5x5 at its own resolution.
  const lastOutput = scaleRegion(core, resolution);
  const last: ConvWindow = { output: lastOutput, input: grow(lastOutput, folded ? 2 : 1, resolution) };
  // The unfolded upsampler stages, last first: each conv (3x3) must cover, after its shuffle,
  // what the layer after it reads.
  const upsampler: ConvWindow[] = [];
  let needed = last.input;
  for (let i = unfolded.length - 1; i >= 0; i--) {
    const output = before(needed, unfolded[i].factor);
    const window = { output, input: grow(output, 1, resolutions[i]) };
    upsampler.unshift(window);
    needed = window.input;
  }
  const tail1: ConvWindow = { output: needed, input: grow(needed, 1, 1) };
  const fusion = tail1.input;
  // Blocks, last first: each block's output is read by the next block (through its convs, 2 + 2
  // pixels) and by the fusion (1x1).
  const blocks: { first: ConvWindow; second: ConvWindow; output: Region }[] = [];
  let blockOutput = fusion;
  for (let b = config.nBlocks - 1; b >= 0; b--) {
    const second: ConvWindow = { output: blockOutput, input: grow(blockOutput, 2, 1) };
    const first: ConvWindow = { output: second.input, input: grow(second.input, 2, 1) };
    blocks.unshift({ first, second, output: blockOutput });
    blockOutput = first.input; // what the previous block (or the head) must give
  }
  const head: ConvWindow = { output: blockOutput, input: grow(blockOutput, 1, 1) };
  return { head, blocks, fusion, tail1, upsampler, last };
}

