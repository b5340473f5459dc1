/**
 * The demo page: pick or drop an image, upscale it x2 in Web Workers, compare before and after,
 * download the result. Plain DOM, no framework. Everything the page shows, including the state a
 * test waits for, is kept in `document.body.dataset.state`: empty | ready | running | done |
 * aborted | error.
 *
 * CSP: no inline script or style anywhere (styles are set through the CSSOM, which a policy
 * without 'unsafe-inline' allows), workers and weights come from this origin.
 */
import { createUpscaler, encodeImageBlob } from '../src/browser/index.js';
import type { BrowserUpscaler, Precision } from '../src/browser/index.js';

const WEIGHTS: Record<Precision, string> = { fp32: 'weights/msrn_x2.bin', int8: 'weights/msrn_x2.int8.bin' };
const SAMPLE = { url: 'samples/chelsea.png', name: 'chelsea.png' };

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const ui = {
  drop: element<HTMLLabelElement>('drop'),
  file: element<HTMLInputElement>('file'),
  sample: element<HTMLButtonElement>('sample'),
  inputInfo: element<HTMLParagraphElement>('input-info'),
  threads: element<HTMLInputElement>('threads'),
  ensemble: element<HTMLInputElement>('ensemble'),
  tile: element<HTMLInputElement>('tile'),
  run: element<HTMLButtonElement>('run'),
  abort: element<HTMLButtonElement>('abort'),
  progress: element<HTMLProgressElement>('progress'),
  status: element<HTMLOutputElement>('status'),
  error: element<HTMLParagraphElement>('error'),
  download: element<HTMLAnchorElement>('download'),
  compare: element<HTMLElement>('compare'),
  before: element<HTMLCanvasElement>('before'),
  after: element<HTMLCanvasElement>('after'),
  divider: element<HTMLDivElement>('divider'),
  slider: element<HTMLInputElement>('slider'),
};

type State = 'empty' | 'ready' | 'running' | 'done' | 'aborted' | 'error';

let input: { blob: Blob; name: string } | undefined;
let running: AbortController | undefined;
let downloadUrl: string | undefined;
/** Kept between runs with the same settings: the second run skips loading weights and starting workers. */
let cached: { key: string; upscaler: BrowserUpscaler } | undefined;

function setState(state: State): void {
  document.body.dataset.state = state;
  ui.run.disabled = !input || state === 'running';
  ui.abort.disabled = state !== 'running';
  ui.file.disabled = state === 'running';
  ui.ensemble.disabled = state === 'running';
  ui.sample.disabled = state === 'running';
}

function showError(message: string | undefined): void {
  ui.error.hidden = message === undefined;
  ui.error.textContent = message ?? '';
}

function precision(): Precision {
  const checked = document.querySelector<HTMLInputElement>('input[name="precision"]:checked');
  return checked?.value === 'int8' ? 'int8' : 'fp32';
}

