import { inflateSync } from 'node:zlib';
import { type ByteSource, bufferSource, latin1, tiffStart, utf8 } from './byte-source.ts';
import { readIsoBmff } from './isobmff.ts';
import { readJpegSegments } from './jpeg-segments.ts';
import { MAX_EXIF_BYTES, MAX_XMP_BYTES } from './limits.ts';
import { compactTiff, isTiffHeader } from './tiff-compact.ts';

/** The metadata blocks of one file, bounded and ready to parse. */
export interface MetadataSegments {
  /** A compact, well-formed TIFF (IFD0, EXIF, GPS) for exifr; see tiff-compact.ts. */
  tiff: Buffer | null;
  /** An XMP packet. */
  xmp: string | null;
  /** An IPTC-IIM block. */
  iptc: Uint8Array | null;
}

/** Where a format keeps its metadata; null for formats without any AEX reads (GIF, BMP, text). */
export type ContainerKind = 'jpeg' | 'tiff' | 'png' | 'webp' | 'isobmff' | 'raf';

const MAX_CHUNKS = 2048;
const RAF_JPEG_HEAD = 256 * 1024;
const PNG_XMP_KEYWORD = 'XML:com.adobe.xmp';

/** The container of a file, from its first 16 bytes. */
export function containerKind(head: Uint8Array): ContainerKind | null {
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpeg';
  if (isTiffHeader(head)) return 'tiff';
  if (latin1(head, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (latin1(head, 0, 4) === 'RIFF' && latin1(head, 8, 12) === 'WEBP') return 'webp';
  // ISO BMFF (HEIF, AVIF; a JPEG XL container begins with its own 'JXL ' signature box). A bare
  // JPEG XL codestream (FF 0A) has no place for metadata and is not listed.
  if (latin1(head, 4, 8) === 'ftyp' || latin1(head, 4, 8) === 'JXL ') return 'isobmff';
  if (latin1(head, 0, 15) === 'FUJIFILMCCD-RAW') return 'raf';
  return null;
}

/** Reads the EXIF, XMP and IPTC blocks of a file of the given kind, each within limits.ts. */
export async function readMetadataSegments(
  source: ByteSource,
  kind: ContainerKind,
): Promise<MetadataSegments> {
  let raw: { tiff: Uint8Array | null; xmp: string | null; iptc: Uint8Array | null };
  if (kind === 'tiff') {
    const compact = await compactTiff(source);
    return {
      tiff: compact?.tiff ?? null,
      xmp: compact?.xmp ? utf8(compact.xmp) : null,
      iptc: compact?.iptc ?? null,
    };
  }
  if (kind === 'jpeg') raw = await readJpegSegments(source);
  else if (kind === 'raf') raw = await readJpegSegments(bufferSource(await rafJpeg(source)));
  else {
    raw = { tiff: null, xmp: null, iptc: null };
    if (kind === 'png') await readPng(source, raw);
    else if (kind === 'webp') await readWebp(source, raw);
    else await readIsoBmff(source, raw);
  }
  const compact = raw.tiff ? await compactTiff(bufferSource(raw.tiff)) : null;
  return {
    tiff: compact?.tiff ?? null,
    xmp: raw.xmp ?? (compact?.xmp ? utf8(compact.xmp) : null),
    iptc: raw.iptc ?? compact?.iptc ?? null,
  };
}

/** RAF: the big-endian offset and length of the embedded JPEG are at bytes 84 and 88. */
async function rafJpeg(source: ByteSource): Promise<Buffer> {
  const head = await source.read(84, 8);
  if (head.length < 8) return Buffer.alloc(0);
  const offset = head.readUInt32BE(0);
  return source.read(offset, Math.min(head.readUInt32BE(4), RAF_JPEG_HEAD));
}

type Found = { tiff: Uint8Array | null; xmp: string | null };

// WebP (RIFF): chunks 'EXIF' (a TIFF structure) and 'XMP ' per the WebP Container Specification.
async function readWebp(source: ByteSource, out: Found): Promise<void> {
  let offset = 12;
  for (let n = 0; n < MAX_CHUNKS && offset + 8 <= source.size; n++) {
    const header = await source.read(offset, 8);
    if (header.length < 8) return;
    const type = latin1(header, 0, 4);
    const length = header.readUInt32LE(4);
    if (type === 'EXIF' && length <= MAX_EXIF_BYTES)
      out.tiff ??= tiffStart(await source.read(offset + 8, length));
    if (type === 'XMP ' && length <= MAX_XMP_BYTES)
      out.xmp ??= utf8(await source.read(offset + 8, length));
    offset += 8 + length + (length % 2);
  }
}

// PNG: 'eXIf' holds a TIFF structure (PNG 3rd edition); XMP is an iTXt chunk with keyword
// XML:com.adobe.xmp (XMP Specification Part 3, PNG), which libvips and others write
// compressed, or a zTXt.
async function readPng(source: ByteSource, out: Found): Promise<void> {
  let offset = 8;
  for (let n = 0; n < MAX_CHUNKS && offset + 12 <= source.size; n++) {
    const header = await source.read(offset, 8);
    if (header.length < 8) return;
    const length = header.readUInt32BE(0);
    const type = latin1(header, 4, 8);
    if (type === 'IEND') return;
    if (type === 'eXIf' && length <= MAX_EXIF_BYTES)
      out.tiff ??= tiffStart(await source.read(offset + 8, length));
    if ((type === 'iTXt' || type === 'zTXt') && length <= MAX_XMP_BYTES && out.xmp === null)
      out.xmp = pngXmp(type, await source.read(offset + 8, length));
    offset += 12 + length;
  }
}

function pngXmp(type: string, data: Buffer): string | null {
  const keywordEnd = data.indexOf(0);
  if (keywordEnd === -1 || latin1(data, 0, keywordEnd) !== PNG_XMP_KEYWORD) return null;
  // A stream that inflates past the limit (a zip bomb) or is corrupt counts as no XMP.
  const inflate = (bytes: Buffer) => {
    try {
      return utf8(inflateSync(bytes, { maxOutputLength: MAX_XMP_BYTES }));
    } catch {
      return null;
    }
  };
  // zTXt: keyword, NUL, compression method, zlib stream.
  if (type === 'zTXt') return inflate(data.subarray(keywordEnd + 2));
  // iTXt: keyword, NUL, compression flag, method, language tag, NUL, translated keyword, NUL, text.
  const compressed = data[keywordEnd + 1] === 1;
  const langEnd = data.indexOf(0, keywordEnd + 3);
  const translatedEnd = langEnd === -1 ? -1 : data.indexOf(0, langEnd + 1);
  if (translatedEnd === -1) return null;
  const text = data.subarray(translatedEnd + 1);
  return compressed ? inflate(text) : utf8(text);
}
