import { beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { applyOrientation, type HeifTransform, heifOrientation } from './decoders/orientation.ts';
import { processImage } from './image-processor.ts';
import {
  contentDistance,
  fixture,
  greySignature,
  JPEG,
  LIMIT,
  meanAbsDiff,
} from './testing/images.ts';

// Measured: an oriented fixture's thumbnail is 0.9–1.6 grey levels from its upright reference;
// the same file with its orientation ignored is 28–69 levels away.
const MATCH = 6;
const MISMATCH = 15;
const orientations = [1, 2, 3, 4, 5, 6, 7, 8];

describe.each(['landscape', 'portrait'])('EXIF orientation, %s series', (series) => {
  const path = (n: number) => fixture(`exif-samples/jpg/orientation/${series}_${n}.jpg`);
  let upright: { thumb: Buffer; width: number; height: number };
  let reference: Buffer;

  beforeAll(async () => {
    upright = await processImage(path(1), JPEG, LIMIT);
    reference = await greySignature(upright.thumb);
  });

  test.each(orientations)(
    'orientation %d: the thumbnail matches the upright original',
    async (n) => {
      const out = await processImage(path(n), JPEG, LIMIT);
      expect(out.orientation).toBe(n);
      expect([out.width, out.height]).toEqual([upright.width, upright.height]);
      const thumb = await sharp(out.thumb).metadata();
      const ref = await sharp(upright.thumb).metadata();
      expect([thumb.width, thumb.height]).toEqual([ref.width, ref.height]);
      expect(meanAbsDiff(await greySignature(out.thumb), reference)).toBeLessThan(MATCH);
    },
  );

  test.each(orientations.slice(1))('orientation %d: ignoring it would not match', async (n) => {
    // The stored pixels alone (no rotation): proves the comparison above can fail.
    const stored = await sharp(path(n)).toBuffer();
    expect(meanAbsDiff(await greySignature(stored), reference)).toBeGreaterThan(MISMATCH);
  });

  test.each(orientations)('orientation %d applied explicitly (the RAW path) matches', async (n) => {
    // RAW previews get their RAW's orientation through applyOrientation, not from EXIF.
    const oriented = await applyOrientation(sharp(path(n)), n).toBuffer();
    expect(meanAbsDiff(await greySignature(oriented), reference)).toBeLessThan(MATCH);
  });
});

describe('HEIF irot/imir as an EXIF orientation', () => {
  test.each([
    [[], 1],
    [[{ type: 'irot', angle: 1 }], 8],
    [[{ type: 'irot', angle: 2 }], 3],
    [[{ type: 'irot', angle: 3 }], 6],
    [[{ type: 'imir', axis: 0 }], 2],
    [[{ type: 'imir', axis: 1 }], 4],
  ] as [HeifTransform[], number][])('%j is orientation %d', (transforms, expected) => {
    expect(heifOrientation(transforms)).toBe(expected);
  });

  // Every rotation followed by every mirror (axis -1: none), checked against sharp doing the
  // same two steps one after the other.
  const cases = [0, 1, 2, 3].flatMap((angle) => [-1, 0, 1].map((axis) => ({ angle, axis })));
  test.each(cases)('irot $angle then imir $axis agrees with sharp', async ({ angle, axis }) => {
    const source = fixture('exif-samples/jpg/orientation/landscape_1.jpg');
    // irot turns anticlockwise; sharp's rotate() turns clockwise.
    let expected = await sharp(source)
      .rotate((360 - angle * 90) % 360)
      .toBuffer();
    if (axis === 0) expected = await sharp(expected).flop().toBuffer();
    if (axis === 1) expected = await sharp(expected).flip().toBuffer();
    const transforms: HeifTransform[] = [{ type: 'irot', angle }];
    if (axis >= 0) transforms.push({ type: 'imir', axis });
    const actual = await applyOrientation(sharp(source), heifOrientation(transforms)).toBuffer();
    const [a, b] = await Promise.all([sharp(actual).metadata(), sharp(expected).metadata()]);
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    expect(await contentDistance(actual, expected)).toBeLessThan(MATCH);
  });
});
