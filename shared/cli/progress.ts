/**
 * Where a progress line goes: on a terminal it is redrawn in place at most every 100 ms; in a
 * log (CI, a pipe) a line is printed every 5 s instead of thousands of carriage returns. The
 * final state (`last`) is always drawn.
 */
export class ProgressLineWriter {
  readonly tty: boolean;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Draws `line()` if it is time to, or if this is the `last` state. */
  draw(line: (now: number) => string, last: boolean): void {
    const now = performance.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000) && !last) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(this.tty ? `\r\x1b[2K${line(now)}` : `${line(now)}\n`);
  }

  /** Ends a redrawn terminal line. */
  done(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
  }

  /** `[#####...] ` for a share done (0–1) on a terminal; nothing in a log. */
  bar(share: number): string {
    if (!this.tty) return '';
    const width = 24;
    const filled = Math.max(0, Math.min(width, Math.round(width * share)));
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
  }
}

/**
 * A progress line on stderr (CONVENTIONS rule 10: count, rate, ETA), kept off stdout so
 * machine-readable output stays clean. On a terminal it redraws one line; in a log (CI, a
 * pipe) it prints a line every few seconds instead of thousands of carriage returns.
 */
export class Progress {
  private count = 0;
  private bytes = 0;
  private readonly started = performance.now();
  private readonly out: ProgressLineWriter;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly options: {
      unit?: string;
      totalBytes?: number;
      stream?: NodeJS.WriteStream;
    } = {},
  ) {
    this.out = new ProgressLineWriter(options.stream);
  }

  /** Counts `n` more items (and `bytes` more bytes) done. */
  tick(n = 1, bytes = 0): void {
    this.count += n;
    this.bytes += bytes;
    this.out.draw((now) => this.line(now), this.count >= this.total);
  }

  /** The total changed (work found or dropped on the way). */
  setTotal(total: number): void {
    this.total = total;
  }

  done(): void {
    this.out.done();
  }

  /** The current line, without drawing it. */
  line(now = performance.now()): string {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.count / seconds : 0;
    const eta = rate > 0 ? (this.total - this.count) / rate : Number.NaN;
    const pct = this.total > 0 ? (100 * this.count) / this.total : 100;
    const bar = this.out.bar(pct / 100);
    const mbps =
      this.options.totalBytes !== undefined || this.bytes > 0
        ? `, ${(this.bytes / 1e6 / Math.max(seconds, 1e-9)).toFixed(1)} MB/s`
        : '';
    return (
      `${this.label} ${bar}${this.count}/${this.total} (${pct.toFixed(0)}%) ` +
      `${rate.toFixed(2)} ${this.options.unit ?? 'items'}/s${mbps}, ETA ${formatSeconds(eta)}, elapsed ${formatSeconds(seconds)}`
    );
  }
}

/** `42s`, `3m07s`, `1h02m`; `?` when unknown. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
  }
  const h = Math.floor(s / 3600);
  return `${h}h${String(Math.round((s - 3600 * h) / 60)).padStart(2, '0')}m`;
}
