/**
 * Builders of small image files with chosen metadata, for the metadata tests: TIFF
 * structures (also the EXIF of JPEG, PNG, WebP and HEIF), JPEG APP segments, PNG chunks,
 * ISO BMFF boxes and IPTC datasets. Test support only; nothing in AEX imports it.
 */

/** One TIFF directory entry; `data` longer than 4 bytes is stored out of line. */
export interface TiffEntry {
  tag: number;
  type: number;
  count: number;
  data: Buffer;
  /** Write this value offset instead of the real one (a lie, for hostile files). */
  offset?: number;
}

const le16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Entry makers: TIFF 6.0 types 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 7 UNDEFINED. */
export const tag = {
  ascii: (t: number, text: string): TiffEntry => {
    const data = Buffer.from(`${text}\0`, 'utf8');
    return { tag: t, type: 2, count: data.length, data };
  },
  short: (t: number, ...values: number[]): TiffEntry => ({
    tag: t,
    type: 3,
    count: values.length,
    data: Buffer.concat(values.map(le16)),
  }),
  rational: (t: number, ...values: [number, number][]): TiffEntry => ({
    tag: t,
    type: 5,
    count: values.length,
    data: Buffer.concat(values.flatMap(([n, d]) => [le32(n), le32(d)])),
  }),
  bytes: (t: number, data: Uint8Array, type = 1): TiffEntry => ({
    tag: t,
    type,
    count: data.length,
    data: Buffer.from(data),
  }),
};

/** A little-endian TIFF structure with IFD0 and, when given, an EXIF and a GPS IFD. */
export function buildTiff(
  ifd0: TiffEntry[],
  sub: { exif?: TiffEntry[]; gps?: TiffEntry[] } = {},
): Buffer {
  const pointer = (t: number): TiffEntry => ({ tag: t, type: 4, count: 1, data: le32(0) });
  const dirs: TiffEntry[][] = [[...ifd0]];
  if (sub.exif) dirs[0]?.push(pointer(0x8769));
  if (sub.gps) dirs[0]?.push(pointer(0x8825));
  if (sub.exif) dirs.push(sub.exif);
  if (sub.gps) dirs.push(sub.gps);
  let pos = 8;
  const dirOffsets = dirs.map((entries) => {
    const at = pos;
    pos += 2 + entries.length * 12 + 4;
    return at;
  });
  // Point the sub-IFD pointers at their directories.
  let next = 1;
  for (const entry of dirs[0] ?? [])
    if (entry.tag === 0x8769 || entry.tag === 0x8825) entry.data = le32(dirOffsets[next++] ?? 0);
  const out: Buffer[] = [Buffer.from('II*\0'), le32(8)];
  const data: Buffer[] = [];
  for (const entries of dirs) {
    out.push(le16(entries.length));
    for (const e of entries) {
      out.push(le16(e.tag), le16(e.type), le32(e.count));
      if (e.offset !== undefined) out.push(le32(e.offset));
      else if (e.data.length <= 4)
        out.push(Buffer.concat([e.data, Buffer.alloc(4 - e.data.length)]));
      else {
        out.push(le32(pos));
        const padded = e.data.length % 2 ? Buffer.concat([e.data, Buffer.alloc(1)]) : e.data;
        data.push(padded);
        pos += padded.length;
      }
    }
    out.push(le32(0));
  }
  return Buffer.concat([...out, ...data]);
}

/** A JPEG APPn segment: marker, 16-bit big-endian length, payload. */
export function appSegment(n: number, payload: Buffer): Buffer {
  if (payload.length > 65533) throw new Error('an APP segment holds at most 65533 bytes');
  const head = Buffer.from([0xff, 0xe0 + n, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

export const exifSegment = (tiff: Buffer) =>
  appSegment(1, Buffer.concat([Buffer.from('Exif\0\0'), tiff]));
export const xmpSegment = (xmp: string) =>
  appSegment(1, Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0'), Buffer.from(xmp)]));

/** IPTC-IIM datasets (record, number, raw bytes) in an APP13 Photoshop 3.0 '8BIM' 0x0404 block. */
export function iptcSegment(datasets: [number, number, Buffer][]): Buffer {
  const iim = Buffer.concat(
    datasets.map(([record, number, value]) => {
      const head = Buffer.from([0x1c, record, number, 0, 0]);
      head.writeUInt16BE(value.length, 3);
      return Buffer.concat([head, value]);
    }),
  );
  const padded = iim.length % 2 ? Buffer.concat([iim, Buffer.alloc(1)]) : iim;
  const resource = Buffer.concat([
    Buffer.from('8BIM'),
    Buffer.from([0x04, 0x04, 0, 0]),
    be32(iim.length),
    padded,
  ]);
  return appSegment(13, Buffer.concat([Buffer.from('Photoshop 3.0\0'), resource]));
}

/** Inserts APP segments right after a JPEG's SOI marker. */
export function withSegments(jpeg: Buffer, segments: Buffer[]): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** An ISO BMFF box (size, type, payload). */
export function box(type: string, payload: Buffer): Buffer {
  return Buffer.concat([be32(payload.length + 8), Buffer.from(type, 'latin1'), payload]);
}

/** A PNG chunk (length, type, data, CRC-32 of type and data). */
export function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, body, be32(crc32(body))]);
}

/** Inserts chunks right after a PNG's IHDR. */
export function withChunks(png: Buffer, chunks: Buffer[]): Buffer {
  const afterIhdr = 8 + 8 + png.readUInt32BE(8) + 4;
  return Buffer.concat([png.subarray(0, afterIhdr), ...chunks, png.subarray(afterIhdr)]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal XMP packet around the given rdf:Description attributes and children. */
export function xmpPacket(attributes: string, children = ''): string {
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    ${attributes}>
   ${children}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}
