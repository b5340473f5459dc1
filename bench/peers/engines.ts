/**
 * Peer engines for bench/peers/run.ts. Each adapter runs the same MSRN weights on the same
 * (3, H, W) frame and returns a (3, H*scale, W*scale) float32 CHW output, so it can be diffed
 * against msrn-ts. Packages come from bench/peers/node_modules (opt-in, see README.md); an
 * engine that cannot load returns a Skip with the exact reason instead of failing the run.
 *
 * The peers' own type packages live in bench/peers/node_modules, which the root tsc does not
 * see, so the few API members used here are declared locally (Ort, Tf below).
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Tensor, WeightBlob, expectedTensors, upsamplerStages } from 'msrn-ts/core';
import { REPO_ROOT } from '../lib/setup.js';
import type { WasmWorkerData, WasmWorkerReply } from './wasm-worker.js';

export interface RunResult {
  /** (3, H*scale, W*scale) CHW; u8 for msrn-ts int8 */
  readonly output: Float32Array | Uint8Array;
  /** set by engines that time themselves (PyTorch, in a subprocess): the forward call only */
  readonly ms?: number;
}

export interface Engine {
  readonly engine: string;
  readonly threads: number;
  readonly detail: string;
  /** rounds to take part in (tfjs-backend-cpu: 1, a frame takes ~26 s) */
  readonly maxRounds?: number;
  /**
   * Runs in a child process started per call (PyTorch): timed in a group of its own, after the
   * in-process engines. Interleaved with them, its start and exit (loading and dropping ~0.5 GB)
   * slowed the main-thread engines of the next turn 1.2-2.4x (msrn-ts fp32 1,343 -> 1,667 ms,
   * onnxruntime-node 233 -> 557 ms in two runs on the idle 2-core machine, 2026-12-02).
   */
  readonly outOfProcess?: boolean;
  warmup(): Promise<void>;
  run(): Promise<RunResult>;
  close?(): Promise<void>;
}

export interface Skip {
  readonly engine: string;
  readonly threads: number;
  readonly skipped: string;
}

export type EngineOrSkip = Engine | Skip;

export const PEERS_DIR = join(REPO_ROOT, 'bench', 'peers');
const peerRequire = createRequire(join(PEERS_DIR, 'package.json'));

function loadPeer<T>(name: string): T | string {
  try {
    return peerRequire(name) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND') {
      return `${name} is not installed: run \`npm --prefix bench/peers install\` (bench/peers/README.md)`;
    }
    return `${name} failed to load: ${(error as Error).message.split('\n')[0]}`;
  }
}

export interface Frame {
  readonly input: Tensor<Float32Array>;
  readonly scale: number;
}

// ---------------------------------------------------------------------------------------------
// onnxruntime (node: native CPU EP; web: the wasm build, run in Node)

interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  env: { versions?: Record<string, string>; wasm?: { numThreads?: number; simd?: boolean } };
}

/** onnxruntime-node with `threads` intra-op threads (CPU execution provider, all graph optimizations). */
export async function onnxruntimeNode(onnx: string | Skip, frame: Frame, threads: number): Promise<EngineOrSkip> {
  const engine = 'onnxruntime-node';
  if (typeof onnx !== 'string') return { engine, threads, skipped: onnx.skipped };
  const ort = loadPeer<Ort>('onnxruntime-node');
  if (typeof ort === 'string') return { engine, threads, skipped: ort };
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Its pool threads otherwise spin-wait after each run, on the cores the next engine in the
    // interleaved round (msrn-ts's worker pool) is timed on.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  return ortEngine(engine, `${ort.env.versions?.node ?? ''} CPU EP, spin-wait off`.trim(), ort, session, frame, threads);
}

/** onnxruntime-web, wasm backend, in Node. Its thread count is process-global, so 1 thread only. */
export async function onnxruntimeWeb(onnx: string | Skip, frame: Frame): Promise<EngineOrSkip> {
  const engine = 'onnxruntime-web (wasm)';
  const threads = 1;
  if (typeof onnx !== 'string') return { engine, threads, skipped: onnx.skipped };
  const ort = loadPeer<Ort>('onnxruntime-web');
  if (typeof ort === 'string') return { engine, threads, skipped: ort };
  if (ort.env.wasm) ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(onnx)), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  return ortEngine(engine, `${ort.env.versions?.web ?? ''} wasm SIMD`.trim(), ort, session, frame, threads);
}

