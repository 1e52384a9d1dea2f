import { describe, expect, test } from 'bun:test';
import { cleanDescription, cleanKeywords, cleanText, positiveNumber } from './text-values.ts';

describe('cleanDescription', () => {
  test.each([
    'OLYMPUS DIGITAL CAMERA         ',
    'KONICA MINOLTA DIGITAL CAMERA',
    'SANYO DIGITAL CAMERA',
    'Digital Camera',
    'SONY DSC',
    'DSC',
    'Exif_JPEG_PICTURE',
    'EXIF JPEG 2',
    '          ',
    '...',
    '',
  ])('%p is camera boilerplate', (text) => {
    expect(cleanDescription(text)).toBeNull();
  });

  test('a description that only repeats the make or model is dropped', () => {
    expect(cleanDescription('WWL     ', ['WWL', 'ION230'])).toBeNull();
    expect(cleanDescription('gran turismo 5', ['Polyphony', 'Gran Turismo 5'])).toBeNull();
  });

  test('real descriptions are kept, trimmed, and cut at 10,000 characters', () => {
    expect(cleanDescription('  El cielo sobre Berlin  ')).toBe('El cielo sobre Berlin');
    expect(cleanDescription('My new digital camera')).toBe('My new digital camera');
    expect(cleanDescription('x'.repeat(20_000))?.length).toBe(10_000);
  });
});

describe('cleanKeywords', () => {
  test('trims, normalises, drops blanks and overlong ones, deduplicates without regard to case', () => {
    expect(
      cleanKeywords([
        ' Paris ',
        'paris',
        'Cafe\u0301',
        'Café',
        '',
        '   ',
        2019,
        'x'.repeat(201),
        null,
        'River',
      ]),
    ).toEqual(['Paris', 'Café', '2019', 'River']);
  });

  test('keeps at most 500', () => {
    expect(cleanKeywords(Array.from({ length: 600 }, (_, i) => `k${i}`))).toHaveLength(500);
  });
});

describe('cleanText', () => {
  test('ends at the first NUL, as TIFF ASCII does, and strips control characters', () => {
    expect(cleanText('ION230\0F')).toBe('ION230');
    expect(cleanText('a\u0007b\tc')).toBe('ab\tc');
    expect(cleanText(42)).toBeNull();
  });
});

describe('positiveNumber', () => {
  test.each([
    [0.005, 0.005],
    ['1/500', 0.002],
    ['28/10', 2.8],
    [' 200 ', 200],
    [[100, 0], 100],
    [new Uint16Array([64, 0]), 64],
    [0, null],
    [-1, null],
    ['1/0', null],
    ['f/5,6', null],
    ['105,0 mm', null],
    [Number.NaN, null],
  ])('%p → %p', (value, expected) => {
    expect(positiveNumber(value)).toBe(expected);
  });
});
