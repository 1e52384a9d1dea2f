import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { decodeRaw, ImageDecodeError, uprightSize } from '../image-decode.ts';
import { YUNET_STRIDES } from './postprocess.ts';

/** An upright image as interleaved 8-bit RGB. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

// Boxes and landmarks are fractions of the upright image (shared/src/events.ts, Point); a
// cut-out is seen on white; greyscale and CMYK become three sRGB channels.
const upright = (image: Sharp) =>
  image.autoOrient().flatten({ background: '#ffffff' }).toColourspace('srgb');

/**
 * Decodes an encoded image (the webp preview core stores, jpeg, png, anything libvips reads)
 * into upright RGB at its own size: the pixels alignment samples small faces from.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function decodeRgb(bytes: Uint8Array): Promise<RgbImage> {
  return rgbOf(await decodeRaw(bytes, upright));
}

/** An image decoded for the detector, and the size of the image it was scaled from. */
export interface DetectionImage {
  /** Upright RGB whose longer side is the detection size ({@link detectionSize}). */
  pixels: RgbImage;
  /** The upright image's own size, in whose pixels faces are reported. */
  width: number;
  height: number;
}

/**
 * Decodes an encoded image straight to the detection size: one libvips pipeline instead of a
 * full-size decode and a second resize of 4 MB of raw pixels, which took a 1440 px preview from
 * ~79 ms of CPU to YuNet's input to ~50. Alignment decodes the full size only for faces that
 * need it (see alignedCrops).
 *
 * `fastShrinkOnLoad: false` keeps libwebp's own downscaling (box-filtered, while decoding) out:
 * it would save another ~13 ms, but YuNet placed the landmarks of 20–40 px faces differently on
 * its pixels, and one such face in a group photo then embedded at cosine 0.68 to itself. With
 * libvips' linear kernel over the full decode, as before, every fixture face stays ≥ 0.99.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function decodeForDetection(bytes: Uint8Array, size: number): Promise<DetectionImage> {
  const { width, height } = await uprightSize(bytes);
  const scaled = detectionSize({ width, height }, size);
  const decoded = await decodeRaw(bytes, (image) =>
    // Sharp swaps the target size itself when the orientation turns the image by 90°.
    upright(image).resize({ ...scaled, fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false }),
  );
  return { pixels: rgbOf(decoded), width, height };
}

/**
 * The size YuNet sees an image at: its longer side `size` pixels, the other side rounded, small
 * images enlarged (see {@link detectorInput}).
 */
export function detectionSize(
  image: { width: number; height: number },
  size: number,
): { width: number; height: number } {
  const scale = size / Math.max(image.width, image.height);
  return {
    width: Math.max(1, Math.round(image.width * scale)),
    height: Math.max(1, Math.round(image.height * scale)),
  };
}

function rgbOf(decoded: { data: Buffer; info: OutputInfo }): RgbImage {
  const { width, height, channels } = decoded.info;
  if (channels !== 3) {
    throw new ImageDecodeError(`cannot decode image: got ${channels} channels, expected 3`);
  }
  const { buffer, byteOffset, byteLength } = decoded.data;
  return { data: new Uint8Array(buffer, byteOffset, byteLength), width, height };
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
 *
 * `storage`, when large enough, holds the result instead of a new array: a 960 px input is
 * 7–11 MB, and allocating (page faults, zeroing, the collections it sets off) cost 6–20 ms per
 * image where filling a reused one costs ~1.
 */
export async function detectorInput(
  image: RgbImage,
  size: number,
  storage?: Float32Array,
): Promise<DetectorInput> {
  const { width, height } = detectionSize(image, size);
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
  let data: Float32Array;
  if (storage && storage.length >= 3 * plane) {
    data = storage.subarray(0, 3 * plane);
    data.fill(0); // the padding
  } else {
    data = new Float32Array(3 * plane);
  }
  const b = data.subarray(0, plane);
  const g = data.subarray(plane, 2 * plane);
  const r = data.subarray(2 * plane);
  for (let y = 0; y < height; y++) {
    let from = y * width * 3;
    const end = y * padW + width;
    for (let to = y * padW; to < end; to++) {
      b[to] = pixels[from + 2] as number;
      g[to] = pixels[from + 1] as number;
      r[to] = pixels[from] as number;
      from += 3;
    }
  }
  return { data, dims: [1, 3, padH, padW], width, height };
}