function ortEngine(engine: string, detail: string, ort: Ort, session: OrtSession, frame: Frame, threads: number): Engine {
  const { channels, height, width } = frame.input;
  const run = async (): Promise<RunResult> => {
    const input = new ort.Tensor('float32', frame.input.data, [1, channels, height, width]);
    const result = await session.run({ input });
    return { output: result.output.data };
  };
  return {
    engine,
    threads,
    detail,
    warmup: async () => void (await run()),
    run,
    close: () => session.release(),
  };
}

/**
 * Exports the blob to ONNX with tools/export_onnx.py (PyTorch's torch.onnx.export, opset 13,
 * dynamic H/W), or uses `--onnx <file>` when given. Returns the path, or a Skip for the ORT rows.
 */
export function exportOnnx(python: string, blobPath: string, onnxPath: string): string | Skip {
  const result = spawnSync(python, [join(REPO_ROOT, 'tools', 'export_onnx.py'), blobPath, onnxPath], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : (result.stderr || result.stdout).trim().split('\n').slice(-1)[0];
    return {
      engine: 'onnx export',
      threads: 0,
      skipped: `no ONNX model: tools/export_onnx.py needs ${python} with torch (apt-get install python3-torch), or pass --onnx <file>: ${why}`,
    };
  }
  return onnxPath;
}

// ---------------------------------------------------------------------------------------------
// TensorFlow.js: the graph built from the blob with tf ops, NHWC

interface TfTensor {
  readonly shape: number[];
  dataSync(): Float32Array;
  dispose(): void;
}
interface Tf {
  version_core: string;
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  ready(): Promise<void>;
  tidy<T>(fn: () => T): T;
  tensor1d(values: Float32Array): TfTensor;
  tensor4d(values: Float32Array, shape: [number, number, number, number]): TfTensor;
  transpose(x: TfTensor, perm: number[]): TfTensor;
  concat(xs: TfTensor[], axis: number): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  depthToSpace(x: TfTensor, blockSize: number, dataFormat: 'NHWC'): TfTensor;
  fused: {
    conv2d(args: { x: TfTensor; filter: TfTensor; strides: number; pad: 'same'; bias: TfTensor; activation: 'relu' | 'linear' }): TfTensor;
  };
  env(): { getBool(flag: string): boolean; set(flag: string, value: unknown): void };
}
interface TfWasm {
  setWasmPaths(prefix: string): void;
  getThreadsCount(): number;
}

interface TfConv {
  filter: TfTensor; // [K, K, Cin, Cout]
  bias: TfTensor;
}

/**
 * PyTorch [Cout, Cin, K, K] -> tf [K, K, Cin, Cout]. `order`, if given, permutes the output
 * channels (new channel i takes old channel order[i]): for PixelShuffle, see tfjsForward.
 */
function tfConv(tf: Tf, blob: WeightBlob, prefix: string, order?: number[]): TfConv {
  const w = blob.tensors.get(`${prefix}.weight`)!;
  const b = blob.tensors.get(`${prefix}.bias`)!;
  const spec = expectedTensors(blob.config).find((s) => s.name === `${prefix}.weight`)!;
  const [cout, cin, k] = spec.shape;
  const filter = new Float32Array(w.length);
  const bias = new Float32Array(cout);
  for (let co = 0; co < cout; co++) {
    const src = order ? order[co] : co;
    bias[co] = b[src];
    for (let ci = 0; ci < cin; ci++) {
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          filter[((y * k + x) * cin + ci) * cout + co] = w[((src * cin + ci) * k + y) * k + x];
        }
      }
    }
  }
  return { filter: tf.tensor4d(filter, [k, k, cin, cout]), bias: tf.tensor1d(bias) };
}

/**
 * The MSRN graph in tf ops (NHWC): fused conv2d + bias (+ ReLU), concat on channels,
 * depthToSpace for PixelShuffle. tf.depthToSpace reads channel (i * r + j) * C + c where
 * PyTorch's PixelShuffle reads c * r * r + i * r + j, so the upsampler conv's output channels
 * are permuted once at load time instead of shuffling the data.
 */
