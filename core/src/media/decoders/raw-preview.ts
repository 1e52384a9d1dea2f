import { CorruptImageError } from '../errors.ts';
import { isDecodableFrame, readJpegFrame } from './jpeg-frame.ts';
import { exifOrientation } from './orientation.ts';
import { type RandomAccessFile, withFile } from './random-access-file.ts';
import { TiffReader } from './tiff-ifd.ts';

/** The JPEG a camera RAW embeds for display, and the RAW's own orientation. */
export interface RawPreview {
  jpeg: Buffer;
  /** IFD0 Orientation of a TIFF-based RAW; null for RAF, whose preview's EXIF carries it. */
  orientation: number | null;
}

interface Candidate {
  offset: number;
  length: number;
}

const TAG = {
  rw2JpgFromRaw: 0x002e,
  compression: 0x0103,
  stripOffsets: 0x0111,
  orientation: 0x0112,
  stripByteCounts: 0x0117,
  subIfds: 0x014a,
  jpegOffset: 0x0201,
  jpegLength: 0x0202,
} as const;
// A RAW has a few directories (IFD0–3 in a CR2, a handful of SubIFDs in a DNG or NEF).
const MAX_IFDS = 64;

/**
 * Extracts the largest JPEG preview a camera RAW embeds, by walking its own structure rather
 * than running exiftool: a RAW is a TIFF whose IFDs point at JPEG streams (CR2: IFD0's strip;
 * NEF: a SubIFD's JpgFromRaw; ARW: IFD0's PreviewImage; DNG: a SubIFD's JPEG strip; RW2: tag
 * 0x2E), or, for RAF, a header with the JPEG's offset. This reads a few kilobytes of
 * directories and then the preview alone, needs no Perl process per image, and lets the
 * decoder choose the biggest preview libjpeg can read (raw data coded as lossless JPEG, in CR2
 * and DNG, is skipped by its SOF3 frame type).
 */
export async function readRawPreview(path: string, format: string): Promise<RawPreview> {
  return withFile(path, async (file) => {
    const { candidates, orientation } =
      format === 'raf'
        ? { candidates: await rafCandidates(file), orientation: null }
        : await tiffCandidates(file);
    let best: (Candidate & { width: number; height: number }) | null = null;
    for (const c of candidates) {
      if (c.length <= 0) continue;
      const truncated = () =>
        new CorruptImageError(
          `the file is truncated: its embedded JPEG at ${c.offset} (${c.length} bytes) ends past its end (${file.size} bytes)`,
        );
      if (c.offset >= file.size) throw truncated();
      const frame = await readJpegFrame(file, c.offset, Math.min(c.offset + c.length, file.size));
      // Sensor data (lossless JPEG) cut short does not matter: only the preview is decoded.
      if (!frame || !isDecodableFrame(frame)) continue;
      if (c.offset + c.length > file.size) throw truncated();
      const area = frame.width * frame.height;
      if (
        !best ||
        area > best.width * best.height ||
        (area === best.width * best.height && c.length > best.length)
      ) {
        best = { ...c, width: frame.width, height: frame.height };
      }
    }
    if (!best)
      throw new CorruptImageError(`the ${format.toUpperCase()} file embeds no JPEG preview`);
    const jpeg = await file.read(best.offset, best.length);
    return { jpeg, orientation };
  });
}

/** RAF: a 100-byte big-endian header, the JPEG's offset at 84 and its length at 88. */
async function rafCandidates(file: RandomAccessFile): Promise<Candidate[]> {
  const head = await file.read(0, 100);
  if (head.length < 100 || head.toString('latin1', 0, 15) !== 'FUJIFILMCCD-RAW') {
    throw new CorruptImageError('the RAF header is cut short');
  }
  return [{ offset: head.readUInt32BE(84), length: head.readUInt32BE(88) }];
}

async function tiffCandidates(
  file: RandomAccessFile,
): Promise<{ candidates: Candidate[]; orientation: number | null }> {
  const tiff = await TiffReader.open(file);
  const candidates: Candidate[] = [];
  let orientation: number | null = null;
  const queue = [tiff.first];
  const seen = new Set<number>();
  while (queue.length > 0 && seen.size < MAX_IFDS) {
    const offset = queue.shift() ?? 0;
    if (offset <= 0 || offset >= file.size || seen.has(offset)) continue;
    seen.add(offset);
    const isFirst = offset === tiff.first;
    const ifd = await tiff.readIfd(offset).catch((err: unknown) => {
      // A broken secondary directory loses its preview, not the whole file.
      if (isFirst) throw err;
      return null;
    });
    if (!ifd) continue;
    const e = ifd.entries;
    if (isFirst) orientation = exifOrientation(await tiff.value(e.get(TAG.orientation)));

    const jpegOffset = await tiff.value(e.get(TAG.jpegOffset));
    const jpegLength = await tiff.value(e.get(TAG.jpegLength));
    if (jpegOffset && jpegLength) candidates.push({ offset: jpegOffset, length: jpegLength });

    const embedded = e.get(TAG.rw2JpgFromRaw);
    if (embedded && embedded.type === 7)
      candidates.push({ offset: embedded.at, length: embedded.count });

    const compression = await tiff.value(e.get(TAG.compression));
    if (compression === 6 || compression === 7) {
      const offsets = await tiff.values(e.get(TAG.stripOffsets));
      const lengths = await tiff.values(e.get(TAG.stripByteCounts));
      // A preview is one strip; multi-strip or tiled JPEG directories are raw sensor data.
      if (offsets.length === 1 && lengths.length === 1) {
        candidates.push({ offset: offsets[0] ?? 0, length: lengths[0] ?? 0 });
      }
    }
    queue.push(...(await tiff.values(e.get(TAG.subIfds))), ifd.next);
  }
  return { candidates, orientation };
}
