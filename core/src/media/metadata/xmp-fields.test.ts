import { describe, expect, test } from 'bun:test';
import {
  clampRating,
  makeLocation,
  parseGpsCoordinate,
  xmpKeywords,
  xmpLocation,
  xmpRating,
  xmpText,
} from './xmp-fields.ts';

describe('parseGpsCoordinate (XMP GPSCoordinate)', () => {
  test.each([
    ['48,51.1234N', 48.852057],
    ['2,17.6512W', -2.294187],
    ['33,51,35.98S', -33.859994],
    ['151,12,40E', 151.211111],
    ['48.8584', 48.8584],
    ['-48.8584', -48.8584],
    [' 48 , 51.5 n ', 48.858333],
  ])('%p → %p', (text, degrees) => {
    expect(parseGpsCoordinate(text)).toBeCloseTo(degrees, 5);
  });

  test.each(['48,61N', '48,51,60N', 'north', '', '48;51N'])('%p → null', (text) => {
    expect(parseGpsCoordinate(text)).toBeNull();
  });
});

describe('makeLocation', () => {
  test('0,0 and out-of-range values are not a location', () => {
    expect(makeLocation(0, 0, 10)).toBeNull();
    expect(makeLocation(91, 0)).toBeNull();
    expect(makeLocation(0, 181)).toBeNull();
    expect(makeLocation(Number.NaN, 1)).toBeNull();
    expect(makeLocation(0, 1, Number.POSITIVE_INFINITY)).toEqual({
      latitude: 0,
      longitude: 1,
      altitude: null,
    });
  });
});

describe('xmpLocation', () => {
  test('reads exif:GPS* with GPSAltitudeRef 1 as below sea level', () => {
    expect(
      xmpLocation({
        'exif:GPSLatitude': '31,30.6N',
        'exif:GPSLongitude': '35,28.8E',
        'exif:GPSAltitude': '43000/100',
        'exif:GPSAltitudeRef': '1',
      }),
    ).toEqual({ latitude: 31.51, longitude: 35.48, altitude: -430 });
  });
});

describe('ratings', () => {
  test.each([
    [{ 'xmp:Rating': '3' }, 3],
    [{ 'xmp:Rating': '-1' }, -1],
    [{ 'xmp:Rating': '7' }, 5],
    [{ 'xmp:Rating': '-4' }, -1],
    [{ 'xmp:Rating': '2.6' }, 3],
    [{ 'xmp:Rating': 'five' }, null],
    [{ 'MicrosoftPhoto:Rating': '75' }, 4],
    [{ 'MicrosoftPhoto:Rating': '1' }, 1],
    [{ 'MicrosoftPhoto:Rating': '0' }, 0],
    [{ 'xmp:Rating': '2', 'MicrosoftPhoto:Rating': '99' }, 2],
    [{}, null],
  ])('%p → %p', (props, rating) => {
    expect(xmpRating(props)).toBe(rating);
  });

  test('EXIF Rating is clamped the same way', () => {
    expect(clampRating(6)).toBe(5);
    expect(clampRating(new Uint16Array([4]))).toBe(4);
    expect(clampRating(undefined)).toBeNull();
  });
});

describe('xmpKeywords and xmpText', () => {
  test('flat subjects, hierarchy leaves, digiKam tags; darktable bookkeeping left out', () => {
    expect(
      xmpKeywords({
        'dc:subject': ['Paris', 'river'],
        'lr:hierarchicalSubject': ['Places|France|Paris', 'darktable|format|cr2', 'People|Ann'],
        'digiKam:TagsList': 'Events/Wedding',
      }),
    ).toEqual(['Paris', 'river', 'Paris', 'Ann', 'Wedding']);
  });

  test('a language alternative gives x-default, else its first language', () => {
    expect(
      xmpText({ 'dc:description': { 'de-DE': 'See', 'x-default': 'Lake' } }, 'dc:description'),
    ).toBe('Lake');
    expect(xmpText({ 'dc:description': { 'de-DE': 'See' } }, 'dc:description')).toBe('See');
    expect(xmpText({ 'dc:title': ['  ', 'Second'] }, 'dc:description', 'dc:title')).toBe('Second');
  });
});