function buildTfjsModel(tf: Tf, blob: WeightBlob) {
  const { nFeats: n, nBlocks, scale } = blob.config;
  const convs = new Map<string, TfConv>();
  const names = ['sub_mean', 'head.0', 'tail.0', 'tail.1', 'tail.3', 'add_mean'];
  for (let b = 0; b < nBlocks; b++) for (const c of ['conv_3_1', 'conv_5_1', 'conv_3_2', 'conv_5_2', 'confusion']) names.push(`body.${b}.${c}`);
  for (const name of names) convs.set(name, tfConv(tf, blob, name));
  const stages = upsamplerStages(scale).map((s) => ({ prefix: s.prefix, r: s.factor }));
  for (const { prefix, r } of stages) {
    const order: number[] = [];
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) for (let c = 0; c < n; c++) order.push(c * r * r + i * r + j);
    convs.set(prefix, tfConv(tf, blob, prefix, order));
  }
  const conv = (x: TfTensor, name: string, relu = false) => {
    const c = convs.get(name)!;
    return tf.fused.conv2d({ x, filter: c.filter, strides: 1, pad: 'same', bias: c.bias, activation: relu ? 'relu' : 'linear' });
  };
  const forward = (chw: Tensor<Float32Array>): Float32Array => {
    const out = tf.tidy(() => {
      let x = tf.transpose(tf.tensor4d(chw.data, [1, 3, chw.height, chw.width]), [0, 2, 3, 1]);
      x = conv(x, 'sub_mean');
      const head = conv(x, 'head.0');
      const outs: TfTensor[] = [];
      let h = head;
      for (let b = 0; b < nBlocks; b++) {
        const p = `body.${b}`;
        const a = tf.concat([conv(h, `${p}.conv_3_1`, true), conv(h, `${p}.conv_5_1`, true)], 3);
        const c = tf.concat([conv(a, `${p}.conv_3_2`, true), conv(a, `${p}.conv_5_2`, true)], 3);
        h = tf.add(conv(c, `${p}.confusion`), h);
        outs.push(h);
      }
      let y = conv(conv(tf.concat([...outs, head], 3), 'tail.0'), 'tail.1');
      for (const { prefix, r } of stages) y = tf.depthToSpace(conv(y, prefix), r, 'NHWC');
      y = conv(conv(y, 'tail.3'), 'add_mean');
      return tf.transpose(y, [0, 3, 1, 2]);
    });
    const data = out.dataSync();
    out.dispose();
    return data;
  };
  return { forward, dispose: () => convs.forEach((c) => (c.filter.dispose(), c.bias.dispose())) };
}

let tfjsLoaded: { tf: Tf; wasm: TfWasm | string; cpu: true | string } | string | undefined;

