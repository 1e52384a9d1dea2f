import { describe, expect, test } from 'bun:test';
import { parseDateParts, parseExifDate, parseOffset, toInstant } from './exif-date.ts';

describe('parseExifDate', () => {
  test.each([
    ['2008:05:30 15:56:01', undefined, '2008-05-30T15:56:01.000Z'],
    ['2008:05:30 15:56:01', '+02:00', '2008-05-30T13:56:01.000Z'],
    ['2008:05:30 15:56:01', '-05:30', '2008-05-30T21:26:01.000Z'],
    ['2008:05:30 15:56:01.25', undefined, '2008-05-30T15:56:01.250Z'],
    ['2010-04-13T09:37:22+02:00', undefined, '2010-04-13T07:37:22.000Z'],
    ['2011-09-23T12:43:03Z', undefined, '2011-09-23T12:43:03.000Z'],
    ['2011-09-23T12:43', undefined, '2011-09-23T12:43:00.000Z'],
    // The offset inside the value wins over the separate offset tag.
    ['2010-04-13T09:37:22+02:00', '+05:00', '2010-04-13T07:37:22.000Z'],
  ])('%s (offset %s) → %s', (value, offset, iso) => {
    expect(parseExifDate(value, offset)?.toISOString()).toBe(iso);
  });

  test.each([
    '0000:00:00 00:00:00',
    '2008:13:01 00:00:00',
    '2008:02:30 10:00:00',
    '2008:05:30 25:00:00',
    '    :  :     :  :  ',
    'yesterday',
    '',
  ])('%p → null', (value) => {
    expect(parseExifDate(value)).toBeNull();
  });

  test('non-strings are refused, valid Dates pass through', () => {
    expect(parseExifDate(42)).toBeNull();
    expect(parseExifDate(null)).toBeNull();
    expect(parseExifDate(new Date('invalid'))).toBeNull();
    expect(parseExifDate(new Date('2020-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2020-01-01T00:00:00.000Z',
    );
  });

  test('an absurd offset is ignored rather than shifting by days', () => {
    expect(parseExifDate('2008:05:30 15:56:01', '+99:00')?.toISOString()).toBe(
      '2008-05-30T15:56:01.000Z',
    );
  });
});

describe('parseDateParts', () => {
  test.each([
    ['2008:05:30 15:56:01', { offset: null, utc: false, hasTime: true }],
    ['2008-03-15T09:52:01-04:00', { offset: -240, utc: false, hasTime: true }],
    // Some writers drop the zone hour's leading zero (tests/33-type_error.jpg).
    ['2011:08:24 17:46:58.0+1:00', { offset: 60, utc: false, hasTime: true }],
    ['2014-09-21T16:00:56.000000+0530', { offset: 330, utc: false, hasTime: true }],
    ['2011-09-23T12:43:03Z', { offset: null, utc: true, hasTime: true }],
    // XMP allows a date alone (photoshop:DateCreated "2003-08-31").
    ['2003-08-31', { offset: null, utc: false, hasTime: false }],
  ])('%s', (value, expected) => {
    expect(parseDateParts(value)).toMatchObject(expected);
  });

  test('keeps the wall clock apart from the zone', () => {
    expect(parseDateParts('2008-03-15T09:52:01-04:00')?.local).toBe(
      Date.UTC(2008, 2, 15, 9, 52, 1),
    );
  });

  test.each([
    '2008-03-15T09:52:01+25:00',
    '2008:03:15 09:52:01 +02:75',
    '1799:12:31 00:00:00',
    'T12:00',
  ])('%p → null', (value) => {
    expect(parseDateParts(value)).toBeNull();
  });
});

describe('parseOffset', () => {
  test.each([
    ['+02:00', 120],
    ['-05:30', -330],
    ['+0545', 345],
    ['+1:00', 60],
    ['-12:00', -720],
    ['+14:00', 840],
    ['+14:01', null],
    ['-12:30', null],
    ['   :  ', null],
    ['', null],
    [undefined, null],
  ])('%p → %p', (value, minutes) => {
    expect(parseOffset(value)).toBe(minutes);
  });
});

describe('toInstant', () => {
  test('applies the value’s own zone, else the fallback, else none; Z is UTC', () => {
    const local = parseDateParts('2020:01:01 12:00:00');
    const zoned = parseDateParts('2020-01-01T12:00:00+02:00');
    const utc = parseDateParts('2020-01-01T12:00:00Z');
    if (!local || !zoned || !utc) throw new Error('unparsed');
    expect(toInstant(local).toISOString()).toBe('2020-01-01T12:00:00.000Z');
    expect(toInstant(local, -60).toISOString()).toBe('2020-01-01T13:00:00.000Z');
    expect(toInstant(zoned, -60).toISOString()).toBe('2020-01-01T10:00:00.000Z');
    expect(toInstant(utc, 300).toISOString()).toBe('2020-01-01T12:00:00.000Z');
  });
});
