import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, MsrnConfig, Scale } from '../../src/msrn/config.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface Fp32Case {
  name: string;
  seed: number;
  weightsCrc32: number;
  config: MsrnConfig;
  inputShape: [number, number, number];
  outputShape: [number, number, number];
  input: Float32Array;
  output: Float32Array;
}

export function readF32(path: string): Float32Array {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function fp32Cases(): Fp32Case[] {
  const dir = join(FIXTURES, 'fp32');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    name: string;
    seed: number;
    weightsCrc32: number;
    config: { nFeats: number; nBlocks: number; scale: Scale };
    inputShape: [number, number, number];
    outputShape: [number, number, number];
  }[];
  return manifest.map((m) => ({
    ...m,
    config: { ...DEFAULT_CONFIG, ...m.config },
    input: readF32(join(dir, `${m.name}.input.f32`)),
    output: readF32(join(dir, `${m.name}.output.f32`)),
  }));
}
