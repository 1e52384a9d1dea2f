import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { EmbeddedMetadata } from '../types.ts';
import { readEmbeddedMetadata } from './read-embedded.ts';
import {
  appSegment,
  box,
  buildTiff,
  exifSegment,
  pngChunk,
  type TiffEntry,
  tag,
  withChunks,
  withSegments,
  xmpPacket,
  xmpSegment,
} from './synthetic-files.ts';

const dir = await mkdtemp(join(tmpdir(), 'aex-hostile-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const JPEG = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
  .jpeg()
  .toBuffer();
const PNG = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
  .png()
  .toBuffer();

/** Reads a file and returns the metadata with the time it took; it must not throw. */
async function timedRead(bytes: Uint8Array): Promise<[EmbeddedMetadata, number]> {
  const path = join(dir, `h${n++}`);
  await writeFile(path, bytes);
  const started = performance.now();
  const metadata = await readEmbeddedMetadata(path);
  return [metadata, performance.now() - started];
}

const shorts = (count: number, first: number): TiffEntry[] =>
  Array.from({ length: count }, (_, i) => tag.short(first + i, i));
/** An entry that claims `count` values at `offset`: far more than the file holds. */
const liar = (t: number, type: number, count: number, offset = 8): TiffEntry => ({
  tag: t,
  type,
  count,
  data: Buffer.alloc(0),
  offset,
});
const RAW_BOUNDS = (m: EmbeddedMetadata) => {
  const json = JSON.stringify(m.raw);
  expect(json.length).toBeLessThanOrEqual(32 * 1024);
  const keys = (o: unknown): number =>
    o && typeof o === 'object' && !Array.isArray(o)
      ? Object.values(o).reduce((sum: number, v) => sum + 1 + keys(v), 0)
      : 0;
  expect(keys(m.raw)).toBeLessThanOrEqual(500);
};

describe('hostile EXIF', () => {
  test('10,000 tags in IFD0 and 10,000 in the EXIF IFD: read fast, raw stays bounded', async () => {
    const tiff = buildTiff([tag.ascii(0x010f, 'Many'), ...shorts(10_000, 0x1000)], {
      exif: [tag.ascii(0x9003, '2020:01:02 03:04:05'), ...shorts(10_000, 0xa500)],
    });
    const [m, ms] = await timedRead(tiff);
    expect(m.make).toBe('Many');
    expect(m.takenAt?.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(ms).toBeLessThan(1000);
    RAW_BOUNDS(m);
  });

  test('a JPEG APP1 filled with 5,000 tags', async () => {
    const tiff = buildTiff([tag.ascii(0x010f, 'Full'), ...shorts(5000, 0x2000)], {
      exif: [tag.ascii(0x9003, '2020:01:02 03:04:05')],
    });
    const [m, ms] = await timedRead(withSegments(JPEG, [exifSegment(tiff)]));
    expect(m.make).toBe('Full');
    expect(m.takenAt).not.toBeNull();
    expect(ms).toBeLessThan(1000);
    RAW_BOUNDS(m);
  });

  test('entries that claim billions of values are dropped one by one, not the directory', async () => {
    const tiff = buildTiff([
      tag.ascii(0x010f, 'Liar'),
      liar(0x1001, 3, 0x7fffffff),
      liar(0x1002, 4, 0x3fffffff),
      liar(0x1003, 12, 0x1fffffff),
      liar(0x1004, 5, 0x1fffffff),
      liar(0x1005, 2, 0xffffffff),
      liar(0x1006, 7, 0x7fffffff),
      liar(0x1007, 99, 1),
      liar(0x0110, 2, 64, 0xfffffff0),
    ]);
    for (const bytes of [tiff, withSegments(JPEG, [exifSegment(tiff)])]) {
      const [m, ms] = await timedRead(bytes);
      expect(m.make).toBe('Liar');
      expect(m.model).toBeNull();
      expect(ms).toBeLessThan(500);
    }
  });

  test('directories that point at each other are read once', async () => {
    const tiff = buildTiff([tag.ascii(0x010f, 'Loop')], {
      exif: [tag.ascii(0x9003, '2020:01:02 03:04:05')],
    });
    // Point the EXIF IFD pointer back at IFD0.
    const looped = Buffer.from(tiff);
    const at = looped.indexOf(Buffer.from([0x69, 0x87, 4, 0, 1, 0, 0, 0]));
    looped.writeUInt32LE(8, at + 8);
    const [m] = await timedRead(looped);
    expect(m.make).toBe('Loop');
  });
});

describe('hostile XMP', () => {
  test('a 30 MB XMP in a TIFF is not read; the rest of the file is', async () => {
    const huge = xmpPacket('xmp:Rating="3"', `<!-- ${'x'.repeat(30_000_000)} -->`);
    const [m, ms] = await timedRead(
      buildTiff([tag.ascii(0x010f, 'Huge'), tag.bytes(0x02bc, Buffer.from(huge))]),
    );
    expect(m.make).toBe('Huge');
    expect(m.rating).toBeNull();
    expect(ms).toBeLessThan(500);
  });

  test('a zip bomb in a PNG zTXt and a Brotli bomb in a JPEG XL brob count as no XMP', async () => {
    const bomb = Buffer.concat([
      Buffer.from(xmpPacket('xmp:Rating="3"')),
      Buffer.alloc(16 * 1024 * 1024, 0x20),
    ]);
    const ztxt = pngChunk(
      'zTXt',
      Buffer.concat([
        Buffer.from('XML:com.adobe.xmp\0\0', 'latin1'),
        deflateSync(bomb, { level: 1 }),
      ]),
    );
    const [png, pngMs] = await timedRead(withChunks(PNG, [ztxt]));
    expect(png.rating).toBeNull();
    expect(pngMs).toBeLessThan(2000);
    const jxl = Buffer.concat([
      box('JXL ', Buffer.from([0x0d, 0x0a, 0x87, 0x0a])),
      box(
        'brob',
        Buffer.concat([
          Buffer.from('xml '),
          brotliCompressSync(bomb, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
        ]),
      ),
    ]);
    const [brob, brobMs] = await timedRead(jxl);
    expect(brob.rating).toBeNull();
    expect(brobMs).toBeLessThan(2000);
  });

  test('an XMP packet of unclosed tags costs milliseconds', async () => {
    const packet = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${'<a:b>'.repeat(12_000)}`;
    const [m, ms] = await timedRead(withSegments(JPEG, [xmpSegment(packet)]));
    expect(m.rating).toBeNull();
    expect(ms).toBeLessThan(500);
  });
});

describe('hostile containers', () => {
  test('a JPEG of 20,000 empty APP segments is walked only so far', async () => {
    const segments = Array.from({ length: 20_000 }, () => appSegment(4, Buffer.alloc(0)));
    const [m, ms] = await timedRead(
      withSegments(JPEG, [...segments, exifSegment(buildTiff([tag.ascii(0x010f, 'Late')]))]),
    );
    expect(m.make).toBeNull();
    expect(ms).toBeLessThan(1000);
  });

  test('a PNG of 100,000 chunks is walked only so far', async () => {
    const chunks = Array.from({ length: 100_000 }, () => pngChunk('tEXt', Buffer.from('a\0b')));
    const [, ms] = await timedRead(withChunks(PNG, chunks));
    expect(ms).toBeLessThan(2000);
  });

  test('HEIF items whose extents lie outside the file, or are huge, are skipped', async () => {
    const infe = (id: number, type: string) =>
      box(
        'infe',
        Buffer.concat([Buffer.from([2, 0, 0, 0, 0, id, 0, 0]), Buffer.from(type, 'latin1')]),
      );
    const iinf = box(
      'iinf',
      Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 2]), infe(1, 'Exif'), infe(2, 'hvc1')]),
    );
    const item = (id: number, offset: number, length: number) => {
      const b = Buffer.alloc(14);
      b.writeUInt16BE(id, 0);
      b.writeUInt16BE(1, 4);
      b.writeUInt32BE(offset, 6);
      b.writeUInt32BE(length, 10);
      return b;
    };
    const iloc = box(
      'iloc',
      Buffer.concat([
        Buffer.from([0, 0, 0, 0, 0x44, 0x00, 0, 2]),
        item(1, 0xfffffff0, 0xffff),
        item(2, 0, 0x7fffffff),
      ]),
    );
    const meta = box('meta', Buffer.concat([Buffer.alloc(4), iinf, iloc]));
    const ftyp = box('ftyp', Buffer.from('heic\0\0\0\0mif1heic', 'latin1'));
    const [m, ms] = await timedRead(Buffer.concat([ftyp, meta]));
    expect(m.make).toBeNull();
    expect(ms).toBeLessThan(500);
  });
});
