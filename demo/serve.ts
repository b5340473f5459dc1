/**
 * A small static server for the demo (`npm run demo`), sending the strict Content-Security-Policy
 * the page is meant to run under: scripts and workers from this origin only, no 'unsafe-eval',
 * no 'wasm-unsafe-eval', no inline script or style. The browser tests start it too, with an extra
 * mount for the unbundled package (dist/, weights/). It also makes the page cross-origin isolated
 * (COOP same-origin + COEP require-corp; everything is same-origin), which is what lets a page
 * have SharedArrayBuffer, so the workers run each tile together (upscaler/gang-tile.ts).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob:",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.json': 'application/json',
  '.map': 'application/json',
  '.bin': 'application/octet-stream',
};

/** URL path prefix (ending in '/') -> the folder served under it. */
export interface Mount {
  readonly prefix: string;
  readonly dir: string;
  /** send COEP require-corp, making its pages cross-origin isolated (default true); false for testing the fallback */
  readonly isolated?: boolean;
}

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(options: { mounts: readonly Mount[]; port?: number; host?: string }): Promise<RunningServer> {
  // Longest prefix first, so '/pkg/' wins over '/'.
  const mounts = [...options.mounts].sort((a, b) => b.prefix.length - a.prefix.length).map((m) => ({ ...m, dir: resolve(m.dir) }));
  const server = createServer(async (request, response) => {
    const send = (status: number, text: string) => {
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': DEMO_CSP });
      response.end(text);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad URL');
    }
    const mount = mounts.find((m) => path.startsWith(m.prefix));
    if (!mount) return send(404, 'not found');
    let file = resolve(mount.dir, '.' + sep + path.slice(mount.prefix.length));
    if (file !== mount.dir && !file.startsWith(mount.dir + sep)) return send(404, 'not found');
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const info = await stat(file);
      response.writeHead(200, {
        'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': info.size,
        'Content-Security-Policy': DEMO_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cross-Origin-Opener-Policy': 'same-origin',
        ...(mount.isolated === false ? {} : { 'Cross-Origin-Embedder-Policy': 'require-corp' }),
        'Cache-Control': 'no-cache',
      });
      if (request.method === 'HEAD') return response.end();
      createReadStream(file)
        .on('error', () => response.destroy())
        .pipe(response);
    } catch {
      send(404, 'not found');
    }
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--port');
  const port = at >= 0 ? Number(process.argv[at + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${process.argv[at + 1]}`);
  const site = join(dirname(fileURLToPath(import.meta.url)), 'site');
  const { url } = await startServer({ mounts: [{ prefix: '/', dir: site }], port });
  console.log(`msrn-ts demo: ${url}  (Ctrl+C stops it)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `port in use: pass another with npm run demo -- --port <n>` : error.message);
    process.exit(1);
  });
}
