import { fileTypeFromFile } from 'file-type';
import type { MediaType } from './types.ts';

/** Formats read today, by the MIME type detected from the bytes. */
const SUPPORTED: Record<string, { format: string; decoder: 'vips' }> = {
  'image/jpeg': { format: 'jpeg', decoder: 'vips' },
  'image/png': { format: 'png', decoder: 'vips' },
  'image/webp': { format: 'webp', decoder: 'vips' },
  'image/gif': { format: 'gif', decoder: 'vips' },
  'image/tiff': { format: 'tiff', decoder: 'vips' },
  'image/avif': { format: 'avif', decoder: 'vips' },
};

export const SUPPORTED_FORMATS_TEXT = 'JPEG, PNG, WebP, GIF, TIFF and AVIF';

/**
 * Detects the type from the file's bytes (magic numbers), never from its name or the
 * client's Content-Type, which anyone can forge.
 */
export async function detectMediaType(path: string): Promise<MediaType> {
  const found = await fileTypeFromFile(path);
  if (!found) return { supported: false, detected: null };
  const known = SUPPORTED[found.mime];
  return known
    ? { supported: true, mime: found.mime, ...known }
    : { supported: false, detected: found.mime };
}
