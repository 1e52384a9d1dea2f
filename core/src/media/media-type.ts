import { fileTypeFromFile } from 'file-type';
import { identifyTiffRaw } from './decoders/camera-raw-tiff.ts';
import { withFile } from './decoders/random-access-file.ts';
import type { MediaType } from './types.ts';

type Decoder = Extract<MediaType, { supported: true }>['decoder'];

/** Formats AEX reads, by the MIME type detected from the bytes, with their label for people. */
const SUPPORTED: Record<string, { format: string; decoder: Decoder; label: string }> = {
  'image/jpeg': { format: 'jpeg', decoder: 'vips', label: 'JPEG' },
  'image/png': { format: 'png', decoder: 'vips', label: 'PNG' },
  // An animated PNG is a PNG whose default image is its first frame.
  'image/apng': { format: 'png', decoder: 'vips', label: 'APNG' },
  'image/webp': { format: 'webp', decoder: 'vips', label: 'WebP' },
  'image/avif': { format: 'avif', decoder: 'vips', label: 'AVIF' },
  'image/gif': { format: 'gif', decoder: 'vips', label: 'GIF' },
  'image/tiff': { format: 'tiff', decoder: 'vips', label: 'TIFF' },
  'image/heic': { format: 'heic', decoder: 'heif', label: 'HEIC' },
  'image/heif': { format: 'heif', decoder: 'heif', label: 'HEIF' },
  'image/jxl': { format: 'jxl', decoder: 'jxl', label: 'JPEG XL' },
  'image/x-canon-cr2': { format: 'cr2', decoder: 'raw-preview', label: 'CR2' },
  'image/x-nikon-nef': { format: 'nef', decoder: 'raw-preview', label: 'NEF' },
  'image/x-sony-arw': { format: 'arw', decoder: 'raw-preview', label: 'ARW' },
  'image/x-adobe-dng': { format: 'dng', decoder: 'raw-preview', label: 'DNG' },
  'image/x-fujifilm-raf': { format: 'raf', decoder: 'raw-preview', label: 'RAF' },
  'image/x-panasonic-rw2': { format: 'rw2', decoder: 'raw-preview', label: 'RW2' },
};

/** The supported formats in words, for error messages; built from the table above. */
export const SUPPORTED_FORMATS_TEXT = (() => {
  const labels = Object.values(SUPPORTED);
  const raw = labels.filter((s) => s.decoder === 'raw-preview').map((s) => s.label);
  const other = [...new Set(labels.filter((s) => s.decoder !== 'raw-preview').map((s) => s.label))];
  return `${other.join(', ')} and camera RAW (${raw.join(', ')})`;
})();

/**
 * Detects the type from the file's bytes (magic numbers), never from its name or the
 * client's Content-Type, which anyone can forge. A file is what it starts with: a JPEG with a
 * ZIP appended is a JPEG (AEX re-encodes every derived image and serves the original with
 * this type, so the payload is never interpreted), an HTML page with a JPEG inside is HTML.
 */
export async function detectMediaType(path: string): Promise<MediaType> {
  const [found, head] = await Promise.all([
    fileTypeFromFile(path),
    withFile(path, (file) => file.read(0, 1024)),
  ]);
  let mime = found?.mime ?? null;
  if (!mime || mime === 'application/xml') mime = sniffUndetected(head) ?? mime;
  // `mif1` files are "some HEIF": AVIF encoders write it too. Their compatible brands say which.
  if (mime === 'image/heif' && hasBrand(head, 'avif') && !hasBrand(head, 'heic')) {
    mime = 'image/avif';
  }
  if (mime === 'image/tiff') mime = (await identifyTiffRaw(path)) ?? mime;
  if (!mime) return { supported: false, detected: null };
  const known = SUPPORTED[mime];
  return known
    ? { supported: true, mime, format: known.format, decoder: known.decoder }
    : { supported: false, detected: mime };
}

/** Types file-type leaves undetected, named so that a refusal can say what the bytes were. */
function sniffUndetected(head: Buffer): string | null {
  // A TIFF whose first directory lies past a cut is still a (corrupt) TIFF, not "unknown".
  const tiff = head.subarray(0, 4).toString('latin1');
  if (tiff === 'II*\0' || tiff === 'MM\0*') return 'image/tiff';
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/.test(text)) {
    return 'image/svg+xml';
  }
  if (/^<(!doctype html|html|head|body|script)[\s>]/.test(text)) return 'text/html';
  return null;
}

/** Whether the `ftyp` box at the start of an ISOBMFF file lists `brand` as compatible. */
function hasBrand(head: Buffer, brand: string): boolean {
  if (head.length < 16 || head.toString('latin1', 4, 8) !== 'ftyp') return false;
  const end = Math.min(head.readUInt32BE(0), head.length);
  for (let at = 16; at + 4 <= end; at += 4) {
    if (head.toString('latin1', at, at + 4) === brand) return true;
  }
  return false;
}
