import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The core (what `msrn-ts/core` exports) must run in a browser or a Web Worker: follow its
 * import graph from src/core.ts and check that nothing in it imports a Node built-in or a
 * Node-only package.
 */
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
}

/** Follows the relative imports from `entry`; returns the files reached and every non-relative import. */
function walk(entry: string): { seen: Set<string>; offenders: string[] } {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        offenders.push(`${relative(SRC, file)} imports ${spec}`);
        continue;
      }
      visit(normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
  };
  visit(entry);
  return { seen, offenders };
}

describe('the core is browser-safe', () => {
  it('reaches no Node API from src/core.ts', () => {
    const { seen, offenders } = walk(join(SRC, 'core.ts'));
    expect(offenders).toEqual([]);
    // Sanity: the walk did cover the whole core.
    for (const dir of ['tensor', 'ops', 'msrn', 'quant']) {
      for (const f of readdirSync(join(SRC, dir)).filter((f) => f.endsWith('.ts'))) {
        expect(seen.has(join(SRC, dir, f)), `${dir}/${f} reachable from core.ts`).toBe(true);
      }
    }
  });

  it('the browser edge and its worker import nothing but relative modules (so dist/browser runs unbundled)', () => {
    const seen = new Set<string>();
    for (const entry of ['index.ts', 'model-worker.ts']) {
      const walked = walk(join(SRC, 'browser', entry));
      expect(walked.offenders).toEqual([]);
      for (const file of walked.seen) seen.add(file);
    }
    for (const dir of ['browser', 'upscaler']) {
      for (const f of readdirSync(join(SRC, dir)).filter((f) => f.endsWith('.ts'))) {
        expect(seen.has(join(SRC, dir, f)), `${dir}/${f} reachable from the browser entry points`).toBe(true);
      }
    }
    expect([...seen].filter((file) => relative(SRC, file).startsWith('node'))).toEqual([]);
  });
});
