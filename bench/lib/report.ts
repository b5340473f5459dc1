/**
 * Output helpers: the machine header (with the load other processes put on it), markdown tables,
 * result files, and a dependency-free SVG bar chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { RESULTS_DIR } from './setup.js';

export interface MachineInfo {
  readonly date: string;
  readonly node: string;
  readonly v8: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  /** os.loadavg() at the start and the end of the run: 1, 5, 15 minutes */
  readonly loadStart: readonly number[];
  loadEnd?: readonly number[];
  /**
   * Cores kept busy by other processes, measured over one idle second before the run (from
   * os.cpus() tick counters; this process sleeps meanwhile). The load average alone would also
   * count the tsc compile that `npm run bench` does just before.
   */
  readonly busyCores: number;
}

/** Busy cores over `ms` while this process sleeps: sum over cores of busy ticks / all ticks. */
export async function measureBusyCores(ms = 1000): Promise<number> {
  const ticks = () =>
    cpus().map((c) => {
      const t = c.times;
      return { busy: t.user + t.nice + t.sys + t.irq, total: t.user + t.nice + t.sys + t.irq + t.idle };
    });
  const a = ticks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = ticks();
  let busy = 0;
  b.forEach((t, i) => {
    const total = t.total - a[i].total;
    if (total > 0) busy += (t.busy - a[i].busy) / total;
  });
  return round(busy, 2);
}

/**
 * How busy the other processes kept the machine while a section ran: all cores' busy time
 * minus this process's own CPU time (all its threads), over the wall time, in cores. If this
 * plus the cores the section itself uses exceeds the core count, the section was time-sharing
 * its core and its numbers are pessimistic.
 */
export class CpuMeter {
  private readonly ticks = busyTicks();
  private readonly own = process.cpuUsage();
  private readonly wall = performance.now();

  /** Average cores used by other processes since construction. */
  otherCores(): number {
    const wall = performance.now() - this.wall;
    if (wall <= 0) return 0;
    const now = busyTicks();
    const all = now - this.ticks;
    const ownUs = process.cpuUsage(this.own);
    const own = (ownUs.user + ownUs.system) / 1000;
    return round(Math.max(0, (all - own) / wall), 2);
  }
}

/** Sum over cores of busy milliseconds (os.cpus() times are in ms). */
function busyTicks(): number {
  let busy = 0;
  for (const c of cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/** A sentence for a section: how busy the others were, and whether that contended with us. */
export function contentionNote(otherCores: number, ownCores: number): string {
  const cores = cpus().length;
  const contended = otherCores + ownCores > cores + 0.15;
  return `other processes kept ${fmt(otherCores, 2)} of ${cores} cores busy on average during this section${
    contended ? ` (with its own ${ownCores} that is more than ${cores} cores: it shared its core, so these numbers are pessimistic)` : ''
  }`;
}

export async function machineInfo(): Promise<MachineInfo> {
  const list = cpus();
  const busyCores = await measureBusyCores();
  return {
    busyCores,
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: list[0]?.model?.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadStart: loadavg().map((v) => round(v, 2)),
  };
}

/**
 * The header every result starts with: the machine is shared, and on this 2-core machine a
 * background training job often takes one core, so every result says how busy it was.
 */
export function machineHeader(info: MachineInfo): string {
  const busy = info.busyCores;
  const note =
    busy >= 0.5
      ? `about ${Math.max(1, Math.round(busy))} of ${info.cores} cores busy with other work (e.g. the background training job) just before the run (${busy} of ${info.cores} cores measured busy over 1 s)`
      : `the machine was nearly idle just before the run (${busy} cores busy over 1 s; the background training job was not using a core)`;
  const lines = [
    `- date: ${info.date}`,
    `- node ${info.node} (V8 ${info.v8}), ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB`,
    `- load average (1/5/15 min) at start: ${info.loadStart.join(' / ')}${info.loadEnd ? `, at end: ${info.loadEnd.join(' / ')}` : ''}`,
    `- shared machine: ${note}. Single-thread numbers use one core; compare ratios, not absolute times, across runs.`,
  ];
  return lines.join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(sep), ...rows.map(line)].join('\n');
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function fmt(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** YYYY-MM-DD (UTC) of an ISO timestamp: one result file per day, the last run of the day wins. */
export function isoDay(iso: string): string {
  return iso.slice(0, 10);
}

export function writeResult(name: string, contents: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, name);
  writeFileSync(path, contents);
  return path;
}

export interface Bar {
  readonly label: string;
  readonly value: number; // NaN: not measured (drawn as a note instead of a bar)
  readonly note?: string;
  readonly highlight?: boolean;
}

/**
 * Horizontal bar chart, hand-written SVG (no dependencies). Log scale when the values span more
 * than two decades (tfjs-backend-cpu next to onnxruntime does), so every bar stays readable.
 */
export function barChartSvg(title: string, unit: string, bars: readonly Bar[], subtitle = ''): string {
  const labelWidth = 250;
  const chartWidth = 520;
  const valueWidth = 130;
  const rowHeight = 26;
  const top = subtitle ? 62 : 44;
  const width = labelWidth + chartWidth + valueWidth;
  const height = top + bars.length * rowHeight + 36;
  const measured = bars.filter((b) => Number.isFinite(b.value) && b.value > 0).map((b) => b.value);
  const max = Math.max(...measured, 1e-9);
  const min = Math.min(...measured, max);
  const log = max / min > 100;
  // Log axis from a decade boundary, one decade lower when the smallest bar would be a sliver.
  let lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  if (log && min / lo < 3) lo /= 10;
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : niceCeil(max);
  const x = (v: number) =>
    log ? (chartWidth * (Math.log10(v) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo)) : (chartWidth * v) / hi;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
  );
  if (subtitle) parts.push(`<text x="12" y="44" font-size="12" fill="#555555">${esc(subtitle)}</text>`);
  // grid lines and ticks
  const ticks: number[] = [];
  if (log) for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  else for (let i = 0; i <= 5; i++) ticks.push((hi * i) / 5);
  const axisY = top + bars.length * rowHeight + 4;
  for (const t of ticks) {
    const tx = labelWidth + x(t);
    parts.push(`<line x1="${tx.toFixed(1)}" y1="${top - 4}" x2="${tx.toFixed(1)}" y2="${axisY}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${tx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" font-size="11" fill="#555555">${esc(tickLabel(t))}</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${esc(bar.label)}</text>`);
    if (Number.isFinite(bar.value) && bar.value > 0) {
      const w = Math.max(1, x(bar.value));
      const color = bar.highlight ? '#d9480f' : '#1c7ed6';
      parts.push(`<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${color}"/>`);
      parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 17}">${esc(`${fmt(bar.value, bar.value < 10 ? 2 : 1)} ${unit}`)}</text>`);
    } else {
      parts.push(`<text x="${labelWidth + 4}" y="${y + 17}" fill="#888888" font-style="italic">${esc(bar.note ?? 'not measured')}</text>`);
    }
  });
  parts.push(
    `<text x="${labelWidth + chartWidth / 2}" y="${axisY + 30}" text-anchor="middle" font-size="11" fill="#555555">${esc(`${unit}${log ? ' (log scale)' : ''}`)}</text>`,
    '</svg>',
  );
  return parts.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (v >= 1) return String(round(v, 1));
  return String(round(v, 3));
}
