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

describe('the core is browser-safe', () => {
  it('reaches no Node API from src/core.ts', () => {
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
    visit(join(SRC, 'core.ts'));
    expect(offenders).toEqual([]);
    // Sanity: the walk did cover the whole core.
    for (const dir of ['tensor', 'ops', 'msrn', 'quant']) {
      for (const f of readdirSync(join(SRC, dir)).filter((f) => f.endsWith('.ts'))) {
        expect(seen.has(join(SRC, dir, f)), `${dir}/${f} reachable from core.ts`).toBe(true);
      }
    }
  });
});