function positiveInteger(field: HTMLInputElement, name: string): number {
  const value = Number(field.value);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1, not "${field.value}"`);
  return value;
}

async function chooseInput(blob: Blob, name: string): Promise<void> {
  input = { blob, name };
  showError(undefined);
  ui.download.hidden = true;
  ui.progress.value = 0;
  ui.status.textContent = '';
  ui.inputInfo.textContent = `${name}, ${(blob.size / 1024).toFixed(0)} KB`;
  // The "before" side: the browser's own enlargement. A file it cannot decode is reported when
  // upscaling, with msrn-ts's message, so nothing is said here.
  try {
    const bitmap = await createImageBitmap(blob);
    ui.inputInfo.textContent = `${name}: ${bitmap.width} x ${bitmap.height}, ${(blob.size / 1024).toFixed(0)} KB`;
    drawBefore(bitmap);
    bitmap.close();
    clearAfter();
    ui.compare.hidden = false;
  } catch {
    ui.compare.hidden = true;
  }
  setState('ready');
}

function drawBefore(bitmap: ImageBitmap): void {
  ui.before.width = bitmap.width * 2;
  ui.before.height = bitmap.height * 2;
  const context = ui.before.getContext('2d')!;
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'low'; // bilinear: what an <img> stretched by CSS looks like
  context.drawImage(bitmap, 0, 0, ui.before.width, ui.before.height);
}

function clearAfter(): void {
  ui.after.width = ui.before.width;
  ui.after.height = ui.before.height;
  moveSlider();
}

function moveSlider(): void {
  const position = Number(ui.slider.value);
  ui.after.style.clipPath = `inset(0 0 0 ${position}%)`;
  ui.divider.style.left = `calc(${position}% - 1px)`;
}

async function upscalerFor(settings: { precision: Precision; threads: number; tileSize: number }): Promise<BrowserUpscaler> {
  const key = JSON.stringify(settings);
  if (cached?.key === key) return cached.upscaler;
  await cached?.upscaler.dispose();
  cached = undefined;
  const upscaler = await createUpscaler({ ...settings, weights: WEIGHTS[settings.precision] });
  cached = { key, upscaler };
  return upscaler;
}

async function run(): Promise<void> {
  if (!input) return;
  showError(undefined);
  ui.download.hidden = true;
  ui.progress.value = 0;
  const controller = new AbortController();
  running = controller;
  setState('running');
  const started = performance.now();
  try {
    const settings = { precision: precision(), threads: positiveInteger(ui.threads, 'Workers'), tileSize: positiveInteger(ui.tile, 'Tile size') };
    ui.status.textContent = 'Loading the model...';
    const upscaler = await upscalerFor(settings);
    const computing = performance.now();
    ui.status.textContent = 'Upscaling...';
    let tiles = 0;
    const ensemble = ui.ensemble.checked;
    const result = await upscaler.upscale(input.blob, {
      signal: controller.signal,
      ensemble,
      onProgress: (fraction, { done, total }) => {
        tiles = total;
        ui.progress.value = fraction;
        ui.status.textContent = `Upscaling: tile ${done} of ${total}`;
      },
    });
    const finished = performance.now();
    ui.after.width = result.width;
    ui.after.height = result.height;
    ui.after.getContext('2d')!.putImageData(result, 0, 0);
    moveSlider();
    ui.compare.hidden = false;
    const seconds = (ms: number) => (ms / 1000).toFixed(2);
    ui.status.textContent =
      `${result.width / 2} x ${result.height / 2} -> ${result.width} x ${result.height} in ${seconds(finished - computing)} s ` +
      `(${settings.precision}${ensemble ? ' self-ensemble' : ''}, ${settings.threads} worker${settings.threads > 1 ? 's' : ''}, ${tiles} tile${tiles > 1 ? 's' : ''}` +
      `${computing - started > 50 ? `; model loaded in ${seconds(computing - started)} s` : ''})`;
    await offerDownload(result);
    setState('done');
  } catch (error) {
    const aborted = (error as Error).name === 'AbortError';
    ui.status.textContent = aborted ? 'Aborted: the workers were stopped.' : '';
    if (!aborted) showError((error as Error).message);
    setState(aborted ? 'aborted' : 'error');
  } finally {
    running = undefined;
  }
}

async function offerDownload(result: ImageData): Promise<void> {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(await encodeImageBlob(result));
  ui.download.href = downloadUrl;
  ui.download.download = `${input!.name.replace(/\.[^.]*$/, '')}_x2.png`;
  ui.download.hidden = false;
}

ui.threads.value = String(navigator.hardwareConcurrency || 2);
ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  if (file) void chooseInput(file, file.name);
});
ui.drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.drop.classList.remove('over');
  const file = event.dataTransfer?.files[0];
  if (file && document.body.dataset.state !== 'running') void chooseInput(file, file.name);
});
ui.sample.addEventListener('click', async () => {
  try {
    const response = await fetch(SAMPLE.url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await chooseInput(await response.blob(), SAMPLE.name);
  } catch (error) {
    showError(`cannot load the sample photo: ${(error as Error).message}`);
  }
});
ui.run.addEventListener('click', () => void run());
ui.abort.addEventListener('click', () => running?.abort());
ui.slider.addEventListener('input', moveSlider);
setState('empty');
