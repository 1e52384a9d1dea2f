import { describe, expect, test } from 'bun:test';
import type { SidecarMetadata } from '@aex/shared';
import type { EmbeddedMetadata } from '../types.ts';
import { emptyMetadata } from './embedded-fields.ts';
import { resolveMetadata } from './resolve.ts';

const PARIS = { latitude: 48.8534, longitude: 2.2942, altitude: 35 };
const VENICE = { latitude: 45.4342, longitude: 12.3365, altitude: null };

const embedded = (overrides: Partial<EmbeddedMetadata> = {}): EmbeddedMetadata => ({
  ...emptyMetadata(),
  takenAt: new Date('2022-07-09T12:21:33Z'),
  takenAtOffset: 120,
  takenAtSource: 'exif',
  make: 'FUJIFILM',
  model: 'X-T3',
  rating: 2,
  keywords: ['Paris'],
  description: 'From the camera',
  location: PARIS,
  modifiedAt: new Date('2022-07-10T00:00:00Z'),
  raw: { ifd0: { Make: 'FUJIFILM' } },
  ...overrides,
});

const sidecar = (overrides: Partial<SidecarMetadata> = {}): SidecarMetadata => ({
  source: 'xmp',
  takenAt: '2022-07-09T12:00:00.000Z',
  takenAtOffset: -240,
  description: 'From Lightroom',
  rating: 5,
  location: VENICE,
  keywords: ['Seine', 'paris'],
  modifiedAt: '2023-01-14T17:32:05.000Z',
  ...overrides,
});

describe('resolveMetadata', () => {
  test('without a sidecar: the embedded values, without modifiedAt', () => {
    const resolved = resolveMetadata(embedded());
    const { modifiedAt: _, ...expected } = embedded();
    expect(resolved).toEqual(expected);
    expect(resolved).not.toHaveProperty('modifiedAt');
  });

  test('a newer sidecar wins field by field; taken-at becomes source "sidecar" with its offset', () => {
    expect(resolveMetadata(embedded(), { sidecar: sidecar() })).toMatchObject({
      takenAt: new Date('2022-07-09T12:00:00Z'),
      takenAtOffset: -240,
      takenAtSource: 'sidecar',
      description: 'From Lightroom',
      rating: 5,
      location: VENICE,
      // What a sidecar does not carry stays as embedded.
      make: 'FUJIFILM',
      model: 'X-T3',
    });
  });

  test('an older sidecar only fills what the file lacks', () => {
    const older = sidecar({ modifiedAt: '2020-01-01T00:00:00.000Z' });
    const resolved = resolveMetadata(embedded({ description: null, location: null }), {
      sidecar: older,
    });
    expect(resolved).toMatchObject({
      takenAt: new Date('2022-07-09T12:21:33Z'),
      takenAtOffset: 120,
      takenAtSource: 'exif',
      rating: 2,
      description: 'From Lightroom',
      location: VENICE,
    });
  });

  test('an older sidecar fills a missing taken-at, as source "sidecar"', () => {
    const older = sidecar({ modifiedAt: '2020-01-01T00:00:00.000Z', takenAtOffset: undefined });
    const resolved = resolveMetadata(
      embedded({ takenAt: null, takenAtOffset: null, takenAtSource: null }),
      {
        sidecar: older,
      },
    );
    expect(resolved).toMatchObject({
      takenAt: new Date('2022-07-09T12:00:00Z'),
      takenAtOffset: null,
      takenAtSource: 'sidecar',
    });
  });

  test('an embedded rating of 0 ("unrated", as Canon bodies write it) is a gap an older sidecar fills', () => {
    const older = sidecar({ modifiedAt: '2020-01-01T00:00:00.000Z', rating: 3 });
    expect(resolveMetadata(embedded({ rating: 0 }), { sidecar: older }).rating).toBe(3);
    expect(
      resolveMetadata(embedded({ rating: 0 }), { sidecar: sidecar({ rating: undefined }) }).rating,
    ).toBe(0);
  });

  test('a sidecar at the same time as the file is not newer', () => {
    const same = sidecar({ modifiedAt: '2022-07-10T00:00:00.000Z' });
    expect(resolveMetadata(embedded(), { sidecar: same }).rating).toBe(2);
  });

  test('a file that states no modification time yields to the sidecar, dated or not', () => {
    const file = embedded({ modifiedAt: null });
    expect(resolveMetadata(file, { sidecar: sidecar() }).rating).toBe(5);
    expect(resolveMetadata(file, { sidecar: sidecar({ modifiedAt: undefined }) }).rating).toBe(5);
  });

  test('an undated sidecar beside a dated file is not known to be newer: it fills gaps only', () => {
    const undated = sidecar({ modifiedAt: null });
    const resolved = resolveMetadata(embedded({ rating: null }), { sidecar: undated });
    expect(resolved).toMatchObject({
      rating: 5,
      description: 'From the camera',
      takenAtSource: 'exif',
    });
  });

  test('null or absent sidecar values never clear embedded ones', () => {
    const blank = sidecar({
      description: null,
      rating: null,
      location: null,
      takenAt: null,
      keywords: undefined,
    });
    expect(resolveMetadata(embedded(), { sidecar: blank })).toMatchObject({
      description: 'From the camera',
      rating: 2,
      location: PARIS,
      takenAtSource: 'exif',
      keywords: ['Paris'],
    });
  });

  test('keywords are the union of both, without case duplicates, whichever is newer', () => {
    for (const modifiedAt of ['2023-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z'])
      expect(resolveMetadata(embedded(), { sidecar: sidecar({ modifiedAt }) }).keywords).toEqual([
        'Paris',
        'Seine',
      ]);
  });

  test('the file time is the last resort for taken-at, as source "file"', () => {
    const undated = embedded({ takenAt: null, takenAtOffset: null, takenAtSource: null });
    const fileModifiedAt = new Date('2019-05-12T11:44:05Z');
    expect(resolveMetadata(undated, { fileModifiedAt })).toMatchObject({
      takenAt: fileModifiedAt,
      takenAtOffset: null,
      takenAtSource: 'file',
    });
    // Not when the file or the sidecar says when.
    expect(resolveMetadata(embedded(), { fileModifiedAt }).takenAtSource).toBe('exif');
    expect(resolveMetadata(undated, { fileModifiedAt, sidecar: sidecar() }).takenAtSource).toBe(
      'sidecar',
    );
    // Not when the file time is no time.
    for (const bad of [new Date(Number.NaN), new Date(0)])
      expect(resolveMetadata(undated, { fileModifiedAt: bad }).takenAt).toBeNull();
  });

  test('a Takeout sidecar works the same way', () => {
    const takeout: SidecarMetadata = {
      source: 'takeout',
      takenAt: '2019-05-12T11:44:05.000Z',
      takenAtOffset: null,
      modifiedAt: '2019-05-12T16:53:20.000Z',
    };
    expect(
      resolveMetadata(embedded({ modifiedAt: new Date('2019-05-12T11:44:05Z') }), {
        sidecar: takeout,
      }),
    ).toMatchObject({
      takenAt: new Date('2019-05-12T11:44:05Z'),
      takenAtOffset: null,
      takenAtSource: 'sidecar',
      rating: 2,
    });
  });

  test('does not change the embedded metadata it was given', () => {
    const input = embedded();
    const copy = structuredClone(input);
    resolveMetadata(input, { sidecar: sidecar(), fileModifiedAt: new Date() });
    expect(input).toEqual(copy);
  });
});
