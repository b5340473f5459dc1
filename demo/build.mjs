// Builds the demo into dist-demo/: the static site (site/) and the server that serves it
// (serve.mjs). esbuild bundles the page and the model worker from the TypeScript sources; the
// worker is written next to app.js because the library creates it as
// new Worker(new URL('./model-worker.js', import.meta.url)), which resolves against app.js.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist-demo');
const site = join(out, 'site');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(site, 'weights'), { recursive: true });
mkdirSync(join(site, 'samples'), { recursive: true });

const browser = { bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, logLevel: 'warning' };
await build({ ...browser, entryPoints: [join(root, 'demo', 'app.ts')], outfile: join(site, 'app.js') });
await build({ ...browser, entryPoints: [join(root, 'src', 'browser', 'model-worker.ts')], outfile: join(site, 'model-worker.js') });
await build({
  entryPoints: [join(root, 'demo', 'serve.ts')],
  outfile: join(out, 'serve.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

for (const file of ['index.html', 'style.css', 'favicon.svg']) cpSync(join(root, 'demo', file), join(site, file));
for (const file of ['msrn_x2.bin', 'msrn_x2.int8.bin']) cpSync(join(root, 'weights', file), join(site, 'weights', file));
cpSync(join(root, 'samples', 'chelsea.png'), join(site, 'samples', 'chelsea.png'));
console.log(`demo built in ${out}`);
