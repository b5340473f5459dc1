/**
 * msrn-ts/browser inside an app built by Vite, as a user would: the default weights and the
 * worker are found through `new URL(..., import.meta.url)` and emitted by the bundler, and the
 * built app runs under the strict CSP with the same bytes as Node.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { upscale } from '../../dist/index.js';
import { startServer } from '../../demo/serve.js';
import { CHROMIUM, CHROMIUM_ARGS, REPO, browserTestsEnabled } from './chromium.js';

describe.runIf(browserTestsEnabled())('msrn-ts/browser bundled by Vite', () => {
  const out = mkdtempSync(join(tmpdir(), 'msrn-vite-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("emits the worker and both weight blobs, and the built app gives Node's bytes", async () => {
    await build({
      root: join(REPO, 'test', 'browser', 'vite-app'),
      configFile: false,
      logLevel: 'silent',
      resolve: { alias: { 'msrn-ts/browser': join(REPO, 'dist', 'browser', 'index.js') } },
      build: { outDir: out, emptyOutDir: true, target: 'es2022' },
    });
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.some((name) => /^model-worker-.*\.js$/.test(name))).toBe(true);
    expect(assets.some((name) => /^msrn_x2-.*\.bin$/.test(name))).toBe(true);
    expect(assets.some((name) => /^msrn_x2\.int8-.*\.bin$/.test(name))).toBe(true);
    copyFileSync(join(REPO, 'samples', 'chelsea.png'), join(out, 'chelsea.png'));

    const server = await startServer({ mounts: [{ prefix: '/', dir: out }] });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(server.url);
      await page.waitForFunction(() => document.body.dataset.done === 'true', undefined, { timeout: 60_000 });
      const result = await page.evaluate(() => {
        const image = (window as unknown as { upscaled: ImageData }).upscaled;
        return { width: image.width, height: image.height, data: [...image.data] };
      });
      const node = await upscale(new Uint8Array(readFileSync(join(REPO, 'samples', 'chelsea.png'))), { threads: 2 });
      expect([result.width, result.height]).toEqual([node.width, node.height]);
      expect(Buffer.from(result.data).equals(Buffer.from(node.data))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
