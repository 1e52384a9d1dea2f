import { describe, expect, test } from 'bun:test';
import { type DateTags, gpsInstant, resolveTakenAt } from './taken-at.ts';

const iso = (tags: DateTags) => {
  const t = resolveTakenAt(tags);
  return t && { takenAt: t.takenAt.toISOString(), offset: t.offset, source: t.source };
};

describe('resolveTakenAt: which date', () => {
  test('DateTimeOriginal comes first, with OffsetTimeOriginal', () => {
    expect(
      iso({
        dateTimeOriginal: '2021:04:11 15:47:53',
        offsetTimeOriginal: '-05:00',
        createDate: '2021:04:12 00:00:00',
        xmpDates: ['2000-01-01T00:00:00Z'],
        gpsDate: '2021:04:11',
        gpsTime: [20, 47, 50],
      }),
    ).toEqual({ takenAt: '2021-04-11T20:47:53.000Z', offset: -300, source: 'exif' });
  });

  test('CreateDate (DateTimeDigitized) when DateTimeOriginal is missing or invalid', () => {
    expect(
      iso({
        dateTimeOriginal: '0000:00:00 00:00:00',
        createDate: '2005:03:10 15:10:48',
        offsetTimeDigitized: '+01:00',
      }),
    ).toEqual({ takenAt: '2005-03-10T14:10:48.000Z', offset: 60, source: 'exif' });
  });

  test('XMP dates in their priority order when EXIF has none', () => {
    expect(iso({ xmpDates: [undefined, '2003-08-31', '2005-12-17T22:03:32Z'] })).toEqual({
      takenAt: '2003-08-31T00:00:00.000Z',
      offset: null,
      source: 'xmp',
    });
    expect(iso({ xmpDates: ['garbage', '2010-04-13T09:37:22+02:00'] })).toEqual({
      takenAt: '2010-04-13T07:37:22.000Z',
      offset: 120,
      source: 'xmp',
    });
  });

  test('an XMP date in UTC ("Z") gives the instant but no zone', () => {
    expect(iso({ xmpDates: ['2013-07-05T03:18:27Z'] })).toEqual({
      takenAt: '2013-07-05T03:18:27.000Z',
      offset: null,
      source: 'xmp',
    });
  });

  test('IPTC DateCreated + TimeCreated after XMP, as source xmp', () => {
    expect(iso({ iptcDate: '20051214', iptcTime: '143947+0100' })).toEqual({
      takenAt: '2005-12-14T13:39:47.000Z',
      offset: 60,
      source: 'xmp',
    });
    expect(iso({ iptcDate: '20051214' })?.takenAt).toBe('2005-12-14T00:00:00.000Z');
  });

  test('the GPS time (UTC) when nothing else says', () => {
    expect(iso({ gpsDate: '2022:02:03', gpsTime: [14, 44, 9] })).toEqual({
      takenAt: '2022-02-03T14:44:09.000Z',
      offset: null,
      source: 'gps',
    });
  });

  test('nothing at all, or nothing valid, gives null', () => {
    expect(resolveTakenAt({})).toBeNull();
    expect(
      resolveTakenAt({
        dateTimeOriginal: 'yesterday',
        xmpDates: [''],
        gpsDate: '2022:02:30',
        gpsTime: [1, 2, 3],
      }),
    ).toBeNull();
  });

  test('SubSecTimeOriginal adds fractions of a second', () => {
    expect(
      iso({ dateTimeOriginal: '2015:04:10 20:12:23', subSecTimeOriginal: '550' })?.takenAt,
    ).toBe('2015-04-10T20:12:23.550Z');
    expect(
      iso({ dateTimeOriginal: '2015:04:10 20:12:23', subSecTimeOriginal: '5x' })?.takenAt,
    ).toBe('2015-04-10T20:12:23.000Z');
  });
});

describe('resolveTakenAt: which offset', () => {
  test('any of the three EXIF offset tags (cameras set them from one zone setting)', () => {
    expect(iso({ dateTimeOriginal: '2022:08:14 14:12:31', offsetTime: '+03:00' })?.offset).toBe(
      180,
    );
  });

  test('the zone of an XMP date showing the same wall clock', () => {
    expect(
      iso({ dateTimeOriginal: '2008:03:15 09:52:01', xmpDates: ['2008-03-15T09:52:01-04:00'] }),
    ).toEqual({ takenAt: '2008-03-15T13:52:01.000Z', offset: -240, source: 'exif' });
    // A different wall clock is a different moment: no zone from it.
    expect(
      iso({ dateTimeOriginal: '2008:03:15 09:52:01', xmpDates: ['2008-03-15T10:52:01-04:00'] })
        ?.offset,
    ).toBeNull();
  });

  test('the local time minus the GPS time, rounded to 15 minutes', () => {
    expect(
      iso({
        dateTimeOriginal: '2015:04:10 20:12:23',
        gpsDate: '2015:04:10',
        gpsTime: [18, 12, 22.06],
      }),
    ).toEqual({ takenAt: '2015-04-10T18:12:23.000Z', offset: 120, source: 'exif' });
    // India, +05:30, with a fix 40 seconds old.
    expect(
      iso({ dateTimeOriginal: '2020:01:01 18:00:00', gpsDate: '2020:01:01', gpsTime: [12, 29, 20] })
        ?.offset,
    ).toBe(330);
  });

  test('no GPS offset when the clocks disagree by more than a zone, or are not near a 15-minute step', () => {
    // The camera was a day off (gps/DSCN0010.jpg).
    expect(
      iso({
        dateTimeOriginal: '2008:10:22 16:28:39',
        gpsDate: '2008:10:23',
        gpsTime: [14, 27, 7.24],
      })?.offset,
    ).toBeNull();
    // 7 minutes past a step: a drifting clock, not a zone.
    expect(
      iso({ dateTimeOriginal: '2020:01:01 12:07:00', gpsDate: '2020:01:01', gpsTime: [10, 0, 0] })
        ?.offset,
    ).toBeNull();
  });

  test('an XMP date without a zone can take it from the GPS time', () => {
    expect(
      iso({ xmpDates: ['2005-12-14T14:39:47'], gpsDate: '2005:12:14', gpsTime: [13, 39, 40] }),
    ).toEqual({
      takenAt: '2005-12-14T13:39:47.000Z',
      offset: 60,
      source: 'xmp',
    });
  });
});

describe('gpsInstant', () => {
  test.each([
    ['2008:10:23', [14, 27, 7.24], '2008-10-23T14:27:07.240Z'],
    ['2008-10-23', '14:27:07', '2008-10-23T14:27:07.000Z'],
    ['2008:10:23', new Float64Array([0, 0, 0]), '2008-10-23T00:00:00.000Z'],
  ])('%p %p', (date, time, expected) => {
    expect(new Date(gpsInstant(date, time) ?? Number.NaN).toISOString()).toBe(expected);
  });

  test.each([
    ['2008:10:23', [24, 0, 0]],
    ['2008:10:23', [12, 60, 0]],
    ['2008:10:23', [Number.NaN, 0, 0]],
    ['2008:10:23', 'noon'],
    ['', [12, 0, 0]],
    ['2008:10:23', undefined],
  ])('%p %p → null', (date, time) => {
    expect(gpsInstant(date, time)).toBeNull();
  });
});
