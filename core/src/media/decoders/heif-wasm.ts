// libheif-js is the WebAssembly build heic-decode wraps; it is used directly because
// heic-decode's wrapper shares one module instance per process (its memory never shrinks) and
// decodes the first top-level image rather than the primary one.
import createLibheif from 'libheif-js/libheif-wasm/libheif-bundle.js';
import { assertPixelLimit, CorruptImageError } from '../errors.ts';
import type { DecodedRgba } from './wasm-protocol.ts';

interface HeifImage {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  has_alpha_channel(): boolean;
  display(
    target: { data: Uint8ClampedArray; width: number; height: number },
    done: (result: unknown) => void,
  ): void;
  free(): void;
}

interface Libheif {
  HeifDecoder: new () => { decode(bytes: Uint8Array): HeifImage[] };
}

/**
 * Decodes the primary image of a HEIC/HEIF file with libheif (libde265 for HEVC) compiled to
 * WebAssembly, in a module instance of its own so its memory is released with it. libheif
 * applies `irot`/`imir`/`clap` while decoding, so the pixels come out upright; the EXIF
 * Orientation a phone also writes must not be applied again.
 */
export async function decodeHeif(bytes: Uint8Array, maxPixels: number): Promise<DecodedRgba> {
  const libheif = (createLibheif as () => Libheif)();
  // Parsing copies the file into the module and reads its boxes; no pixels are allocated yet.
  const images = new libheif.HeifDecoder().decode(bytes);
  try {
    const image = images.find((candidate) => candidate.is_primary()) ?? images[0];
    if (!image) throw new CorruptImageError('libheif found no image in the file');
    const width = image.get_width();
    const height = image.get_height();
    assertPixelLimit(width, height, maxPixels);
    const data = new Uint8ClampedArray(width * height * 4);
    await new Promise<void>((resolve, reject) => {
      image.display({ data, width, height }, (result) =>
        result ? resolve() : reject(new CorruptImageError('libheif could not decode the image')),
      );
    });
    return { width, height, data: new Uint8Array(data.buffer), opaque: !image.has_alpha_channel() };
  } finally {
    for (const image of images) image.free();
  }
}
