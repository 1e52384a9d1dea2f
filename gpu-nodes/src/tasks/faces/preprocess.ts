import sharp from 'sharp';
import { decodeRaw, ImageDecodeError } from '../image-decode.ts';
import { YUNET_STRIDES } from './postprocess.ts';

/** An upright image as interleaved 8-bit RGB. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes an encoded image (the webp preview core stores, jpeg, png, anything libvips reads)
 * once into upright RGB: detection reads a resized copy of it, alignment samples faces from it
 * at full resolution.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function decodeRgb(bytes: Uint8Array): Promise<RgbImage> {
  const decoded = await decodeRaw(bytes, (image) =>
    image
      // Boxes and landmarks are fractions of the upright image (shared/src/events.ts, Point).
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb'),
  );
  const { width, height, channels } = decoded.info;
  if (channels !== 3) {
    throw new ImageDecodeError(`cannot decode image: got ${channels} channels, expected 3`);
  }
  return { data: new Uint8Array(decoded.data), width, height };
}

/** YuNet's input for one image, and how its pixels relate to the image's. */
export interface DetectorInput {
  /** Planar BGR, 0–255, `[1, 3, paddedHeight, paddedWidth]`. */
  data: Float32Array;
  dims: [1, 3, number, number];
  /** The resized image inside the padded input (top-left aligned). */
  width: number;
  height: number;
}

const DIVISOR = YUNET_STRIDES[YUNET_STRIDES.length - 1] as number;

/**
 * Scales `image` so its longer side is `size` pixels, keeping the aspect ratio, and lays it out
 * as YuNet wants it: planar BGR 0–255 (the `blobFromImage` defaults OpenCV's FaceDetectorYN
 * uses, on an image `imread` gave it in BGR), zero-padded at the right and bottom up to
 * multiples of 32 as `padWithDivisor` does, so every stride's grid covers the whole input.
 *
 * Small images are enlarged too. YuNet's landmarks move by up to ~6% of the face when it sees
 * the same face at another scale, and MobileFaceNet feels that: a 0.9× JPEG copy of face_2.jpg
 * detected at its own size gave one face cosine 0.75 to the original (0.99 with the original's
 * landmarks); seen at one fixed size, every copy's faces scored ≥ 0.9. Enlarging raises
 * YuNet's scores on small non-faces (cat.jpg's best 0.32 → 0.53), but over the 95
 * exif-samples photos it added no false face scoring ≥ 0.7.
 */
export async function detectorInput(image: RgbImage, size: number): Promise<DetectorInput> {
  const scale = size / Math.max(image.width, image.height);
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  let pixels = image.data;
  if (width !== image.width || height !== image.height) {
    pixels = new Uint8Array(
      await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        // The image's own aspect ratio is kept by the rounded sizes; `fill` avoids sharp
        // rounding them a second time.
        .resize({ width, height, fit: 'fill', kernel: 'linear' })
        .raw()
        .toBuffer(),
    );
  }
  const padW = Math.ceil(width / DIVISOR) * DIVISOR;
  const padH = Math.ceil(height / DIVISOR) * DIVISOR;
  const plane = padW * padH;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    let from = y * width * 3;
    const row = y * padW;
    for (let x = 0; x < width; x++) {
      data[row + x] = pixels[from + 2] as number; // B
      data[plane + row + x] = pixels[from + 1] as number; // G
      data[2 * plane + row + x] = pixels[from] as number; // R
      from += 3;
    }
  }
  return { data, dims: [1, 3, padH, padW], width, height };
}
