import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** A file found under the import root. */
export interface ScannedFile {
  path: string;
  /** Path relative to the root, for messages. */
  rel: string;
  size: number;
  mtime: Date;
  /** Names of the other entries in its folder, to find its sidecars. */
  siblings: string[];
}

export interface ScanResult {
  files: ScannedFile[];
  /** Entries not looked at, with why (sidecars are read with their photo, not on their own). */
  ignored: Array<{ rel: string; reason: string }>;
}

// Metadata and housekeeping files that live beside photos: never uploaded as photos.
const SIDECAR_OR_JUNK = /\.(xmp|json|aae|thm|txt|ini|db|csv|html?|pdf|lrcat|pp3|dop|on1)$/i;

/**
 * Walks a folder tree. Hidden entries are skipped (`.DS_Store`, `.thumbnails`, `.trash`),
 * and links to folders are not followed, so a link cannot loop the walk or leave the tree.
 */
export async function scanTree(root: string): Promise<ScanResult> {
  const files: ScannedFile[] = [];
  const ignored: ScanResult['ignored'] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = entries.map((e) => e.name);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      const info = await lstat(path);
      if (info.isSymbolicLink()) {
        ignored.push({ rel, reason: 'a symbolic link (not followed)' });
        continue;
      }
      if (!info.isFile()) continue;
      if (SIDECAR_OR_JUNK.test(entry.name)) continue;
      files.push({ path, rel, size: info.size, mtime: info.mtime, siblings: names });
    }
  };
  await walk(root);
  return { files, ignored };
}
