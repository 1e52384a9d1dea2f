import { describe, expect, test } from 'bun:test';
import { parseExifDate } from './exif-date.ts';

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
