import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The CLI as a user runs it: the built dist/cli.js (npm test builds first). */
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');
const run = promisify(execFile);

export async function msrn(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return msrnIn(process.cwd(), ...args);
}

/** The CLI run from another working directory. */
export async function msrnIn(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

