import { type ByteSource, latin1, tiffStart, utf8 } from './byte-source.ts';

/** The metadata segments of a JPEG: EXIF (APP1), XMP (APP1), IPTC (APP13). */
export interface JpegSegments {
  tiff: Uint8Array | null;
  xmp: string | null;
  iptc: Uint8Array | null;
}

const XMP_HEADER = 'http://ns.adobe.com/xap/1.0/\0';
const PHOTOSHOP_HEADER = 'Photoshop 3.0\0';
const MAX_SEGMENTS = 256;

/**
 * Walks a JPEG's marker segments (ITU T.81, Annex B) up to the start of scan, at most
 * MAX_SEGMENTS of them, reading only APP1 and APP13 (each at most 64 KB by construction).
 * The first of each kind wins; Extended XMP (a second APP1 namespace) is not joined.
 */
export async function readJpegSegments(source: ByteSource): Promise<JpegSegments> {
  const out: JpegSegments = { tiff: null, xmp: null, iptc: null };
  let offset = 2;
  for (let n = 0; n < MAX_SEGMENTS && offset + 4 <= source.size; n++) {
    const head = await source.read(offset, 4);
    if (head[0] !== 0xff) return out;
    const marker = head[1] ?? 0;
    // Fill bytes (FF FF …) and markers without a length (TEM, RSTn) are skipped.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return out; // start of scan, end of image
    const length = head.readUInt16BE(2);
    if (length < 2) return out;
    if (marker === 0xe1 || marker === 0xed) {
      const payload = await source.read(offset + 4, length - 2);
      if (marker === 0xed) out.iptc ??= photoshopIptc(payload);
      else if (latin1(payload, 0, 6) === 'Exif\0\0') out.tiff ??= tiffStart(payload);
      else if (latin1(payload, 0, XMP_HEADER.length) === XMP_HEADER)
        out.xmp ??= utf8(payload.subarray(XMP_HEADER.length));
    }
    offset += 2 + length;
  }
  return out;
}

/**
 * The IPTC-IIM block inside Photoshop Image Resources ("8BIM", resource 0x0404), as APP13
 * carries them (Adobe Photoshop File Formats Specification, Image Resource Blocks).
 */
export function photoshopIptc(payload: Buffer): Uint8Array | null {
  if (latin1(payload, 0, PHOTOSHOP_HEADER.length) !== PHOTOSHOP_HEADER) return null;
  let p = PHOTOSHOP_HEADER.length;
  while (p + 12 <= payload.length) {
    if (latin1(payload, p, p + 4) !== '8BIM') return null;
    const id = payload.readUInt16BE(p + 4);
    // The name is a Pascal string padded to an even length (length byte included).
    const nameLength = payload[p + 6] ?? 0;
    const q = p + 6 + nameLength + 1 + ((nameLength + 1) % 2);
    if (q + 4 > payload.length) return null;
    const size = payload.readUInt32BE(q);
    const start = q + 4;
    if (id === 0x0404) return payload.subarray(start, Math.min(start + size, payload.length));
    p = start + size + (size % 2);
  }
  return null;
}
