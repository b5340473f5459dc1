import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserContext, chromium } from 'playwright-core';
import { RunningServer, startServer } from '../../demo/serve.js';

/**
 * Real headless Chromium for the browser tests, driven by playwright-core (which downloads
 * nothing): Debian's /usr/bin/chromium (`apt-get install chromium`), or MSRN_CHROMIUM. Where none
 * is installed the browser tests are skipped with a note, unless MSRN_REQUIRE_BROWSER=1 (CI sets
 * it), where they fail instead.
 */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CANDIDATES = [process.env.MSRN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
export const CHROMIUM = CANDIDATES.find((path): path is string => !!path && existsSync(path));
export const REQUIRED = process.env.MSRN_REQUIRE_BROWSER === '1';
/** Headless on a machine without a GPU or a network: the flags keep Chromium from trying Google's hosts. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Whether to run the browser tests (throws when they are required and no browser is found). */
export function browserTestsEnabled(): boolean {
  if (CHROMIUM) return true;
  if (REQUIRED) throw new Error('MSRN_REQUIRE_BROWSER=1 but no Chromium found: apt-get install chromium, or set MSRN_CHROMIUM');
  console.warn('browser tests skipped: no Chromium (apt-get install chromium, or set MSRN_CHROMIUM=<path>)');
  return false;
}

export interface Session {
  readonly context: BrowserContext;
  readonly server: RunningServer;
  close(): Promise<void>;
}

/**
 * Chromium (playwright starts it with a fresh, empty profile each time) and the demo server: the built demo at '/', the package's
 * dist/ and weights/ at '/pkg/' (so dist/browser runs unbundled, with its default weights URL),
 * the test harness at '/harness/' (and, not cross-origin isolated, at '/harness-plain/').
 */
export async function openSession(): Promise<Session> {
  const server = await startServer({
    mounts: [
      { prefix: '/', dir: join(REPO, 'dist-demo', 'site') },
      { prefix: '/pkg/dist/', dir: join(REPO, 'dist') },
      { prefix: '/pkg/weights/', dir: join(REPO, 'weights') },
      { prefix: '/harness/', dir: join(REPO, 'test', 'browser', 'harness') },
      // the same harness on a page that is not cross-origin isolated: no SharedArrayBuffer
      { prefix: '/harness-plain/', dir: join(REPO, 'test', 'browser', 'harness'), isolated: false },
    ],
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  return {
    context,
    server,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
