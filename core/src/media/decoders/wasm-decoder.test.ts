import { beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { CorruptImageError, ImageTooLargeError } from '../errors.ts';
import { MediaRepository } from '../media-repository.ts';
import { encodeJxl, jxlContainer } from '../testing/encoders.ts';
import { fixture, scratch } from '../testing/images.ts';
import { readHeifHeader } from './heif-header.ts';
import { decodeHeif } from './heif-wasm.ts';
import { parseCodestreamHeader, readJxlHeader } from './jxl-header.ts';
import { MemoryBudget } from './memory-budget.ts';
import { withFile } from './random-access-file.ts';
import { decodeWithWasm } from './wasm-decoder.ts';

const heic = (name: string) => fixture(`exif-samples/heic/${name}`);

describe('HEIF header', () => {
  // ispe is the coded size; orientation the EXIF equivalent of irot/imir.
  test.each([
    ['IMG_5195.HEIC', 2566, 3313, 1],
    ['mobile/HMD_Nokia_8.3_5G.heif', 4608, 3456, 6],
    ['mobile/iphone_13_pro_max.HEIC', 4032, 3024, 6],
  ])('%s: ispe %d × %d, orientation %d', async (name, width, height, orientation) => {
    expect(await withFile(heic(name), readHeifHeader)).toEqual({ width, height, orientation });
  });
});

describe('JPEG XL header', () => {
  let dir: Awaited<ReturnType<typeof scratch>>;
  beforeAll(async () => {
    dir = await scratch('jxl');
  });

  // Sizes that take each path of SizeHeader: "small" (multiples of 8), a named ratio, and
  // explicit widths of each U32 size class.
  test.each([
    [64, 48],
    [400, 300],
    [1001, 999],
    [3, 9000],
  ])('the header of an encoded %d × %d image gives its size', async (width, height) => {
    const image = await sharp({ create: { width, height, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const codestream = await encodeJxl(image, 50);
    for (const bytes of [codestream, jxlContainer(codestream)]) {
      const path = await dir.write('size.jxl', bytes);
      expect(await withFile(path, readJxlHeader)).toMatchObject({ width, height });
    }
  });

  test('the orientation field of ImageMetadata is read', () => {
    // small=1, ysize (5 bits) = 0 → 8, ratio=1 → 8 × 8; all_default=0, extra_fields=1, orientation−1 = 5.
    const bits = [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1];
    const bytes = new Uint8Array(4);
    bits.forEach((bit, i) => {
      bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (bit << (i & 7));
    });
    expect(parseCodestreamHeader(bytes)).toEqual({ width: 8, height: 8, orientation: 6 });
  });

  test('a cut header is corrupt', async () => {
    const path = await dir.write('cut.jxl', Buffer.from([0xff, 0x0a, 0x00]));
    expect(await withFile(path, readJxlHeader).catch((e) => e)).toBeInstanceOf(CorruptImageError);
  });
});

describe('WebAssembly decoding', () => {
  test('libheif refuses an image over the limit before allocating its pixels', async () => {
    // The worker's own check, behind the header check done before it starts.
    const bytes = await readFile(heic('samplefilehub.heif'));
    const error = await decodeHeif(bytes, 1000).catch((e) => e);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.pixels).toBe(640 * 426);
  });

  test('a decoder that runs past its time is killed and reported as corrupt', async () => {
    const started = performance.now();
    const error = await decodeWithWasm(heic('IMG_5195.HEIC'), 'heif', {
      maxPixels: 1e8,
      timeoutMs: 50,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.message).toContain('did not finish');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test('MediaRepository.close() stops decodes in flight and refuses new ones', async () => {
    const media = new MediaRepository({ maxPixels: 1e8 });
    const type = await media.detect(heic('IMG_5195.HEIC'));
    if (!type.supported) throw new Error('HEIC not detected');
    const decoding = media.process(heic('IMG_5195.HEIC'), type).catch((e) => e);
    await Bun.sleep(20);
    await media.close();
    const error = await decoding;
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.message).toContain('shutting down');
    // And nothing new starts once closed.
    const later = await media.process(heic('IMG_5195.HEIC'), type).catch((e) => e);
    expect(later.message).toContain('shutting down');
  });

  test.each([
    // Coded data zeroed: the boxes parse, HEVC decoding fails.
    ['coded data is zeroed', (b: Buffer) => b.fill(0, b.indexOf('mdat') + 4), 'could not decode'],
    // The primary item's type renamed: libheif cannot find a decodable image.
    [
      'codec is unknown',
      (b: Buffer) => b.fill('hvcX', b.indexOf('hvc1'), b.indexOf('hvc1') + 4),
      'pitm',
    ],
  ])('a HEIC whose %s is a CorruptImageError with libheif’s reason', async (_, damage, reason) => {
    const dir = await scratch('wasm');
    const path = await dir.write(
      'broken.heic',
      damage(Buffer.from(await readFile(heic('samplefilehub.heif')))),
    );
    const error = await decodeWithWasm(path, 'heif', { maxPixels: 1e8 }).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.message).toContain(reason);
  });
});

describe('MemoryBudget', () => {
  test('jobs wait, in order, until their bytes fit; an oversized job runs alone', async () => {
    const budget = new MemoryBudget(100);
    const order: string[] = [];
    const a = await budget.acquire(60);
    const b = budget.acquire(60).then((release) => {
      order.push('b');
      return release;
    });
    const c = budget.acquire(10).then((release) => {
      order.push('c');
      return release;
    });
    await Bun.sleep(5);
    // c would fit beside a, but b arrived first: no overtaking, so big jobs are not starved.
    expect(order).toEqual([]);
    a();
    const releaseB = await b;
    const releaseC = await c;
    expect(order).toEqual(['b', 'c']);
    expect(budget.inUse).toBe(70);
    releaseB();
    releaseC();
    releaseC(); // releasing twice frees once
    expect(budget.inUse).toBe(0);
    const huge = await budget.acquire(1000);
    expect(budget.inUse).toBe(1000);
    huge();
  });
});
