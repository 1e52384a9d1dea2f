import { brotliDecompressSync } from 'node:zlib';
import { type ByteSource, latin1, tiffStart, utf8 } from './byte-source.ts';
import { MAX_EXIF_BYTES, MAX_XMP_BYTES } from './limits.ts';

type Found = { tiff: Uint8Array | null; xmp: string | null };

const MAX_META_BOX = 4 * 1024 * 1024;
const MAX_BOXES = 512;

interface Box {
  type: string;
  start: number;
  end: number;
}

async function readBoxHeaders(source: ByteSource): Promise<Box[]> {
  const boxes: Box[] = [];
  const size = source.size;
  let offset = 0;
  while (offset + 8 <= size && boxes.length < MAX_BOXES) {
    const h = await source.read(offset, 16);
    if (h.length < 8) break;
    let length = h.readUInt32BE(0);
    let start = offset + 8;
    if (length === 1 && h.length === 16) {
      length = Number(h.readBigUInt64BE(8));
      start += 8;
    } else if (length === 0) length = size - offset;
    if (length < start - offset || !Number.isSafeInteger(length)) break;
    boxes.push({ type: latin1(h, 4, 8), start, end: Math.min(offset + length, size) });
    offset += length;
  }
  return boxes;
}

/** Reads the EXIF and XMP of an ISO BMFF file: HEIF/HEIC, AVIF, or a JPEG XL container. */
export async function readIsoBmff(source: ByteSource, out: Found): Promise<void> {
  for (const box of await readBoxHeaders(source)) {
    const length = box.end - box.start;
    if (box.type === 'meta' && length <= MAX_META_BOX)
      await readHeifItems(source, await source.read(box.start, length), out);
    // JPEG XL container (ISO/IEC 18181-2): 'Exif' = 4-byte TIFF header offset + TIFF;
    // 'xml ' = XMP; 'brob' = a Brotli-compressed box whose first 4 bytes name the real type.
    else if (box.type === 'Exif' && length <= MAX_EXIF_BYTES)
      out.tiff ??= jxlExif(await source.read(box.start, length));
    else if (box.type === 'xml ' && length <= MAX_XMP_BYTES)
      out.xmp ??= utf8(await source.read(box.start, length));
    else if (box.type === 'brob' && length <= MAX_XMP_BYTES) {
      const data = await source.read(box.start, length);
      const inner = latin1(data, 0, 4);
      if (inner !== 'Exif' && inner !== 'xml ') continue;
      const limit = inner === 'Exif' ? MAX_EXIF_BYTES : MAX_XMP_BYTES;
      const plain = brotli(data.subarray(4), limit);
      if (plain && inner === 'Exif') out.tiff ??= jxlExif(plain);
      else if (plain) out.xmp ??= utf8(plain);
    }
  }
}

/** Decompresses a 'brob' box; null past `limit` (a bomb) or when corrupt. */
function brotli(data: Buffer, limit: number): Buffer | null {
  try {
    return brotliDecompressSync(data, { maxOutputLength: limit });
  } catch {
    return null;
  }
}

function jxlExif(data: Uint8Array): Uint8Array | null {
  if (data.length < 4) return null;
  const skip = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32BE(0);
  return skip < data.length - 4 ? tiffStart(data.subarray(4 + skip)) : null;
}

/**
 * HEIF/AVIF (ISO/IEC 23008-12): the 'meta' box lists items in 'iinf' — EXIF as item type
 * 'Exif', XMP as a 'mime' item of content type application/rdf+xml — and 'iloc' says where
 * each item's bytes are. exifr reads only the EXIF item of HEIC and trips on AVIF.
 */
