import { withFile } from './random-access-file.ts';
import { TiffReader } from './tiff-ifd.ts';

const TAG = { make: 0x010f, photometric: 0x0106, subIfds: 0x014a, dngVersion: 0xc612 } as const;
// PhotometricInterpretation of sensor data: CFA (TIFF/EP) and LinearRaw (DNG).
const SENSOR_DATA = new Set([32803, 34892]);
const MAX_IFDS = 16;

/**
 * The RAW type of a file that file-type calls plain TIFF, or null. file-type recognises NEF by
 * IFD0 having exactly 28 or 31 entries, ARW by a PrintIM tag and DNG by DNGVersion among the
 * first 512 entries; a camera writing one entry more would otherwise be decoded by libvips as
 * a TIFF, that is, as its 160 × 120 IFD0 thumbnail. A TIFF holding sensor data (CFA or
 * LinearRaw) is a camera RAW, named by its DNGVersion or its maker.
 */
export async function identifyTiffRaw(path: string): Promise<string | null> {
  return withFile(path, async (file) => {
    const tiff = await TiffReader.open(file);
    const ifd0 = await tiff.readIfd(tiff.first);
    const queue = [...(await tiff.values(ifd0.entries.get(TAG.subIfds))), ifd0.next];
    let sensorData = SENSOR_DATA.has((await tiff.value(ifd0.entries.get(TAG.photometric))) ?? 0);
    const seen = new Set([tiff.first]);
    while (!sensorData && queue.length > 0 && seen.size < MAX_IFDS) {
      const offset = queue.shift() ?? 0;
      if (offset <= 0 || offset >= file.size || seen.has(offset)) continue;
      seen.add(offset);
      const ifd = await tiff.readIfd(offset).catch(() => null);
      if (!ifd) continue;
      sensorData = SENSOR_DATA.has((await tiff.value(ifd.entries.get(TAG.photometric))) ?? 0);
      queue.push(...(await tiff.values(ifd.entries.get(TAG.subIfds))), ifd.next);
    }
    if (!sensorData) return null;
    if (ifd0.entries.has(TAG.dngVersion)) return 'image/x-adobe-dng';
    const make = await readText(tiff, ifd0.entries.get(TAG.make));
    if (make.startsWith('NIKON')) return 'image/x-nikon-nef';
    if (make.startsWith('SONY')) return 'image/x-sony-arw';
    if (make.startsWith('Canon')) return 'image/x-canon-cr2';
    return null;
  }).catch(() => null);
}

async function readText(tiff: TiffReader, entry: Parameters<TiffReader['values']>[0]) {
  const bytes = await tiff.values(entry && { ...entry, count: Math.min(entry.count, 64) });
  return String.fromCharCode(...bytes.filter((b) => b > 0)).trim();
}
