import { describe, expect, it } from 'vitest';
import { rgbaToTensor } from '../../src/image/pixels.js';
import { planTiles, tileInput } from '../../src/msrn/tiling.js';
import { tileBytes } from '../../src/upscaler/tiled-upscale.js';
import { rng } from '../helpers/random.js';

describe('tileBytes', () => {
  it('is the tile input (tileInput of rgbaToTensor) as bytes, for every tile of a grid', () => {
    const random = rng(12);
    const [width, height] = [23, 17];
    const data = Uint8ClampedArray.from({ length: width * height * 4 }, () => Math.floor(random() * 256));
    const image = { width, height, data };
    const tensor = rgbaToTensor(image);
    const tiles = planTiles(height, width, 6, 3);
    expect(tiles.length).toBeGreaterThan(4);
    for (const tile of tiles) expect(Array.from(tileBytes(image, tile))).toEqual(Array.from(tileInput(tensor, tile).data));
  });
});
