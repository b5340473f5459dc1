import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/image/codec.js';
import { readInt8Blob } from '../src/quant/int8-blob.js';
import { readWeightBlob, writeWeightBlob } from '../src/msrn/weights-blob.js';
import { upscale } from '../dist/index.js';
import { msrn, msrnIn } from './helpers/cli.js';
import { FIXTURES } from './helpers/fixtures.js';

const weights = join(FIXTURES, 'e2e', 'model.bin');
const images = join(FIXTURES, 'resize'); // small photos-like PNGs: calibration and evaluation sets
const work = mkdtempSync(join(tmpdir(), 'msrn-cmd-'));
const int8 = join(work, 'model.int8.bin');
const hr = join(work, 'hr'); // the larger fixture PNGs, as an HR set
mkdirSync(hr);
for (const name of readdirSync(images).filter((f) => /^ramp\d+x\d+(_x[23])?\.png$/.test(f))) {
  writeFileSync(join(hr, name), readFileSync(join(images, name)));
}

beforeAll(async () => {
  const result = await msrn('calibrate', images, '-o', int8, '--weights', weights, '--count', '3');
  expect(result.code).toBe(0);
});

describe('msrn calibrate', () => {
  it('writes an int8 model of the given weights, from the first --count images', () => {
    const model = readInt8Blob(readFileSync(int8));
    expect(model.config.nFeats).toBe(8);
    expect(model.calibration.images).toBe(3);
    expect(model.fp32Checksum).toBe(readFileSync(weights).readUInt32LE(readFileSync(weights).length - 4));
  });

  it('writes the same bytes with any number of threads, max and percentile', async () => {
    for (const method of [[], ['--method', 'percentile']]) {
      const blobs = [];
      for (const threads of ['1', '3']) {
        const out = join(work, `threads-${threads}.int8.bin`);
        const result = await msrn('calibrate', images, '-o', out, '--weights', weights, '--count', '4', '--threads', threads, '--quiet', ...method);
        expect(result.stderr).toBe('');
        blobs.push(readFileSync(out));
      }
      expect(blobs[1]).toEqual(blobs[0]);
    }
  });

  it('resizes calibration images with --size and records it', async () => {
    const out = join(work, 'sized.int8.bin');
    expect((await msrn('calibrate', images, '-o', out, '--weights', weights, '--count', '2', '--size', '20x30', '--quiet')).code).toBe(0);
    expect(readInt8Blob(readFileSync(out)).calibration.size).toEqual([20, 30]);
  });

  it('calibrates by percentile when asked, and checks the flags', async () => {
    const out = join(work, 'pct.int8.bin');
    expect((await msrn('calibrate', images, '-o', out, '--weights', weights, '--count', '2', '--method', 'percentile', '--percentile', '99.9', '--quiet')).code).toBe(0);
    const model = readInt8Blob(readFileSync(out));
    expect([model.calibration.method, model.calibration.percentile]).toEqual(['percentile', 99.9]);
    expect((await msrn('info', out)).stdout).toMatch(/calibration: percentile 99.9%, 2 image\(s\)/);
    const badMethod = await msrn('calibrate', images, '-o', out, '--method', 'mean');
    expect(badMethod.code).toBe(2);
    expect(badMethod.stderr).toMatch(/--method must be max or percentile/);
    const stray = await msrn('calibrate', images, '-o', out, '--percentile', '99');
    expect(stray.stderr).toMatch(/--percentile goes with --method percentile/);
  });

  it('fails clearly on a folder with no readable images, and writes nothing', async () => {
    const empty = join(work, 'not-images');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.txt'), 'hello');
    writeFileSync(join(empty, 'fake.png'), 'not a png');
    const out = join(work, 'nothing.int8.bin');
    const result = await msrn('calibrate', empty, '-o', out, '--weights', weights);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/skipping .*fake.png: not a PNG or JPEG image/);
    expect(result.stderr).toMatch(/msrn: no readable PNG or JPEG images in .*not-images/);
    expect(readdirSync(work)).not.toContain('nothing.int8.bin');
    const missing = await msrn('calibrate', join(work, 'nope'), '-o', out, '--weights', weights);
    expect(missing.stderr).toMatch(/cannot read folder .*nope: no such file/);
  });
});

