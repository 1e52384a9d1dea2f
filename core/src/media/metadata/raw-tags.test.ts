import { describe, expect, test } from 'bun:test';
import { boundRawTags } from './raw-tags.ts';

describe('boundRawTags', () => {
  test('keeps JSON-safe values and drops what a jsonb column cannot or should not hold', () => {
    const raw = boundRawTags({
      ifd0: {
        Make: 'Canon\0\0\0',
        Model: '   ',
        XResolution: 72,
        Bad: Number.NaN,
        Huge: Number.POSITIVE_INFINITY,
        Flag: true,
        Thumbnail: new Uint8Array(5000),
        Binary: new Uint8Array([0, 1, 2, 200]),
        LensInfo: [18, 70, 3.5, 4.5],
        BitsPerSample: new Uint16Array([8, 8, 8]),
        Strips: new Uint32Array(5000),
        View: new DataView(new ArrayBuffer(4)),
        Long: 'x'.repeat(5000),
        Lone: 'a\uD800b',
        When: new Date('2020-01-01T00:00:00Z'),
        Never: new Date(Number.NaN),
        Big: 10n,
      },
      exif: {
        ExifVersion: new Uint8Array([48, 50, 51, 50]),
        Padded: new Uint8Array([65, 66, 0, 0]),
      },
      empty: {},
      notAnObject: 'text',
    });
    expect(raw).toEqual({
      ifd0: {
        Make: 'Canon',
        XResolution: 72,
        Flag: true,
        LensInfo: [18, 70, 3.5, 4.5],
        BitsPerSample: [8, 8, 8],
        Lone: 'a\uFFFDb',
        When: '2020-01-01T00:00:00.000Z',
      },
      exif: { ExifVersion: '0232', Padded: 'AB' },
    });
    expect(JSON.parse(JSON.stringify(raw))).toEqual(raw);
  });

  test('keeps XMP structs to a depth and leaves out editing history and settings', () => {
    const raw = boundRawTags({
      xmp: {
        'dc:description': { 'x-default': 'A lake' },
        'crs:Exposure2012': '+0.5',
        'xmpMM:History': [{ 'stEvt:action': 'saved' }],
        'photoshop:DocumentAncestors': ['a', 'b'],
        'a:deep': {
          'b:x': 'kept',
          'b:y': { 'c:x': { 'd:x': 'leaf', 'd:y': { 'e:x': 'too deep' } } },
        },
        'dc:subject': ['a', 'b'],
      },
    });
    expect(raw).toEqual({
      xmp: {
        'dc:description': { 'x-default': 'A lake' },
        'a:deep': { 'b:x': 'kept', 'b:y': { 'c:x': { 'd:x': 'leaf' } } },
        'dc:subject': ['a', 'b'],
      },
    });
  });

  test('stops at 500 keys and 32 KB, filling groups in order', () => {
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`Tag${i}`, i]));
    const raw = boundRawTags({ ifd0: many, exif: { Late: 1 } });
    const keys =
      Object.keys(raw.ifd0 as object).length + Object.keys((raw.exif as object) ?? {}).length;
    expect(keys).toBeLessThanOrEqual(499);
    expect(raw.exif).toBeUndefined();
    const wide = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`Text${i}`, 'y'.repeat(900)]),
    );
    expect(JSON.stringify(boundRawTags({ ifd0: wide })).length).toBeLessThanOrEqual(32 * 1024);
  });
});
