/** Test inputs in the formats sharp cannot write: JPEG XL (bare and in its container). */
import { encode } from '@jsquash/jxl';
import sharp from 'sharp';

/** Encodes an image (a path or encoded bytes) as a bare JPEG XL codestream (`FF 0A …`). */
export async function encodeJxl(input: Buffer | string, quality = 85): Promise<Buffer> {
  const { data, info } = await sharp(input)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  const image = { data: pixels, width: info.width, height: info.height, colorSpace: 'srgb' };
  return Buffer.from(await encode(image as ImageData, { quality, effort: 3 }));
}

/** Wraps a codestream in the ISOBMFF container (signature box, `ftyp`, `jxlc`). */
export function jxlContainer(codestream: Buffer): Buffer {
  const box = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + body.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body]);
  };
  return Buffer.concat([
    box('JXL ', Buffer.from([0x0d, 0x0a, 0x87, 0x0a])),
    box('ftyp', Buffer.from('jxl \0\0\0\0jxl ', 'latin1')),
    box('jxlc', codestream),
  ]);
}

/** A two-frame animation (GIF or WebP): `first`, then a solid blue frame. */
export async function animated(first: Buffer, format: 'gif' | 'webp' = 'gif'): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(first).metadata();
  const second = await sharp({ create: { width, height, channels: 3, background: '#0000ff' } })
    .png()
    .toBuffer();
  const frames = [await sharp(first).png().toBuffer(), second];
  const joined = sharp(frames, { join: { animated: true } });
  return format === 'gif'
    ? joined.gif({ delay: [100, 100], loop: 0 }).toBuffer()
    : joined.webp({ delay: [100, 100], loop: 0 }).toBuffer();
}