async function readHeifItems(source: ByteSource, meta: Buffer, out: Found): Promise<void> {
  const children = childBoxes(meta, 4);
  const iinf = children.find((b) => b.type === 'iinf');
  const iloc = children.find((b) => b.type === 'iloc');
  const idat = children.find((b) => b.type === 'idat');
  if (!iinf || !iloc) return;
  const wanted = readItemInfo(meta.subarray(iinf.start, iinf.end));
  const locations = readItemLocations(meta.subarray(iloc.start, iloc.end));
  const load = async (id: number | undefined, limit: number): Promise<Buffer | null> => {
    const loc = id === undefined ? undefined : locations.get(id);
    if (!loc || loc.length > limit || loc.extents.length === 0) return null;
    const parts: Buffer[] = [];
    for (const [offset, length] of loc.extents) {
      if (loc.method === 1 && idat)
        parts.push(meta.subarray(idat.start + offset, idat.start + offset + length));
      else if (loc.method === 0) parts.push(await source.read(offset, length));
    }
    return Buffer.concat(parts);
  };
  const exif = await load(wanted.exif, MAX_EXIF_BYTES);
  if (exif) out.tiff ??= jxlExif(exif); // same layout: 4-byte offset to the TIFF header
  const xmp = await load(wanted.xmp, MAX_XMP_BYTES);
  if (xmp) out.xmp ??= utf8(xmp);
}

function childBoxes(data: Buffer, from: number): Box[] {
  const boxes: Box[] = [];
  for (let offset = from; offset + 8 <= data.length && boxes.length < MAX_BOXES; ) {
    const length = data.readUInt32BE(offset);
    if (length < 8) break;
    boxes.push({
      type: latin1(data, offset + 4, offset + 8),
      start: offset + 8,
      end: Math.min(offset + length, data.length),
    });
    offset += length;
  }
  return boxes;
}

function readItemInfo(iinf: Buffer): { exif?: number; xmp?: number } {
  const found: { exif?: number; xmp?: number } = {};
  if (iinf.length < 6) return found;
  const version = iinf[0];
  const from = version === 0 ? 6 : 8;
  for (const infe of childBoxes(iinf, from)) {
    if (infe.type !== 'infe' || infe.end - infe.start < 12) continue;
    const v = iinf[infe.start] ?? 0;
    if (v < 2) continue;
    let p = infe.start + 4;
    const id = v === 2 ? iinf.readUInt16BE(p) : iinf.readUInt32BE(p);
    p += (v === 2 ? 2 : 4) + 2;
    const type = latin1(iinf, p, p + 4);
    if (type === 'Exif') found.exif ??= id;
    if (type === 'mime') {
      const strings = latin1(iinf, p + 4, infe.end).split('\0');
      if (strings[1] === 'application/rdf+xml') found.xmp ??= id;
    }
  }
  return found;
}

interface ItemLocation {
  method: number;
  length: number;
  extents: [number, number][];
}

function readItemLocations(iloc: Buffer): Map<number, ItemLocation> {
  const items = new Map<number, ItemLocation>();
  const version = iloc[0] ?? 0;
  let p = 4;
  const uint = (bytes: number): number => {
    let n = 0;
    for (let i = 0; i < bytes; i++) n = n * 256 + (iloc[p + i] ?? 0);
    p += bytes;
    return n;
  };
  const sizes = uint(1);
  const more = uint(1);
  const [offsetSize, lengthSize, baseSize] = [sizes >> 4, sizes & 15, more >> 4];
  const indexSize = version === 1 || version === 2 ? more & 15 : 0;
  const count = uint(version < 2 ? 2 : 4);
  for (let i = 0; i < count && i < MAX_BOXES && p < iloc.length; i++) {
    const id = uint(version < 2 ? 2 : 4);
    const method = version === 1 || version === 2 ? uint(2) & 15 : 0;
    uint(2); // data_reference_index
    const base = uint(baseSize);
    const extentCount = uint(2);
    const extents: [number, number][] = [];
    let length = 0;
    for (let e = 0; e < extentCount && e < 64 && p < iloc.length; e++) {
      uint(indexSize);
      const offset = base + uint(offsetSize);
      const size = uint(lengthSize);
      extents.push([offset, size]);
      length += size;
    }
    items.set(id, { method, length, extents });
  }
  return items;
}
