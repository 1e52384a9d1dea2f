import { open } from 'node:fs/promises';
import { Exifr } from 'exifr';
import type { EmbeddedMetadata } from '../types.ts';
import { fileSource } from './byte-source.ts';
import { containerKind, type MetadataSegments, readMetadataSegments } from './containers.ts';
import { emptyMetadata, interpretMetadata, type MetadataBlocks } from './embedded-fields.ts';
import { parseIptc } from './iptc.ts';
import { parseXmpPacket, type XmpProperties } from './xmp-packet.ts';

export { emptyMetadata } from './embedded-fields.ts';

// exifr parses the TIFF block (IFD0, EXIF, GPS) and names its tags. It only ever sees the
// compact, well-formed TIFF that tiff-compact.ts built in memory: its own readers would walk
// hostile files (a JPEG's segments, a TIFF's offsets) with weaker bounds. Values stay raw
// (`reviveValues`, `translateValues` off): dates are parsed here with their zones, and
// orientation stays 1–8. XMP and IPTC are read by xmp-packet.ts and iptc.ts.
const EXIFR_OPTIONS = {
  ifd1: false,
  exif: true,
  gps: true,
  interop: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  iptc: false,
  icc: false,
  jfif: false,
  ihdr: false,
  translateKeys: true,
  translateValues: false,
  reviveValues: false,
  sanitize: true,
  mergeOutput: false,
  silentErrors: true,
};

type Tags = Record<string, unknown>;

/**
 * Reads the EXIF, XMP and IPTC of an image file: JPEG, TIFF and the TIFF-based RAWs (CR2, NEF,
 * ARW, DNG, ORF, RW2, PEF), PNG, WebP, HEIC/HEIF, AVIF, JPEG XL (its container; a bare
 * codestream has no metadata) and Fujifilm RAF. GIF and anything else give no metadata.
 * Every block is read within the bounds of limits.ts, so a hostile file costs little time
 * and memory. Broken metadata never fails an ingest — the pixels are what matters — so an
 * error gives what could be read, or nothing (nulls, no keywords, empty `raw`).
 */
export async function readEmbeddedMetadata(path: string): Promise<EmbeddedMetadata> {
  try {
    return interpretMetadata(await readBlocks(path));
  } catch {
    return emptyMetadata();
  }
}

async function readBlocks(path: string): Promise<MetadataBlocks> {
  const empty: MetadataBlocks = { ifd0: {}, exif: {}, gps: {}, iptc: {}, xmp: {} };
  const file = await open(path, 'r');
  let segments: MetadataSegments;
  try {
    const source = fileSource(file, (await file.stat()).size);
    const kind = containerKind(await source.read(0, 16));
    if (kind === null) return empty;
    segments = await readMetadataSegments(source, kind);
  } finally {
    await file.close();
  }
  const tiff = segments.tiff ? await parseTiff(segments.tiff) : {};
  return {
    ifd0: tagsOf(tiff.ifd0),
    exif: tagsOf(tiff.exif),
    gps: tagsOf(tiff.gps),
    iptc: segments.iptc ? (quietly(() => parseIptc(segments.iptc as Uint8Array)) ?? {}) : {},
    xmp: segments.xmp ? (quietly(() => parseXmpPacket(segments.xmp as string)) ?? {}) : {},
  };
}

async function parseTiff(tiff: Buffer): Promise<Tags> {
  try {
    const exr = new Exifr(EXIFR_OPTIONS);
    await exr.read(tiff);
    return ((await exr.parse()) as Tags | undefined) ?? {};
  } catch {
    return {};
  }
}

function tagsOf(value: unknown): Tags {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Tags)
    : {};
}

/** One unreadable block (not XMP, over a limit) must not cost the others. */
function quietly<T extends XmpProperties | Tags>(parse: () => T): T | null {
  try {
    return parse();
  } catch {
    return null;
  }
}
