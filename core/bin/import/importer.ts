import { basename } from 'node:path';
import type { SidecarMetadata } from '@aex/shared';
import { Progress } from '@aex/shared/cli/progress';
import pLimit from 'p-limit';
import { CredentialRefusedError } from '../credentials.ts';
import { AexApiClient, UploadFailedError } from './client.ts';
import { type FileFacts, FileFactsCache } from './file-facts.ts';
import { type ScannedFile, scanTree } from './scan.ts';
import { readSidecar } from './sidecar.ts';

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

export interface ImportSummary {
  /** Files looked at (sidecars and hidden files excluded). */
  files: number;
  /** Files that are images. */
  images: number;
  imported: number;
  /** Already on the server (found by batch-status) or uploaded earlier in this run. */
  alreadyIn: number;
  /** Files whose bytes another file of this run already has. */
  duplicates: number;
  bytesUploaded: number;
  seconds: number;
  skipped: Array<{ rel: string; reason: string }>;
  failed: Array<{ rel: string; reason: string }>;
  /** Sidecars that could not be read (the photo was imported without them). */
  warnings: Array<{ rel: string; reason: string }>;
}

type Candidate = ScannedFile & FileFacts & { sidecar?: SidecarMetadata };

const BATCH = 500;

/**
 * Imports a folder tree: finds the photos, reads and hashes them (remembering unchanged files
 * from earlier runs), asks the server which it already has, and uploads the rest N at a time
 * with their sidecars' metadata. A rerun uploads nothing that is already in.
 */
export async function importTree(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const client = new AexApiClient(options.server, { headers: options.headers });
  const cache = options.cache ?? (await FileFactsCache.open());
  const stream = options.progress ?? process.stderr;
  const summary: ImportSummary = {
    files: 0,
    images: 0,
    imported: 0,
    alreadyIn: 0,
    duplicates: 0,
    bytesUploaded: 0,
    seconds: 0,
    skipped: [],
    failed: [],
    warnings: [],
  };

  const scan = await scanTree(options.root);
  summary.files = scan.files.length;
  summary.skipped.push(...scan.ignored);

  // Read every file once: its sha256, its type from its bytes, its sidecar.
  const reading = new Progress('reading', scan.files.length, { unit: 'files', stream });
  const candidates: Candidate[] = [];
  const io = pLimit(4);
  await Promise.all(
    scan.files.map((file) =>
      io(async () => {
        try {
          if (file.size === 0) {
            summary.failed.push({ rel: file.rel, reason: 'the file is empty' });
            return;
          }
          const facts = await cache.facts(file);
          if (!facts.mime?.startsWith('image/')) {
            summary.skipped.push({
              rel: file.rel,
              reason: `not an image (${facts.mime ?? 'unknown type'})`,
            });
            return;
          }
          const sidecar = await readSidecar(file).catch((err: Error) => {
            summary.warnings.push({ rel: file.rel, reason: `sidecar ignored: ${err.message}` });
            return undefined;
          });
          candidates.push({ ...file, ...facts, sidecar });
        } catch (err) {
          summary.failed.push({ rel: file.rel, reason: `cannot read: ${(err as Error).message}` });
        } finally {
          reading.tick(1, file.size);
        }
      }),
    ),
  );
  reading.done();
  await cache.save();
  summary.images = candidates.length;

  // One upload per distinct content; the rest of a run's copies are duplicates.
  const bySha = new Map<string, Candidate>();
  for (const c of candidates.sort((a, b) => a.rel.localeCompare(b.rel))) {
    if (bySha.has(c.sha256)) summary.duplicates += 1;
    else bySha.set(c.sha256, c);
  }
  const distinct = [...bySha.values()];
  const missing: Candidate[] = [];
  try {
    for (let i = 0; i < distinct.length; i += BATCH) {
      const batch = distinct.slice(i, i + BATCH);
      const found = await client.batchStatus(batch.map((c) => c.sha256));
      for (const c of batch) {
        if (found.has(c.sha256)) summary.alreadyIn += 1;
        else missing.push(c);
      }
    }
  } catch (err) {
    if (err instanceof CredentialRefusedError) throw err;
    throw new UploadFailedError(
      `the server at ${options.server} did not answer: ${(err as Error).message}`,
      true,
    );
  }

  if (!options.dryRun && missing.length > 0) {
    const totalBytes = missing.reduce((n, c) => n + c.size, 0);
    const uploading = new Progress('uploading', missing.length, {
      unit: 'images',
      totalBytes,
      stream,
    });
    const uploads = pLimit(Math.max(1, options.concurrency));
    let refused: CredentialRefusedError | undefined;
    await Promise.all(
      missing.map((c) =>
        uploads(async () => {
          try {
            // A refused credential (revoked key, expired token) refuses every other file too.
            if (refused) throw refused;
            const result = await client.upload({
              path: c.path,
              name: basename(c.path),
              mtime: c.mtime,
              sha256: c.sha256,
              sidecar: c.sidecar,
            });
            if (result.created) summary.imported += 1;
            else summary.alreadyIn += 1;
            summary.bytesUploaded += c.size;
          } catch (err) {
            summary.failed.push({ rel: c.rel, reason: (err as Error).message });
            if (err instanceof CredentialRefusedError) refused ??= err;
          } finally {
            uploading.tick(1, c.size);
          }
        }),
      ),
    );
    uploading.done();
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.failed.sort((a, b) => a.rel.localeCompare(b.rel));
  summary.skipped.sort((a, b) => a.rel.localeCompare(b.rel));
  return summary;
}

/** The summary as people read it: counts, then every failure with its reason. */
export function formatSummary(s: ImportSummary, dryRun = false): string {
  const lines = [
    `${s.files} files, ${s.images} images: ${dryRun ? 'would import' : 'imported'} ${dryRun ? s.images - s.alreadyIn - s.duplicates : s.imported}, ` +
      `already in ${s.alreadyIn}, duplicates in this folder ${s.duplicates}, skipped ${s.skipped.length}, failed ${s.failed.length}`,
    `${(s.bytesUploaded / 1e6).toFixed(1)} MB uploaded in ${s.seconds.toFixed(1)} s` +
      (s.imported > 0
        ? ` (${(s.imported / s.seconds).toFixed(2)} images/s, ${(s.bytesUploaded / 1e6 / s.seconds).toFixed(1)} MB/s)`
        : ''),
  ];
  if (s.failed.length > 0) {
    lines.push('', 'Failed:');
    for (const f of s.failed) lines.push(`  ${f.rel}: ${f.reason}`);
  }
  if (s.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of s.warnings) lines.push(`  ${w.rel}: ${w.reason}`);
  }
  if (s.skipped.length > 0)
    lines.push('', `Skipped ${s.skipped.length} (not images or links); --verbose lists them.`);
  return lines.join('\n');
}
