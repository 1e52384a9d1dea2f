import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { type Image, Problem, UploadResult } from '@aex/shared';
import { type FixtureRow, NONE } from '../media/metadata/fixture-rows.ts';
import { CAMERA_ROWS } from '../media/metadata/fixture-table-cameras.ts';
import { OTHER_ROWS } from '../media/metadata/fixture-table-other.ts';
import { type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

// Issue 3's proof: every file under shared/fixtures/images goes through the upload API and is
// either ingested with its expected metadata (the per-file rows of the metadata fixture
// table, checked against ExifTool) or refused with the expected reason. A file added to the
// fixtures without a row fails the metadata table's own test.
const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const ROWS: Record<string, FixtureRow> = { ...CAMERA_ROWS, ...OTHER_ROWS };

/** The files refused, and why; everything else is ingested. */
function expectedRefusal(
  file: string,
): { status: number; code: Problem['code']; detail: RegExp } | null {
  if (basename(file) === 'README') {
    return { status: 415, code: 'unsupported_media_type', detail: /not a known image format/ };
  }
  if (file === 'exif-samples/jpg/corrupted.jpg') {
    return {
      status: 400,
      code: 'invalid_input',
      detail: /could not be decoded: .*Corrupt JPEG data/,
    };
  }
  return null;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat();
}

const files = (await walk(FIXTURES)).map((f) => relative(FIXTURES, f)).sort();

/** What the API shows of the metadata, in the fixture table's terms. */
function shown(image: Image) {
  return {
    takenAt: image.takenAt,
    takenAtSource: image.takenAtSource,
    takenAtOffset: image.takenAtOffset,
    make: image.camera?.make ?? null,
    model: image.camera?.model ?? null,
    lens: image.lens,
    gps: image.location
      ? [Number(image.location.latitude.toFixed(5)), Number(image.location.longitude.toFixed(5))]
      : null,
    orientation: image.orientation,
    keywords: image.keywords,
  };
}

describe('every fixture through the upload API (embedded adapters)', () => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await startCoreHarness('embedded');
  }, 30_000);
  afterAll(async () => {
    await h?.stop();
  });

  test('the fixtures are all here', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  test.each(files.map((f) => [f]))('%s', async (file) => {
    const res = await h.request('/api/v1/images', {
      method: 'POST',
      body: Bun.file(join(FIXTURES, file)),
    });
    const refusal = expectedRefusal(file);
    if (refusal) {
      expect(res.status).toBe(refusal.status);
      const problem = Problem.parse(await res.json());
      expect(problem.code).toBe(refusal.code);
      expect(problem.detail).toMatch(refusal.detail);
      return;
    }
    expect(res.status).toBe(201);
    const { image } = UploadResult.parse(await res.json());
    expect(image.width).toBeGreaterThan(0);
    expect(image.height).toBeGreaterThan(0);
    expect(image.thumbhash.length).toBeGreaterThan(0);
    const row = ROWS[file];
    if (row === undefined) throw new Error(`${file} has no row in the fixture table`);
    const expected = row === NONE ? {} : row;
    expect(shown(image)).toEqual({
      takenAt: expected.takenAt ? new Date(expected.takenAt).toISOString() : null,
      takenAtSource: expected.takenAtSource ?? null,
      takenAtOffset: expected.takenAtOffset ?? null,
      make: expected.make ?? null,
      model: expected.model ?? null,
      lens: expected.lens ?? null,
      gps: expected.gps ? [expected.gps[0], expected.gps[1]] : null,
      orientation: expected.orientation ?? null,
      keywords: expected.keywords ?? [],
    });
    // The thumbnail is there, upright-sized.
    const thumb = await h.blobs.head(`derived/${image.sha256}/thumb.webp`);
    expect(thumb?.size).toBeGreaterThan(0);
  });
});
