import { basename } from 'node:path';
import type { SidecarMetadata } from '@aex/shared';
import pLimit, { type LimitFunction } from 'p-limit';
import { CredentialRefusedError } from '../credentials.ts';
import { AexApiClient, UploadFailedError } from './client.ts';
import { type FileFacts, FileFactsCache } from './file-facts.ts';
import { ImportProgress } from './import-progress.ts';
import { emptySummary, type ImportSummary } from './import-summary.ts';
import { type ScannedFile, scanTree } from './scan.ts';
import { readSidecar } from './sidecar.ts';

export { formatSummary, type ImportSummary } from './import-summary.ts';

export interface ImportOptions {
  root: string;
  server: string;
  /** The credential sent with every request (`authorization`). */
  headers?: Record<string, string>;
  /** Uploads at once. */
  concurrency: number;
  /** Read and compare with the server, upload nothing. */
  dryRun?: boolean;
  /** Where progress lines go (stderr by default). */
  progress?: NodeJS.WriteStream;
  /** The facts cache; default the user's cache folder. */
  cache?: FileFactsCache;
}

type Candidate = ScannedFile & FileFacts & { sidecar?: SidecarMetadata };

/** Files read (hashed) at once. */
const READERS = 4;
/** The most sums one batch-status request asks about (the API takes up to 1000). */
const BATCH = 500;
/** How far reading may run ahead of the uploads, in files waiting for their upload. */
const READ_AHEAD = 256;
/** A slot of the read results not filled yet, or filled with "nothing to upload". */
const PENDING = undefined;
const NOTHING = null;

/**
 * Imports a folder tree: finds the photos, reads and hashes them (remembering unchanged files
 * from earlier runs), asks the server which it already has, and uploads the rest N at a time
 * with their sidecars' metadata. A rerun uploads nothing that is already in.
 *
 * The three steps overlap: uploads start as soon as the first files are read and checked, so
 * a 100,000-photo folder does not wait for every file to be hashed before its first upload,
 * and the server has work while the next files are read. Files are admitted in the folder's
 * order, so which of two identical files is uploaded (and named) does not depend on timing.
 */
export async function importTree(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const scan = await scanTree(options.root);
  const run = new ImportRun(options, scan.files, options.cache ?? (await FileFactsCache.open()));
  run.summary.files = scan.files.length;
  run.summary.skipped.push(...scan.ignored);
  const summary = await run.finish();
  summary.seconds = (performance.now() - started) / 1000;
  summary.failed.sort((a, b) => a.rel.localeCompare(b.rel));
  summary.skipped.sort((a, b) => a.rel.localeCompare(b.rel));
  return summary;
}

class ImportRun {
  readonly summary = emptySummary();
  private readonly client: AexApiClient;
  private readonly progress: ImportProgress;
  private readonly uploads: LimitFunction;
  private readonly uploading: Promise<void>[] = [];
  /** Read results by scan index, released to `admit` in that order. */
  private readonly slots: Array<Candidate | typeof NOTHING | typeof PENDING>;
  private released = 0;
  private readonly seen = new Set<string>();
  private batch: Candidate[] = [];
  private asking: Promise<void> | undefined;
  /** The server could not answer batch-status, or refused the credential: the run stops. */
  private fatal: Error | undefined;
  private refused: CredentialRefusedError | undefined;
  private wakeReaders: Array<() => void> = [];

  constructor(
    private readonly options: ImportOptions,
    private readonly files: ScannedFile[],
    private readonly cache: FileFactsCache,
  ) {
    this.client = new AexApiClient(options.server, { headers: options.headers });
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    this.progress = new ImportProgress(files.length, totalBytes, {
      stream: options.progress ?? process.stderr,
      dryRun: options.dryRun,
    });
    this.uploads = pLimit(Math.max(1, options.concurrency));
    this.slots = new Array(files.length).fill(PENDING);
  }

  async finish(): Promise<ImportSummary> {
    const io = pLimit(READERS);
    await Promise.all(this.files.map((file, index) => io(() => this.read(file, index))));
    await this.cache.save();
    this.maybeAsk();
    while (this.asking) await this.asking;
    await Promise.all(this.uploading);
    this.progress.done();
    if (this.fatal) throw this.fatal;
    return this.summary;
  }