function loadTfjs() {
  if (tfjsLoaded !== undefined) return tfjsLoaded;
  const tf = loadPeer<Tf>('@tensorflow/tfjs-core');
  if (typeof tf === 'string') return (tfjsLoaded = tf);
  const cpu = loadPeer<object>('@tensorflow/tfjs-backend-cpu');
  const wasm = loadPeer<TfWasm>('@tensorflow/tfjs-backend-wasm');
  if (typeof wasm !== 'string') {
    // The wasm files sit next to the package's Node entry (dist/).
    wasm.setWasmPaths(dirname(peerRequire.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
  }
  return (tfjsLoaded = { tf, wasm, cpu: typeof cpu === 'string' ? cpu : true });
}

/**
 * tfjs on backend 'cpu' (plain JS kernels) or 'wasm' (XNNPACK, SIMD). One tf engine serves
 * both: each run first makes its backend current (cheap once both are initialised), and each
 * backend keeps its own copy of the weights.
 */
export async function tfjs(backend: 'cpu' | 'wasm', blob: WeightBlob, frame: Frame, warmupFrame: Tensor<Float32Array>): Promise<EngineOrSkip> {
  const engine = backend === 'cpu' ? 'tfjs-backend-cpu' : 'tfjs-backend-wasm';
  const loaded = loadTfjs();
  if (typeof loaded === 'string') return { engine, threads: 1, skipped: loaded };
  const pkg = backend === 'cpu' ? loaded.cpu : loaded.wasm;
  if (typeof pkg === 'string') return { engine, threads: 1, skipped: pkg };
  const { tf } = loaded;
  if (!(await tf.setBackend(backend))) return { engine, threads: 1, skipped: `tf.setBackend('${backend}') failed` };
  await tf.ready();
  const model = buildTfjsModel(tf, blob);
  let detail = `tfjs ${tf.version_core}`;
  let threads = 1;
  if (backend === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    threads = (loaded.wasm as TfWasm).getThreadsCount();
    detail += `, SIMD ${simd ? 'on' : 'off'}, multithreading ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'on' : 'off (Node)'}`;
  }
  const use = async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
  };
  return {
    engine,
    threads,
    detail,
    maxRounds: backend === 'cpu' ? 1 : undefined,
    // tfjs-cpu: a full frame takes ~26 s here, so it warms up on a small frame and runs once.
    warmup: async () => {
      await use();
      model.forward(backend === 'cpu' ? warmupFrame : frame.input);
    },
    run: async () => {
      await use();
      return { output: model.forward(frame.input) };
    },
    close: async () => {
      await use();
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PyTorch (Debian python3-torch), in a subprocess that times its own forward call

export function pytorch(python: string, blobPath: string, inputPath: string, outputPath: string, frame: Frame, threads: number): EngineOrSkip {
  const engine = 'PyTorch (CPU)';
  const script = join(PEERS_DIR, 'torch_bench.py');
  const { height, width } = frame.input;
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { engine, threads, skipped: `${python} with torch is not available (apt-get install python3-torch): ${(probe.error?.message ?? probe.stderr).trim().split('\n').slice(-1)[0]}` };
  }
  const version = probe.stdout.trim();
  const run = async (): Promise<RunResult> => {
    const result = spawnSync(python, [script, blobPath, inputPath, String(height), String(width), '--threads', String(threads), '--runs', '1', '--warmup', '1', '--output', outputPath], {
      encoding: 'utf8',
    });
    if (result.error || result.status !== 0) throw new Error(`torch_bench.py failed: ${result.error?.message ?? result.stderr}`);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { ms: number[]; threads: number };
    if (report.threads !== threads) throw new Error(`torch ran ${report.threads} threads, asked for ${threads}`);
    const bytes = readFileSync(outputPath);
    return { output: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice(), ms: report.ms[0] };
  };
  return {
    engine,
    threads,
    detail: `torch ${version}, own timing of the forward call (subprocess; warm-up run inside it)`,
    outOfProcess: true,
    warmup: async () => {},
    run,
  };
}

// ---------------------------------------------------------------------------------------------
// WebAssembly peers, each in its own worker thread (wasm-worker.ts says why)

export async function wasmPeerInWorker(kind: WasmWorkerData['kind'], onnx: string | Skip, weights: Uint8Array, frame: Frame): Promise<EngineOrSkip> {
  const { height, width, data } = frame.input;
  const workerData: WasmWorkerData = { kind, onnx, weights, input: { height, width, data }, scale: frame.scale };
  const worker = new Worker(new URL('./wasm-worker.js', import.meta.url), { workerData });
  let waiting: ((reply: WasmWorkerReply) => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (reply: WasmWorkerReply) => waiting?.(reply));
  worker.on('error', (error) => {
    failure = error;
    waiting?.({ type: 'error', message: error.message });
  });
  const next = () =>
    new Promise<WasmWorkerReply>((resolve) => {
      if (failure) resolve({ type: 'error', message: failure.message });
      waiting = resolve;
    });
  const request = async (what: 'warmup' | 'run' | 'close', expected: WasmWorkerReply['type']): Promise<WasmWorkerReply> => {
    const reply = next();
    worker.postMessage(what);
    const answer = await reply;
    if (answer.type === 'error') throw new Error(`${kind} (worker): ${answer.message}`);
    if (answer.type !== expected) throw new Error(`${kind} (worker): expected '${expected}', got '${answer.type}'`);
    return answer;
  };
  const first = await next();
  if (first.type !== 'ready') {
    await worker.terminate();
    if (first.type === 'skipped') return { engine: first.engine, threads: first.threads, skipped: first.skipped };
    throw new Error(first.type === 'error' ? first.message : `unexpected '${first.type}' from the ${kind} worker`);
  }
  return {
    engine: first.engine,
    threads: first.threads,
    detail: `${first.detail}; in a worker thread, own timing of the call`,
    maxRounds: first.maxRounds,
    warmup: async () => void (await request('warmup', 'done')),
    run: async () => {
      const answer = (await request('run', 'result')) as Extract<WasmWorkerReply, { type: 'result' }>;
      return { output: answer.output, ms: answer.ms };
    },
    close: async () => {
      await request('close', 'closed');
      await worker.terminate();
    },
  };
}

export function writeRawInput(path: string, frame: Tensor<Float32Array>): void {
  writeFileSync(path, new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
}
