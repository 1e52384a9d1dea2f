import { describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { EmbeddedMetadata } from '../types.ts';
import { type ExpectedMetadata, type FixtureRow, NONE } from './fixture-rows.ts';
import { CAMERA_ROWS } from './fixture-table-cameras.ts';
import { OTHER_ROWS } from './fixture-table-other.ts';
import { readEmbeddedMetadata } from './read-embedded.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../../shared/fixtures/images');
const ROWS: Record<string, FixtureRow> = { ...CAMERA_ROWS, ...OTHER_ROWS };

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat();
}

const files = (await walk(FIXTURES)).map((f) => relative(FIXTURES, f)).sort();

describe('the fixture table', () => {
  test('has a row for every file under shared/fixtures/images, and no row without a file', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => !(f in ROWS))).toEqual([]);
    expect(Object.keys(ROWS).filter((f) => !files.includes(f))).toEqual([]);
  });
});

/** Numbers to 5 significant digits: rationals such as 1/391 s are written rounded. */
function expectClose(actual: number | null, expected: number | null | undefined, field: string) {
  if (expected === undefined || expected === null) {
    expect({ [field]: actual }).toEqual({ [field]: null });
    return;
  }
  const close = actual !== null && Math.abs(actual - expected) / Math.abs(expected) < 1e-5;
  if (!close) expect({ [field]: actual }).toEqual({ [field]: expected });
}

function expectRow(m: EmbeddedMetadata, row: ExpectedMetadata) {
  expect({
    takenAt: m.takenAt?.toISOString() ?? null,
    takenAtSource: m.takenAtSource,
    takenAtOffset: m.takenAtOffset,
    make: m.make,
    model: m.model,
    lens: m.lens,
    orientation: m.orientation,
    rating: m.rating,
    keywords: m.keywords,
    modifiedAt: m.modifiedAt?.toISOString() ?? null,
  }).toEqual({
    takenAt: row.takenAt ? new Date(row.takenAt).toISOString() : null,
    takenAtSource: row.takenAtSource ?? null,
    takenAtOffset: row.takenAtOffset ?? null,
    make: row.make ?? null,
    model: row.model ?? null,
    lens: row.lens ?? null,
    orientation: row.orientation ?? null,
    rating: row.rating ?? null,
    keywords: row.keywords ?? [],
    modifiedAt: row.modifiedAt ? new Date(row.modifiedAt).toISOString() : null,
  });
  expectClose(m.exposureTime, row.exposureTime, 'exposureTime');
  expectClose(m.fNumber, row.fNumber, 'fNumber');
  expectClose(m.iso, row.iso, 'iso');
  expectClose(m.focalLength, row.focalLength, 'focalLength');
  expectClose(m.focalLength35mm, row.focalLength35mm, 'focalLength35mm');
  const gps = m.location && [
    Number(m.location.latitude.toFixed(5)),
    Number(m.location.longitude.toFixed(5)),
    m.location.altitude === null ? null : Number(m.location.altitude.toPrecision(6)),
  ];
  expect(gps).toEqual(row.gps ?? null);
  if (row.description instanceof RegExp) expect(m.description ?? '').toMatch(row.description);
  else expect(m.description).toBe(row.description ?? null);
}

describe('readEmbeddedMetadata over every fixture', () => {
  test.each(files.map((f) => [f]))('%s', async (file) => {
    const row = ROWS[file];
    if (row === undefined) throw new Error(`${file} has no row in the fixture table`);
    const metadata = await readEmbeddedMetadata(join(FIXTURES, file));
    if (row === NONE) {
      expectRow(metadata, {});
      expect(metadata.raw).toEqual({});
    } else expectRow(metadata, row);
    // The raw tags go to a jsonb column as they are: JSON-safe, small.
    const json = JSON.stringify(metadata.raw);
    expect(JSON.parse(json)).toEqual(metadata.raw);
    expect(json.length).toBeLessThanOrEqual(32 * 1024);
    expect(json).not.toContain('\\u0000');
  });
});
