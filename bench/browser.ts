/**
 * `npm run bench:browser [-- --rounds 5]`: the same upscales in headless Chromium (msrn-ts/browser,
 * Web Workers) and in Node (worker_threads), side by side, for the README's Browser section.
 *
 * Both sides get the same PNG bytes and a warm upscaler (weights loaded, workers started), and
 * the time covers what a user waits for: decode, every tile, the RGBA result. Rounds alternate
 * Node and Chromium so that a burst of load on this shared machine does not land on one side
 * only; the table gives medians. Needs Chromium (see test/browser/chromium.ts); writes
 * bench/results/browser.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createUpscaler, decodeImage, encodePng, imresizeBicubic, rgbaToTensor, tensorToRgba } from 'msrn-ts';
import type { Precision } from 'msrn-ts';
import { startServer } from '../demo/serve.js';
import { REPO_ROOT, argNumber } from './lib/setup.js';
import { fmt, machineHeader, machineInfo, markdownTable, writeResult } from './lib/report.js';

const rounds = argNumber('rounds', 5);
const CHROMIUM = process.env.MSRN_CHROMIUM ?? '/usr/bin/chromium';

const sample = readFileSync(join(REPO_ROOT, 'samples', 'chelsea.png'));
// The 270x480 frame the other benchmarks time (chelsea resized: content does not change the speed).
const frame = encodePng(tensorToRgba(imresizeBicubic(rgbaToTensor(decodeImage(sample)), 1, { outHeight: 270, outWidth: 480 })));
const images = [
  { name: 'samples/chelsea.png, 240x180', bytes: new Uint8Array(sample) },
  { name: 'the bench frame, 480x270', bytes: frame },
];
const configs: { precision: Precision; threads: number }[] = [
  { precision: 'fp32', threads: 1 },
  { precision: 'fp32', threads: 2 },
  { precision: 'int8', threads: 1 },
  { precision: 'int8', threads: 2 },
];

const info = await machineInfo();
const server = await startServer({
  mounts: [
    { prefix: '/pkg/dist/', dir: join(REPO_ROOT, 'dist') },
    { prefix: '/pkg/weights/', dir: join(REPO_ROOT, 'weights') },
    { prefix: '/harness/', dir: join(REPO_ROOT, 'test', 'browser', 'harness') },
    { prefix: '/samples/', dir: join(REPO_ROOT, 'samples') },
  ],
});
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
await page.goto(new URL('/harness/', server.url).href);
await page.waitForFunction(() => document.body.dataset.ready === 'true');
const browserVersion = browser.version();
// The images go into the page once; the timed calls only name them.
for (const [index, image] of images.entries()) {
  await page.evaluate(([i, bytes]) => {
    const w = window as unknown as { benchImages?: Uint8Array[] };
    (w.benchImages ??= [])[i as number] = new Uint8Array(bytes as number[]);
  }, [index, [...image.bytes]] as const);
}
type BenchWindow = Window & {
  msrn: typeof import('msrn-ts/browser');
  benchUpscaler?: { upscale(input: Uint8Array): Promise<unknown>; dispose(): Promise<void> };
  benchImages: Uint8Array[];
};

const rows: string[][] = [];
try {
  for (const config of configs) {
    const node = await createUpscaler(config);
    // The page keeps its upscaler in window.benchUpscaler between calls.
    await page.evaluate(async (options) => {
      const w = window as unknown as BenchWindow;
      await w.benchUpscaler?.dispose();
      w.benchUpscaler = await w.msrn.createUpscaler({ ...options, weights: `/pkg/weights/${options.precision === 'fp32' ? 'msrn_x2.bin' : 'msrn_x2.int8.bin'}` });
    }, config);
    for (const [index, image] of images.entries()) {
      const timeNode = async () => {
        const start = performance.now();
        await node.upscale(image.bytes);
        return performance.now() - start;
      };
      const timeBrowser = () =>
        page.evaluate(async (i) => {
          const w = window as unknown as BenchWindow;
          const start = performance.now();
          await w.benchUpscaler!.upscale(w.benchImages[i]);
          return performance.now() - start;
        }, index);
      await timeNode(); // warm-up: JIT, and the workers' first tiles
      await timeBrowser();
      const nodeMs: number[] = [];
      const browserMs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        if (round % 2 === 0) {
          nodeMs.push(await timeNode());
          browserMs.push(await timeBrowser());
        } else {
          browserMs.push(await timeBrowser());
          nodeMs.push(await timeNode());
        }
      }
      const n = median(nodeMs);
      const b = median(browserMs);
      rows.push([image.name, config.precision, String(config.threads), fmt(n, 0), fmt(b, 0), `${fmt(b / n, 2)}x`]);
      console.log(rows.at(-1)!.join(' | '));
    }
    await node.dispose();
  }
} finally {
  await browser.close();
  await server.close();
}

const report = [
  '# msrn-ts in Chromium and in Node, side by side',
  '',
  machineHeader(info),
  `- Chromium ${browserVersion} (headless, Debian), msrn-ts/browser unbundled from dist/ on module Web Workers; Node ${process.version} on worker_threads`,
  `- warm upscaler, PNG bytes in, RGBA out; median of ${rounds} alternating rounds; threads 1 runs on the calling thread (the page's main thread in Chromium)`,
  '',
  markdownTable(['image', 'precision', 'threads', 'Node ms', 'Chromium ms', 'Chromium / Node'], rows, ['l', 'l', 'r', 'r', 'r', 'r']),
  '',
].join('\n');
console.log(`\nwritten ${writeResult('browser.md', report)}`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
