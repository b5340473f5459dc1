/**
 * `npm run bench:1080p [-- --threads N --tile T --precision int8]`: one 1920x1080 -> 3840x2160
 * upscale as `msrn upscale` does it (PNG in, PNG out, the shipped weights), reporting wall time
 * and the process's peak resident memory (resourceUsage().maxRSS, worker threads included).
 *
 * The input is samples/chelsea.png resized to 1920x1080 with MATLAB bicubic: content does not
 * change the speed, only the size does. One run, not a median: it takes minutes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { decodeImage, encodePng, imresizeBicubic, rgbaToTensor, tensorToRgba, upscale } from 'msrn-ts';
import { REPO_ROOT, argNumber, argValue } from './lib/setup.js';

const threads = argNumber('threads', availableParallelism());
const tileSize = argValue('tile') === undefined ? undefined : argNumber('tile', 0);
const precision = (argValue('precision') ?? 'fp32') as 'fp32' | 'int8';

const sample = rgbaToTensor(decodeImage(readFileSync(join(REPO_ROOT, 'samples', 'chelsea.png'))));
const frame = imresizeBicubic(sample, 1, { outHeight: 1080, outWidth: 1920 });
const png = encodePng(tensorToRgba(frame));
console.log(`# 1920x1080 -> 3840x2160, ${precision}, ${threads} thread(s), tile ${tileSize ?? 'default'}; load average ${loadavg().map((v) => v.toFixed(2)).join(' / ')}`);

const start = performance.now();
const result = await upscale(png, { precision, threads, tileSize });
const encoded = encodePng(result);
const seconds = (performance.now() - start) / 1000;
const gflop = (2 * 103_536 * 1920 * 1080) / 1e9;
console.log(`${result.width}x${result.height}, ${encoded.length} bytes of PNG`);
console.log(`wall time ${seconds.toFixed(1)} s (decode + upscale + encode), ${(gflop / seconds).toFixed(2)} effective GFLOP/s`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
