/**
 * msrn-ts/browser as a page imports it: unbundled, native ES modules straight from dist/browser
 * (the harness page, under the same strict CSP), with its default weights and worker URLs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpscaler, encodePng, upscale } from '../../dist/index.js';
import { REPO, Session, browserTestsEnabled, openSession } from './chromium.js';

const SAMPLE = readFileSync(join(REPO, 'samples', 'chelsea.png'));

function fnv1a(bytes: Uint8Array | Uint8ClampedArray): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  return hash;
}

/** What the page's `window` holds once harness.js has run. */
type HarnessWindow = Window & {
  msrn: typeof import('../../src/browser/index.js');
  fnv1a(bytes: Uint8Array | Uint8ClampedArray): number;
};

describe.runIf(browserTestsEnabled())('msrn-ts/browser in Chromium, unbundled', () => {
  let session: Session;
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    session = await openSession();
    page = await session.context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(new URL('/harness/', session.server.url).href);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('runs with its default weights and worker URLs on 2 workers: the same bytes as Node', async () => {
    const inPage = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const blob = await (await fetch('/samples/chelsea.png')).blob();
      const image = await w.msrn.upscale(blob, { threads: 2 });
      // isolated (the server sends COOP + COEP): SharedArrayBuffer, so the 2 workers ran as a gang
      return { isolated: crossOriginIsolated, isImageData: image instanceof ImageData, width: image.width, height: image.height, hash: w.fnv1a(image.data) };
    });
    const node = await upscale(new Uint8Array(SAMPLE), { threads: 2 });
    expect(inPage).toEqual({ isolated: true, isImageData: true, width: 480, height: 360, hash: fnv1a(node.data) });
  });

  it('takes ImageData, an <img>, an ImageBitmap, canvases, a VideoFrame, a Blob, bytes and an ArrayBuffer alike', async () => {
    const hashes = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const bytes = new Uint8Array(await (await fetch('/samples/chelsea.png')).arrayBuffer());
      const blob = new Blob([bytes], { type: 'image/png' });
      const img = document.getElementById('sample') as HTMLImageElement;
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
      const imageData = canvas.getContext('2d')!.getImageData(0, 0, bitmap.width, bitmap.height);
      // threads: 1 runs on the page's own thread: that path is covered here too.
      const upscaler = await w.msrn.createUpscaler({ threads: 1, tileSize: 128 });
      const pageCanvas = document.createElement('canvas');
      pageCanvas.width = bitmap.width;
      pageCanvas.height = bitmap.height;
      pageCanvas.getContext('2d')!.drawImage(bitmap, 0, 0);
      const videoFrame = new VideoFrame(canvas, { timestamp: 0 });
      const inputs: Record<string, unknown> = {
        imageData, img, bitmap, offscreenCanvas: canvas, pageCanvas, videoFrame, blob, bytes, arrayBuffer: bytes.buffer,
      };
      const out: Record<string, number> = {};
      for (const [name, input] of Object.entries(inputs)) out[name] = w.fnv1a((await upscaler.upscale(input as Blob)).data);
      videoFrame.close();
      await upscaler.dispose();
      return out;
    });
    const node = await createUpscaler({ threads: 1, tileSize: 128 });
    const expected = fnv1a((await node.upscale(new Uint8Array(SAMPLE))).data);
    await node.dispose();
    // The <img> was colour-managed by the browser on load (the sample carries an sRGB profile,
    // which changes nothing) and so equals the others here; bytes go through colorSpaceConversion 'none'.
    for (const [name, hash] of Object.entries(hashes)) expect(hash, name).toBe(expected);
  });

  it('decodes what the browser decodes: a WebP (lossless) gives the same result as the PNG', async () => {
    const same = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const png = await (await fetch('/samples/chelsea.png')).blob();
      const bitmap = await createImageBitmap(png, { colorSpaceConversion: 'none' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
      const webp = await canvas.convertToBlob({ type: 'image/webp', quality: 1 }); // quality 1 is lossless in Chromium
      const head = new Uint8Array(await webp.slice(0, 12).arrayBuffer());
      const upscaler = await w.msrn.createUpscaler({ threads: 1 });
      const fromWebp = w.fnv1a((await upscaler.upscale(webp)).data);
      const fromPng = w.fnv1a((await upscaler.upscale(png)).data);
      await upscaler.dispose();
      return { riff: String.fromCharCode(...head.subarray(8, 12)), equal: fromWebp === fromPng };
    });
    expect(same).toEqual({ riff: 'WEBP', equal: true });
  });

  it('translucent pixels: alpha as in Node, RGB within what the premultiplied canvas changes', async () => {
    // A gradient photo-like RGBA PNG whose alpha runs from 8 to 255.
    const width = 64;
    const height = 48;
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        rgba.set([(x * 4 + y) & 255, (y * 5 + 40) & 255, (x * y) & 255, 8 + Math.round((247 * x) / (width - 1))], i);
      }
    }
    const png = encodePng({ width, height, data: rgba });
    const inPage = await page.evaluate(async (bytes) => {
      const w = window as unknown as HarnessWindow;
      return [...(await w.msrn.upscale(new Uint8Array(bytes), { threads: 1 })).data];
    }, [...png]);
    const node = await upscale(png, { threads: 1 });
    let worstAlpha = 0;
    let worstRgbOpaqueHalf = 0;
    let worstRgb = 0;
    for (let i = 0; i < node.data.length; i += 4) {
      worstAlpha = Math.max(worstAlpha, Math.abs(inPage[i + 3] - node.data[i + 3]));
      for (let c = 0; c < 3; c++) worstRgb = Math.max(worstRgb, Math.abs(inPage[i + c] - node.data[i + c]));
      if (node.data[i + 3] >= 128) {
        for (let c = 0; c < 3; c++) worstRgbOpaqueHalf = Math.max(worstRgbOpaqueHalf, Math.abs(inPage[i + c] - node.data[i + c]));
      }
    }
    expect(worstAlpha).toBe(0);
    // Chromium 156 measured 4 levels where alpha >= 128 (and more where alpha is near 0, where
    // premultiplying keeps few bits of RGB); the bound leaves room for other decoders.
    console.log(`translucent PNG: worst RGB difference from Node ${worstRgb}, where alpha >= 128: ${worstRgbOpaqueHalf}`);
    expect(worstRgbOpaqueHalf).toBeLessThanOrEqual(6);
  });

  it('int8 from a URL: the same bytes as Node for the same tiles', async () => {
    const hash = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const blob = await (await fetch('/samples/chelsea.png')).blob();
      const image = await w.msrn.upscale(blob, { precision: 'int8', weights: '/pkg/weights/msrn_x2.int8.bin', threads: 2, tileSize: 64 });
      return w.fnv1a(image.data);
    });
    const node = await upscale(new Uint8Array(SAMPLE), { precision: 'int8', threads: 2, tileSize: 64 });
    expect(hash).toBe(fnv1a(node.data));
  });

  it('on a page that is not cross-origin isolated, the workers run separate tiles: the same bytes as Node', async () => {
    const plain = await session.context.newPage();
    try {
      await plain.goto(new URL('/harness-plain/', session.server.url).href);
      await plain.waitForFunction(() => document.body.dataset.ready === 'true');
      const inPage = await plain.evaluate(async () => {
        const w = window as unknown as HarnessWindow;
        const blob = await (await fetch('/samples/chelsea.png')).blob();
        const hash = async (precision: 'fp32' | 'int8', ensemble: boolean) => w.fnv1a((await w.msrn.upscale(blob, { threads: 2, tileSize: 128, precision, ensemble })).data);
        return { isolated: crossOriginIsolated, shared: typeof SharedArrayBuffer, fp32: await hash('fp32', false), int8: await hash('int8', false), ensemble: await hash('fp32', true) };
      });
      const node = async (precision: 'fp32' | 'int8', ensemble: boolean) => fnv1a((await upscale(new Uint8Array(SAMPLE), { threads: 2, tileSize: 128, precision, ensemble })).data);
      expect(inPage).toEqual({ isolated: false, shared: 'undefined', fp32: await node('fp32', false), int8: await node('int8', false), ensemble: await node('fp32', true) });
    } finally {
      await plain.close();
    }
  });

  it('self-ensemble on the workers: the same bytes as Node', async () => {
    const hash = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const blob = await (await fetch('/samples/chelsea.png')).blob();
      return w.fnv1a((await w.msrn.upscale(blob, { threads: 2, tileSize: 128, ensemble: true })).data);
    });
    const node = await upscale(new Uint8Array(SAMPLE), { threads: 2, tileSize: 128, ensemble: true });
    expect(hash).toBe(fnv1a(node.data));
  });

  it('an abort terminates the running workers at once; the upscaler stays usable', async () => {
    let closed = 0;
    const onWorker = (worker: Worker) => worker.once('close', () => closed++);
    page.on('worker', onWorker);
    const result = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const blob = await (await fetch('/samples/chelsea.png')).blob();
      const upscaler = await w.msrn.createUpscaler({ threads: 2, tileSize: 24 });
      const controller = new AbortController();
      const seen: number[] = [];
      const error = await upscaler
        // aborted while the next tile runs (an abort between tiles has no worker to stop)
        .upscale(blob, { signal: controller.signal, onProgress: (f) => (seen.push(f), seen.length === 1 && setTimeout(() => controller.abort(), 0)) })
        .then(() => undefined, (e: Error) => e.name);
      const after = await upscaler.upscale(blob, {});
      await upscaler.dispose();
      return { error, progressAtAbort: seen.length, afterWidth: after.width };
    });
    expect(result.error).toBe('AbortError');
    expect(result.progressAtAbort).toBeLessThan(20);
    expect(result.afterWidth).toBe(480);
    // The 2 busy workers stopped by the abort, then the 2 that replaced them stopped by dispose.
    await expect.poll(() => closed, { timeout: 10_000 }).toBe(4);
    page.off('worker', onWorker);
  });

  it('says what is wrong with bad weights, a bad input or a missing worker script', async () => {
    const messages = await page.evaluate(async () => {
      const w = window as unknown as HarnessWindow;
      const failure = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: Error) => `${e.name}: ${e.message}`);
      const bytes = new Uint8Array(await (await fetch('/samples/chelsea.png')).arrayBuffer());
      return {
        missingWeights: await failure(w.msrn.createUpscaler({ weights: '/pkg/weights/none.bin' })),
        fp32AsInt8: await failure(w.msrn.createUpscaler({ precision: 'int8', weights: '/pkg/weights/msrn_x2.bin' })),
        notWeights: await failure(w.msrn.createUpscaler({ weights: bytes })),
        badInput: await failure(w.msrn.upscale(42 as never, { threads: 1 })),
        empty: await failure(w.msrn.upscale(new Uint8Array(0), { threads: 1 })),
        tooLarge: await failure(w.msrn.upscale(bytes, { threads: 1, maxPixels: 1000 })),
        shortPixels: await failure(w.msrn.upscale({ data: new Uint8Array(10), width: 4, height: 4 }, { threads: 1 })),
        badThreads: await failure(w.msrn.upscale(bytes, { threads: 0 })),
        noWorkerScript: await failure(w.msrn.upscale(bytes, { threads: 2, workerUrl: '/pkg/dist/browser/no-such-worker.js' })),
      };
    });
    expect(messages.missingWeights).toMatch(/^Error: cannot fetch weights from \/pkg\/weights\/none.bin: HTTP 404/);
    expect(messages.fp32AsInt8).toMatch(/precision int8 needs an int8 model, and these are fp32 weights/);
    expect(messages.notWeights).toMatch(/wrong magic bytes/);
    expect(messages.badInput).toMatch(/^TypeError: upscale input must be ImageData/);
    expect(messages.empty).toBe('ImageDecodeError: empty input: 0 bytes, not an image');
    expect(messages.tooLarge).toMatch(/^ImageDecodeError: image is 240x180 \(0.0 MP\), over the limit/);
    expect(messages.shortPixels).toBe('RangeError: pixel buffer has 10 bytes, 4x4x4 needs 64');
    expect(messages.badThreads).toBe('RangeError: threads must be a positive integer up to 256, got 0');
    expect(messages.noWorkerScript).toMatch(/^Error: a model worker failed: its script could not be loaded or run/);
    expect(problems).toEqual([]);
  });
});
