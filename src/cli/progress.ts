/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal: percent, tiles and an
 * ETA from the elapsed time. Scripts and CI (no TTY) get nothing.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(private readonly label: string, quiet: boolean, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = !quiet && Boolean(stream.isTTY);
  }

  update(fraction: number, tiles?: { done: number; total: number }): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = Math.round(fraction * width);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = fraction > 0 && fraction < 1 ? ` ETA ${formatSeconds((elapsed * (1 - fraction)) / fraction)}` : '';
    const tileText = tiles ? ` tile ${tiles.done}/${tiles.total}` : '';
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${tileText}${eta}\x1b[K`);
  }

  finish(): void {
    if (this.enabled) this.stream.write(`\r${this.label} done in ${formatSeconds((Date.now() - this.started) / 1000)}\x1b[K\n`);
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60).toString().padStart(2, '0')}s`;
}