describe('msrn upscale --ensemble', () => {
  it('writes the self-ensemble result of the library', async () => {
    const out = join(work, 'plus.png');
    expect((await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', out, '--weights', weights, '--ensemble', '--quiet')).code).toBe(0);
    const expected = await upscale(join(FIXTURES, 'e2e', 'input.png'), { weights, ensemble: true });
    expect(Buffer.from(decodeImage(readFileSync(out)).data).equals(Buffer.from(expected.data))).toBe(true);
  });
});

describe('msrn upscale --precision int8', () => {
  it('upscales with the int8 model, close to fp32', async () => {
    const a = join(work, 'int8.png');
    const b = join(work, 'fp32.png');
    expect((await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', a, '--precision', 'int8', '--weights', int8)).code).toBe(0);
    expect((await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', b, '--weights', weights)).code).toBe(0);
    const q = decodeImage(readFileSync(a));
    const f = decodeImage(readFileSync(b));
    expect([q.width, q.height]).toEqual([f.width, f.height]);
    let se = 0;
    for (let i = 0; i < q.data.length; i++) se += (q.data[i] - f.data[i]) ** 2;
    expect(10 * Math.log10((255 * 255 * q.data.length) / se)).toBeGreaterThan(30);
  });

  it('explains that fp32 weights need calibrating first', async () => {
    const result = await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', join(work, 'x.png'), '--precision', 'int8', '--weights', weights);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/precision int8 needs an int8 model, and these are fp32 weights: make one with `msrn calibrate/);
  });
});

describe('msrn info, compare, eval', () => {
  it('info describes an int8 model', async () => {
    const result = await msrn('info', int8);
    expect(result.stdout).toMatch(/msrn-int8 model blob/);
    expect(result.stdout).toMatch(/calibration: max, 3 image\(s\)/);
    expect(result.stdout).toMatch(/body\.0\.cat2 +\d/);
  });

  it('compare --json reports PSNR and the SQNR of every quantized tensor', async () => {
    const result = await msrn('compare', join(FIXTURES, 'e2e', 'input.png'), '--weights', weights, '--int8', int8, '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.psnrRgb).toBeGreaterThan(25);
    expect(report.points.map((p: { name: string }) => p.name)).toEqual([
      'input', 'head', 'body.0.cat1', 'body.0.cat2', 'body.0.confusion', 'body.0', 'tail.0', 'tail.1', 'tail.2.0', 'tail.3', 'output',
    ]);
    for (const p of report.points) {
      expect(p.sqnr).toBeGreaterThan(10);
      expect(p.rmsSteps).toBeGreaterThan(0);
      expect(p.clipped).toBeGreaterThanOrEqual(0);
    }
    const text = await msrn('compare', join(FIXTURES, 'e2e', 'input.png'), '--weights', weights, '--int8', int8);
    expect(text.stdout).toMatch(/tensor +point +scale +SQNR dB +clipped +rms\/step/);
    expect(text.stdout).toMatch(/^body\.0 +features +[\d.]+ +[\d.]+ +[\d.]+% +[\d.]+$/m);
  });

  it('eval names the image that cannot be scored', async () => {
    const result = await msrn('eval', images, '--weights', weights, '--quiet');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/msrn: ramp\d+x\d+_x0\.\d+\.png: SSIM needs at least 11x11 pixels/);
  });

  it('compare refuses an int8 model calibrated from other weights', async () => {
    const blob = readWeightBlob(readFileSync(weights));
    const retrained = new Map(blob.tensors);
    retrained.set('tail.1.bias', retrained.get('tail.1.bias')!.map((v) => v + 0.5));
    const other = join(work, 'other.bin');
    writeFileSync(other, writeWeightBlob(blob.config, retrained));
    const result = await msrn('compare', join(FIXTURES, 'e2e', 'input.png'), '--weights', other, '--int8', int8);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/int8 model was calibrated from fp32 weights crc32 [0-9a-f]{8}, but these are crc32 [0-9a-f]{8}/);
  });

  it('compare says when the int8 model file is missing', async () => {
    const result = await msrn('compare', join(FIXTURES, 'e2e', 'input.png'), '--weights', weights, '--int8', join(work, 'missing.bin'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read weights file .*missing.bin: no such file/);
  });

  it('eval scores bicubic, fp32 and int8 per image and on average, and writes JSON', async () => {
    const json = join(work, 'eval.json');
    const result = await msrn('eval', hr, '--weights', weights, '--int8', int8, '--precision', 'fp32,int8', '--json', json, '--quiet');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/x2, PSNR dB \/ SSIM on Y channel \(float luma, as MSRN scores\), shave 2/);
    expect(result.stdout).toMatch(/int8 - fp32: -?\d+\.\d{3} dB PSNR/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect([report.protocol, report.y]).toEqual(['standard', 'float']);
    expect(report.images).toHaveLength(6);
    for (const image of report.images) {
      for (const key of ['bicubic', 'fp32', 'int8']) {
        expect(image[key].psnr).toBeGreaterThan(5);
        expect(image[key].ssim).toBeLessThanOrEqual(1);
      }
    }
    expect(report.mean.bicubic.psnr).toBeCloseTo(
      report.images.reduce((a: number, i: { bicubic: { psnr: number } }) => a + i.bicubic.psnr, 0) / report.images.length,
      10,
    );
  });

  it('eval --y u8 scores on 8-bit luma (lower than the float default); --ensemble scores MSRN+', async () => {
    const run = async (...y: string[]) => {
      const json = join(work, `eval-${y.join('') || 'default'}.json`);
      expect((await msrn('eval', hr, '--weights', weights, '--json', json, '--quiet', ...y)).code).toBe(0);
      return JSON.parse(readFileSync(json, 'utf8'));
    };
    const [float, u8, plus] = [await run(), await run('--y', 'u8'), await run('--ensemble')];
    expect(u8.y).toBe('u8');
    expect(u8.mean.bicubic.psnr).toBeLessThan(float.mean.bicubic.psnr);
    expect([float.ensemble, plus.ensemble]).toEqual([false, true]);
    expect(plus.mean.bicubic).toEqual(float.mean.bicubic); // bicubic is not a model: no ensemble
    expect(plus.mean.fp32.psnr).not.toBe(float.mean.fp32.psnr);
    const bad = await msrn('eval', hr, '--weights', weights, '--y', 'rounded');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--y must be float .* or u8 .*; got 'rounded'/);
  });

  it('eval rejects a scale the model does not have, and a card protocol without a size', async () => {
    const wrong = await msrn('eval', hr, '--weights', weights, '--scale', '3');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--scale 3 does not match the model, which is x2/);
    const card = await msrn('eval', hr, '--weights', weights, '--protocol', 'card');
    expect(card.code).toBe(2);
    expect(card.stderr).toMatch(/needs --size/);
  });

  it('eval --protocol card compares in RGB at the given size', async () => {
    const result = await msrn('eval', hr, '--weights', weights, '--protocol', 'card', '--size', '16x20', '--quiet');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/RGB, no shave \(model card protocol\)/);
  });
});

describe('msrn resize and metrics', () => {
  it('resize reproduces the numpy MATLAB bicubic', async () => {
    const out = join(work, 'half.png');
    expect((await msrn('resize', join(images, 'ramp37x29.png'), '-o', out, '--scale', '0.5')).code).toBe(0);
    expect(Array.from(decodeImage(readFileSync(out)).data)).toEqual(Array.from(decodeImage(readFileSync(join(images, 'ramp37x29_x0.5.png'))).data));
  });

  it('metrics --json prints exactly {"psnr": <number>, "ssim": <number>}', async () => {
    const a = join(images, 'ramp37x29_x2.png');
    const b = join(images, 'ramp37x29_x3.png');
    const same = await msrn('metrics', a, a, '--json');
    expect(same.stdout).toBe('{"psnr": null, "ssim": 1}\n');
    const result = await msrn('metrics', join(images, 'ramp24x40_x2.png'), join(images, 'ramp24x40_x2.png'), '--shave', '2');
    expect(result.stdout).toMatch(/PSNR inf dB, SSIM 1.0000 \(Y float luma, as MSRN scores, shave 2\)/);
    const mismatch = await msrn('metrics', a, b);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/images differ in size: 58x74 vs 87x111/);
  });

  it("metrics equals MSRN's scorer by default and the 8-bit-luma one with --y u8 (fixture scores)", async () => {
    const dir = join(FIXTURES, 'metrics');
    const { cases } = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8'));
    for (const c of cases) {
      const files = [join(dir, `${c.name}_ref.png`), join(dir, `${c.name}_test.png`)];
      const float = JSON.parse((await msrn('metrics', ...files, '--shave', String(c.shave), '--json')).stdout);
      const u8 = JSON.parse((await msrn('metrics', ...files, '--shave', String(c.shave), '--y', 'u8', '--json')).stdout);
      expect(Math.abs(float.psnr - c.float.psnr)).toBeLessThan(1e-6);
      expect(Math.abs(u8.psnr - c.u8.psnr)).toBeLessThan(1e-6);
      expect(Math.abs(float.ssim - c.float.ssim)).toBeLessThan(1e-9);
      expect(Math.abs(u8.ssim - c.u8.ssim)).toBeLessThan(1e-9);
    }
  });
});

describe('msrn upscale: folders, tiles, threads', () => {
  it('upscales every image of a folder into an output folder, same result for any --tile/--threads', async () => {
    const outA = join(work, 'out-a');
    const outB = join(work, 'out-b');
    mkdirSync(outA);
    mkdirSync(outB);
    const a = await msrn('upscale', hr, '-o', outA, '--weights', weights, '--threads', '1', '--quiet');
    const b = await msrn('upscale', hr, '-o', outB, '--weights', weights, '--threads', '2', '--tile', '7');
    expect([a.code, b.code]).toEqual([0, 0]);
    const names = readdirSync(hr).sort();
    expect(readdirSync(outA).sort()).toEqual(names);
    for (const name of names) expect(readFileSync(join(outB, name))).toEqual(readFileSync(join(outA, name)));
    expect(b.stderr).toBe(''); // no progress bar when stderr is not a terminal
  });

  it('refuses a missing output folder and bad numbers', async () => {
    const missing = await msrn('upscale', hr, '-o', join(work, 'nope'), '--weights', weights);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/output folder .*nope does not exist/);
    const badTile = await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', join(work, 'x.png'), '--tile', '0');
    expect(badTile.code).toBe(2);
    expect(badTile.stderr).toMatch(/--tile must be an integer from 1/);
    const badThreads = await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', join(work, 'x.png'), '--threads', 'many');
    expect(badThreads.code).toBe(2);
    const bomb = await msrn('upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', join(work, 'x.png'), '--weights', weights, '--max-pixels', '100');
    expect(bomb.code).toBe(1);
    expect(bomb.stderr).toMatch(/image is 32x24 \(0.0 MP\), over the limit/);
    expect(readdirSync(work)).not.toContain('x.png');
  });
});

describe('the shipped weights', () => {
  it('ship an int8 model calibrated from the shipped fp32 weights', () => {
    const root = join(FIXTURES, '..', '..', 'weights');
    const fp32 = readWeightBlob(readFileSync(join(root, 'msrn_x2.bin')));
    const int8 = readInt8Blob(readFileSync(join(root, 'msrn_x2.int8.bin')));
    expect(int8.fp32Checksum).toBe(fp32.checksum);
    expect(int8.calibration.method).toBe('max'); // the model card's recipe
  });

  it('are found from any working directory, fp32 and int8', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'msrn-cwd-'));
    for (const precision of ['fp32', 'int8']) {
      const out = join(elsewhere, `${precision}.png`);
      const result = await msrnIn(elsewhere, 'upscale', join(FIXTURES, 'e2e', 'input.png'), '-o', out, '--precision', precision);
      expect(result.stderr).toBe('');
      expect(decodeImage(readFileSync(out)).width).toBe(64);
    }
    const info = await msrnIn(elsewhere, 'info', join(FIXTURES, '..', '..', 'weights', 'msrn_x2.bin'));
    expect(info.stdout).toMatch(/MSRN n_feats 16, n_blocks 2, x2/);
    expect(info.stdout).toMatch(/parameters: +102,579/);
  });
});

describe('msrn showcase', () => {
  it('puts bicubic, the model and the ground truth side by side, enlarged', async () => {
    const out = join(work, 'show.png');
    const source = join(images, 'ramp24x40_x2.png'); // 80x48 HR
    const result = await msrn('showcase', source, '-o', out, '--weights', weights, '--crop', '10,6,20,16', '--zoom', '2');
    expect(result.code).toBe(0);
    const picture = decodeImage(readFileSync(out));
    expect([picture.width, picture.height]).toEqual([3 * 40 + 2 * 8, 32]);
    // The right panel is the ground truth crop, pixel (0, 0) of the crop = HR pixel (10, 6).
    const hrImage = decodeImage(readFileSync(source));
    const right = (2 * 40 + 2 * 8) * 4;
    expect(Array.from(picture.data.subarray(right, right + 3))).toEqual(Array.from(hrImage.data.subarray((6 * 80 + 10) * 4, (6 * 80 + 10) * 4 + 3)));
    const bad = await msrn('showcase', source, '-o', out, '--weights', weights, '--crop', '70,40,20,20');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/crop 20x20 at \(70, 40\) does not fit the 80x48 image/);
  });
});
