import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { SidecarMetadata } from '@aex/shared';
import {
  findSidecars,
  parseTakeoutJson,
  parseXmpSidecar,
} from '../../src/media/metadata/sidecars.ts';
import type { ScannedFile } from './scan.ts';

// A real XMP or Takeout sidecar is a few KB; anything this big is not one.
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

async function readSmall(path: string): Promise<string> {
  const { size } = await stat(path);
  if (size > MAX_SIDECAR_BYTES)
    throw new Error(`${path} is ${size} bytes, too large for a sidecar`);
  return Bun.file(path).text();
}

/**
 * The metadata of a photo's sidecar: an XMP file (`photo.jpg.xmp`, `photo.xmp`) when there
 * is one, as edits in Lightroom or darktable live there; else a Google Takeout JSON.
 */
export async function readSidecar(file: ScannedFile): Promise<SidecarMetadata | undefined> {
  const found = findSidecars(file.path, file.siblings);
  const at = (p: string) => (isAbsolute(p) ? p : join(dirname(file.path), p));
  if (found.xmp) return parseXmpSidecar(await readSmall(at(found.xmp)));
  if (found.takeout) return parseTakeoutJson(await readSmall(at(found.takeout)));
  return undefined;
}
