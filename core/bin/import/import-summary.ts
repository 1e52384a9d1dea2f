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

/** A summary with nothing counted yet. */
export function emptySummary(): ImportSummary {
  return {
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
