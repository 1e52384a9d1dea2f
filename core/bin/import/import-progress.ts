import { formatSeconds, ProgressLineWriter } from '@aex/shared/cli/progress';

/**
 * The import's one progress line (CONVENTIONS rule 10). Reading, asking the server and
 * uploading overlap, so there is one line for all three rather than one per phase:
 *
 *   importing [######..................] 120/400 files (27%), 80 uploaded, 3.95 images/s,
 *   19.8 MB/s, ETA 1m02s, elapsed 30s
 *
 * The share done and the ETA count bytes, not files: a file already on the server is settled
 * in a moment, a 50 MB RAW takes a while, and bytes are what the remaining time depends on.
 * It is drawn like every other progress line (ProgressLineWriter).
 */
export class ImportProgress {
  private settledFiles = 0;
  private settledBytes = 0;
  private uploaded = 0;
  private uploadedBytes = 0;
  private readonly started = performance.now();
  private readonly out: ProgressLineWriter;

  constructor(
    private readonly totalFiles: number,
    private readonly totalBytes: number,
    private readonly options: { stream: NodeJS.WriteStream; dryRun?: boolean },
  ) {
    this.out = new ProgressLineWriter(options.stream);
  }

  /** A file is finished with: uploaded (`uploaded`), or already in, a duplicate, skipped, failed. */
  settled(bytes: number, uploaded = false): void {
    this.settledFiles += 1;
    this.settledBytes += bytes;
    if (uploaded) {
      this.uploaded += 1;
      this.uploadedBytes += bytes;
    }
    this.out.draw((now) => this.line(now), this.settledFiles >= this.totalFiles);
  }

  done(): void {
    this.out.done();
  }

  /** The current line, without drawing it. */
  line(now = performance.now()): string {
    const seconds = Math.max((now - this.started) / 1000, 1e-9);
    const share = this.totalBytes > 0 ? this.settledBytes / this.totalBytes : 1;
    const bytesPerSecond = this.settledBytes / seconds;
    const eta = bytesPerSecond > 0 ? (this.totalBytes - this.settledBytes) / bytesPerSecond : NaN;
    const bar = this.out.bar(share);
    const counts = `${this.settledFiles}/${this.totalFiles} files (${(100 * share).toFixed(0)}%)`;
    // A dry run uploads nothing: its rate is how fast files are read and checked.
    const rates = this.options.dryRun
      ? `${(this.settledFiles / seconds).toFixed(2)} files/s, ${(bytesPerSecond / 1e6).toFixed(1)} MB/s read`
      : `${this.uploaded} uploaded, ${(this.uploaded / seconds).toFixed(2)} images/s, ` +
        `${(this.uploadedBytes / 1e6 / seconds).toFixed(1)} MB/s`;
    return (
      `${this.options.dryRun ? 'checking' : 'importing'} ${bar}${counts}, ${rates}, ` +
      `ETA ${formatSeconds(eta)}, elapsed ${formatSeconds(seconds)}`
    );
  }
}