  /** Reads one file's facts and sidecar into its slot, then releases what is in order. */
  private async read(file: ScannedFile, index: number): Promise<void> {
    while (!this.fatal && this.uploads.pendingCount + this.batch.length > READ_AHEAD) {
      await new Promise<void>((resolve) => this.wakeReaders.push(resolve));
    }
    let result: Candidate | null = NOTHING;
    if (this.fatal) {
      // The run is stopping: the file is neither read nor counted as failed.
    } else if (file.size === 0) {
      this.summary.failed.push({ rel: file.rel, reason: 'the file is empty' });
    } else {
      try {
        const facts = await this.cache.facts(file);
        if (!facts.mime?.startsWith('image/')) {
          const reason = `not an image (${facts.mime ?? 'unknown type'})`;
          this.summary.skipped.push({ rel: file.rel, reason });
        } else {
          const sidecar = await readSidecar(file).catch((err: Error) => {
            this.summary.warnings.push({
              rel: file.rel,
              reason: `sidecar ignored: ${err.message}`,
            });
            return undefined;
          });
          result = { ...file, ...facts, sidecar };
        }
      } catch (err) {
        const reason = `cannot read: ${(err as Error).message}`;
        this.summary.failed.push({ rel: file.rel, reason });
      }
    }
    if (result === NOTHING) this.progress.settled(file.size);
    this.slots[index] = result;
    this.release();
  }

  /** Admits the read files that are next in scan order: one upload per distinct content. */
  private release(): void {
    while (this.released < this.slots.length && this.slots[this.released] !== PENDING) {
      const c = this.slots[this.released];
      this.slots[this.released++] = NOTHING;
      if (!c) continue;
      this.summary.images += 1;
      if (this.seen.has(c.sha256)) {
        this.summary.duplicates += 1;
        this.progress.settled(c.size);
      } else {
        this.seen.add(c.sha256);
        this.batch.push(c);
      }
    }
    this.maybeAsk();
  }

  /**
   * Asks the server which sums of the batch it has, one request at a time: at once while the
   * uploads have too little queued to keep `concurrency` busy or reading is over, else when the
   * batch is full. So uploads start after the first few files, and a rerun over a folder the
   * server has whole costs one request per 500 files.
   */
  private maybeAsk(): void {
    if (this.asking || this.fatal || this.batch.length === 0) return;
    const readingOver = this.released === this.slots.length;
    const starved = this.uploads.pendingCount < Math.max(2, this.options.concurrency);
    if (!readingOver && !starved && this.batch.length < BATCH) return;
    const sent = this.batch.splice(0, BATCH);
    this.asking = this.ask(sent).finally(() => {
      this.asking = undefined;
      this.maybeAsk();
      this.wake();
    });
  }

  private async ask(sent: Candidate[]): Promise<void> {
    let found: Map<string, string>;
    try {
      found = await this.client.batchStatus(sent.map((c) => c.sha256));
    } catch (err) {
      this.fatal ??=
        err instanceof CredentialRefusedError
          ? err
          : new UploadFailedError(
              `the server at ${this.options.server} did not answer: ${(err as Error).message}`,
              true,
            );
      return;
    }
    for (const c of sent) {
      if (found.has(c.sha256)) {
        this.summary.alreadyIn += 1;
        this.progress.settled(c.size);
      } else if (this.options.dryRun) {
        this.progress.settled(c.size);
      } else {
        this.uploading.push(this.uploads(() => this.upload(c)));
      }
    }
  }

  private async upload(c: Candidate): Promise<void> {
    let uploaded = false;
    try {
      // A refused credential (revoked key, expired token) refuses every other file too.
      if (this.refused) throw this.refused;
      const result = await this.client.upload({
        path: c.path,
        name: basename(c.path),
        mtime: c.mtime,
        sha256: c.sha256,
        sidecar: c.sidecar,
      });
      if (result.created) this.summary.imported += 1;
      else this.summary.alreadyIn += 1;
      this.summary.bytesUploaded += c.size;
      uploaded = result.created;
    } catch (err) {
      this.summary.failed.push({ rel: c.rel, reason: (err as Error).message });
      if (err instanceof CredentialRefusedError) this.refused ??= err;
    } finally {
      this.progress.settled(c.size, uploaded);
      this.maybeAsk();
      this.wake();
    }
  }

  /** Lets readers held back by READ_AHEAD look again. */
  private wake(): void {
    const waiting = this.wakeReaders;
    this.wakeReaders = [];
    for (const resolve of waiting) resolve();
  }
}
