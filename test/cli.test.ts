import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { msrn } from './helpers/cli.js';
import { agreement } from './helpers/random.js';
import { decodeImage } from '../src/image/codec.js';
import { FIXTURES } from './helpers/fixtures.js';

const e2e = (name: string) => join(FIXTURES, 'e2e', name);

describe('msrn upscale, end to end', () => {
  it("turns a state_dict exported by tools/export_blob.py into PyTorch's image", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msrn-cli-'));
    const out = join(dir, 'out.png');
    const result = await msrn('upscale', e2e('input.png'), '-o', out, '--weights', e2e('model.bin'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const actual = decodeImage(readFileSync(out));
    const expected = decodeImage(readFileSync(e2e('expected.png')));
    expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
    const { identical, worst } = agreement(actual.data, expected.data);
    expect(identical).toBeGreaterThanOrEqual(0.999);
    expect(worst).toBeLessThanOrEqual(1);
    expect(readdirSync(dir)).toEqual(['out.png']); // no temporary file left behind
  });

  it('writes JPEG when the output name says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msrn-cli-'));
    const out = join(dir, 'out.jpg');
    expect((await msrn('upscale', e2e('input.png'), '-o', out, '--weights', e2e('model.bin'))).code).toBe(0);
    const image = decodeImage(readFileSync(out));
    expect([image.width, image.height]).toEqual([64, 48]);
  });

  const usage: [string, string[], RegExp][] = [
    ['no output', ['upscale', 'x.png'], /upscale needs an output: -o/],
    ['two inputs', ['upscale', 'a.png', 'b.png', '-o', 'c.png'], /exactly one input image or folder, got 2/],
    ['an unknown option', ['upscale', 'a.png', '-o', 'c.png', '--frobnicate'], /Unknown option '--frobnicate'/],
    ['an unknown precision', ['upscale', 'a.png', '-o', 'c.png', '--precision', 'fp16'], /unknown --precision 'fp16'/],
    ['an unknown output extension', ['upscale', 'a.png', '-o', 'c.gif'], /cannot tell the output format from 'c.gif'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [what, args, message] of usage) {
    it(`exits 2 with one line for ${what}`, async () => {
      const result = await msrn(...args);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('exits 1 without output for a missing input, a bad weights file, or a missing output folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msrn-cli-'));
    const out = join(dir, 'out.png');
    const missing = await msrn('upscale', join(dir, 'nope.png'), '-o', out, '--weights', e2e('model.bin'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope.png: no such file/);

    const badWeights = await msrn('upscale', e2e('input.png'), '-o', out, '--weights', e2e('input.png'));
    expect(badWeights.code).toBe(1);
    expect(badWeights.stderr).toMatch(/not an msrn-ts weight blob: wrong magic bytes/);

    const corrupt = join(dir, 'corrupt.bin');
    const bytes = readFileSync(e2e('model.bin'));
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(corrupt, bytes);
    const badChecksum = await msrn('upscale', e2e('input.png'), '-o', out, '--weights', corrupt);
    expect(badChecksum.code).toBe(1);
    expect(badChecksum.stderr).toMatch(/checksum mismatch/);

    const notImage = await msrn('upscale', e2e('model.bin'), '-o', out, '--weights', e2e('model.bin'));
    expect(notImage.code).toBe(1);
    expect(notImage.stderr).toMatch(/not a PNG or JPEG image/);

    const noFolder = await msrn('upscale', e2e('input.png'), '-o', join(dir, 'missing', 'out.png'), '--weights', e2e('model.bin'));
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toMatch(/output folder .*missing does not exist/);

    for (const r of [missing, badWeights, badChecksum, notImage, noFolder]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['corrupt.bin']); // nothing half-written
  });
});

describe('msrn info', () => {
  it('prints config, parameter count and checksum', async () => {
    const result = await msrn('info', e2e('model.bin'));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/MSRN n_feats 8, n_blocks 1, x2/);
    expect(result.stdout).toMatch(/parameters: +14,691 \(\+24 in the mean shifts\)/);
    const bytes = readFileSync(e2e('model.bin'));
    const crc = bytes.readUInt32LE(bytes.length - 4).toString(16).padStart(8, '0');
    expect(result.stdout).toContain(`crc32 ${crc}`);
  });

  it('rejects a file that is not a blob', async () => {
    const result = await msrn('info', e2e('input.png'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/wrong magic bytes/);
  });
});
