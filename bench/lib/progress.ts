/**
 * A progress bar on stderr (CONVENTIONS rule 10: count, rate, ETA), kept off stdout so the
 * JSON lines stay parseable. On a terminal it redraws one line; in a log (CI, a pipe) it
 * prints a line every few seconds instead of thousands of carriage returns.
 */
export class Progress {
  private count = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'items',
  ) {}

  tick(n = 1): void {
    this.count += n;
    const now = performance.now();
    const every = this.tty ? 100 : 5000;
    if (now - this.lastDraw >= every || this.count === this.total) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }

  private draw(now: number): void {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.count / seconds : 0;
    const eta = rate > 0 ? (this.total - this.count) / rate : Number.NaN;
    const pct = this.total > 0 ? (100 * this.count) / this.total : 100;
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    const bar = this.tty ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    const text =
      `${this.label} ${bar}${this.count}/${this.total} (${pct.toFixed(0)}%) ` +
      `${rate.toFixed(2)} ${this.unit}/s, ETA ${formatSeconds(eta)}, elapsed ${formatSeconds(seconds)}`;
    process.stderr.write(this.tty ? `\r\x1b[2K${text}` : `${text}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}
