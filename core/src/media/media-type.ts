import { fileTypeFromFile } from 'file-type';

/** Formats the decoder reads, by the MIME type detected from the bytes. */
const SUPPORTED: Record<string, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
  'image/avif': 'avif',
};

export const SUPPORTED_FORMATS_TEXT = 'JPEG, PNG, WebP, GIF, TIFF and AVIF';

export type MediaType =
  | { supported: true; mime: string; format: string }
  | { supported: false; detected: string | null };

/**
 * Detects the type from the file's bytes (magic numbers), never from its name or the
 * client's Content-Type, which anyone can forge.
 */
export async function detectMediaType(path: string): Promise<MediaType> {
  const found = await fileTypeFromFile(path);
  if (!found) return { supported: false, detected: null };
  const format = SUPPORTED[found.mime];
  return format
    ? { supported: true, mime: found.mime, format }
    : { supported: false, detected: found.mime };
}
