import { MsrnConfig, upsamplerStages } from '../msrn/config.js';
import { Tile, tileCoreRegion } from '../msrn/tiling.js';
import { Gang, bandRows } from '../tensor/gang.js';
import { wholeRegion } from '../tensor/region.js';
import { SharedArena, arenaSlotBytes } from '../tensor/shared-arena.js';
import { BARRIER_BYTES, SharedBarrier } from '../tensor/shared-barrier.js';
import { LoadedModel, Precision, forwardModel, forwardModelEnsemble } from './model-runner.js';
import { writeCoreRgba } from './core-rgba.js';
import { BAND_HEIGHT, bandsSaveMemory } from '../msrn/block-bands.js';

/**
 * A gang tile: every worker of the pool runs one tile together (tensor/gang.ts), sharing out
 * the rows of every layer, in one SharedArrayBuffer that the main thread allocates and all of
 * them map:
 *
 *   [barrier | the tile's input, planar RGB bytes | its core's output, RGBA | the forward's arena]
 *
 * Against one tile per worker, nothing is computed twice: the halo is shared (a tile may be as
 * large as the workers' tiles together, which is the same memory) and the rows are shared out at
 * the Winograd tile grid, so the result is what one thread gives on the same tile, bit for bit.
 * Needs SharedArrayBuffer: Node, or a cross-origin isolated page.
 */
export interface GangTileLayout {
  readonly input: number;
  readonly output: number;
  readonly arena: number;
  /** the bytes the layout needs; the buffer may be larger */
  readonly bytes: number;
}

export function gangTileLayout(config: MsrnConfig, precision: Precision, tile: Tile, ensemble: boolean, members: number): GangTileLayout {
  const { scale } = config;
  const input = arenaSlotBytes(BARRIER_BYTES);
  const output = input + arenaSlotBytes(3 * tile.haloHeight * tile.haloWidth);
  const arena = output + arenaSlotBytes(4 * tile.height * scale * tile.width * scale);
  return { input, output, arena, bytes: arena + forwardArenaBytes(config, precision, tile.haloHeight, tile.haloWidth, members, ensemble) };
}

/**
 * The arena bytes a gang of `members` running a forward of `precision` on an H x W input asks
 * for: the slots of runGangTile, of forwardF32 / forwardInt8 with a gang and, for a
 * self-ensemble, of forwardModelEnsemble's, each rounded as the arena rounds it. (The arena
 * throws if a forward asks for more; a test holds the two to exactly the same.)
 */
export function forwardArenaBytes(config: MsrnConfig, precision: Precision, height: number, width: number, members: number, ensemble = false): number {
  const { nFeats: n, nBlocks, nColors, scale } = config;
  const plane = height * width;
  const slots: number[] = [4 * 3 * plane]; // gang.input, float
  if (ensemble) slots.push(4 * 3 * plane * scale * scale, 4 * 3 * plane); // its output, then each transformed input
  const stages = upsamplerStages(scale);
  const side = Math.max(height, width); // the band slots' width (msrn/block-bands.ts)
  const banded = bandsSaveMemory(height, width, members); // as the forwards decide
  if (precision === 'fp32') {
    slots.push(4 * 3 * plane, 4 * n * (nBlocks + 1) * plane, 4 * 2 * n * plane); // input, features, cat1
    // cat2 whole, or each member's band tensors (block-bands.ts): cat1's rows, cat2, the confusion
    if (!banded) slots.push(4 * 4 * n * plane);
    else for (let m = 0; m < members; m++) slots.push(4 * 2 * n * BAND_HEIGHT * side, 4 * 4 * n * BAND_HEIGHT * side, 4 * n * BAND_HEIGHT * side);
    let resolution = 1;
    for (const { factor: f } of stages.slice(0, -1)) {
      slots.push(4 * f * f * n * plane * resolution ** 2, 4 * n * plane * (resolution * f) ** 2); // conv, shuffle
      resolution *= f;
    }
    const last = stages[stages.length - 1].factor;
    slots.push(4 * nColors * last * last * plane * resolution ** 2); // the folded tail's phases
    slots.push(4 * nColors * plane * scale * scale); // output
  } else {
    slots.push(3 * plane, 3 * plane, n * (nBlocks + 1) * plane, 2 * n * plane); // pixels, input, features, cat1
    // cat2 and the confusion whole, or each member's band tensors (block-bands-i8.ts), as fp32's
    if (!banded) slots.push(4 * n * plane, n * plane);
    else for (let m = 0; m < members; m++) slots.push(2 * n * BAND_HEIGHT * side, 4 * n * BAND_HEIGHT * side, n * BAND_HEIGHT * side);
    let resolution = 1;
    for (const { factor: f } of stages) {
      resolution *= f;
      slots.push(n * plane * resolution ** 2); // the stage's shuffled output
    }
    slots.push(3 * plane * scale * scale, 3 * plane * scale * scale); // tail.3, output
  }
  return slots.reduce((sum, bytes) => sum + arenaSlotBytes(bytes), 0);
}

/** What a gang member is sent: the tile, who it is, and the shared buffer (laid out by gangTileLayout). */
export interface GangTileJob {
  readonly kind: 'gang-tile';
  readonly tile: Tile;
  readonly member: number;
  readonly size: number;
  readonly memory: SharedArrayBuffer;
  /** the self-ensemble (forwardModelEnsemble) instead of one forward */
  readonly ensemble: boolean;
}

/**
 * One member's part of a gang tile: its rows of the input as floats, the forward, and its rows
 * of the core as RGBA into the shared output. If anything throws, the barrier is aborted first,
 * so the other members stop instead of waiting for this one.
 */
export function runGangTile(loaded: LoadedModel, job: GangTileJob): void {
  const { tile, memory } = job;
  const config = loaded.model.config;
  const layout = gangTileLayout(config, loaded.precision, tile, job.ensemble, job.size);
  if (memory.byteLength < layout.bytes) throw new RangeError(`gang tile: the shared buffer holds ${memory.byteLength} bytes, the tile needs ${layout.bytes}`);
  const barrier = new SharedBarrier(memory, job.size);
  try {
    const arena = new SharedArena(memory, layout.arena, memory.byteLength - layout.arena);
    const gang: Gang = { member: job.member, size: job.size, memory: arena, sync: () => barrier.wait(), claim: () => barrier.claim() };
    const { haloHeight: h, haloWidth: w } = tile;
    const input = arena.f32('gang.input', 3, h, w);
    const rows = bandRows(wholeRegion(h, w), gang, 1);
    if (rows) {
      const bytes = new Uint8Array(memory, layout.input, 3 * h * w);
      for (let c = 0; c < 3; c++) {
        const from = c * h * w + rows.y0 * w;
        const to = c * h * w + rows.y1 * w;
        input.data.set(bytes.subarray(from, to), from);
      }
    }
    gang.sync();
    const core = tileCoreRegion(tile);
    const output = job.ensemble ? forwardModelEnsemble(loaded, input, core, gang) : forwardModel(loaded, input, core, true, gang);
    const scale = config.scale;
    const coreRows = bandRows({ y0: 0, y1: tile.height * scale, x0: 0, x1: tile.width * scale }, gang, 1);
    if (coreRows) writeCoreRgba(output, tile, scale, new Uint8ClampedArray(memory, layout.output, 4 * tile.height * scale * tile.width * scale), coreRows.y0, coreRows.y1);
  } catch (error) {
    barrier.abort();
    throw error;
  }
}
