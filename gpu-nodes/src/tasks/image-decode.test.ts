import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { disableOperationCache, ImageDecodeError, uprightSize } from './image-decode.ts';

describe('uprightSize', () => {
  test('reads the size, turned by the EXIF orientation', async () => {
    const image = sharp({ create: { width: 64, height: 32, channels: 3, background: '#808080' } });
    expect(await uprightSize(await image.clone().webp().toBuffer())).toEqual({
      width: 64,
      height: 32,
    });
    // Orientation 6 says "rotate 90° clockwise to view".
    const turned = await image.jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await uprightSize(turned)).toEqual({ width: 32, height: 64 });
  });

  test.each([
    ['an empty array', new Uint8Array(0)],
    ['random bytes', crypto.getRandomValues(new Uint8Array(2048))],
  ])('rejects %s with ImageDecodeError', async (_, bytes) => {
    const err = await uprightSize(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err.message).toStartWith('cannot decode image: ');
  });
});

test('disableOperationCache leaves libvips no operation to keep', () => {
  const before = sharp.cache();
  try {
    disableOperationCache();
    const after = sharp.cache();
    expect([after.items.max, after.memory.max, after.files.max]).toEqual([0, 0, 0]);
  } finally {
    sharp.cache({ items: before.items.max, memory: before.memory.max, files: before.files.max });
  }
});
