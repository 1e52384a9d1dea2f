import createJxlModule from '@jsquash/jxl/codec/dec/jxl_dec.js';
import { CorruptImageError } from '../errors.ts';
import { type DecodedRgba, isOpaque } from './wasm-protocol.ts';

interface JxlModule {
  decode(bytes: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } | null;
}

/**
 * Decodes a JPEG XL file with libjxl compiled to WebAssembly (@jsquash/jxl's decoder), in a
 * module instance of its own so its memory (about 60 bytes per pixel at its peak) is released
 * with it. libjxl applies the codestream's orientation by default, so the pixels come out
 * upright. An animation gives its first frame.
 */
export async function decodeJxl(bytes: Uint8Array): Promise<DecodedRgba> {
  const factory = createJxlModule as unknown as (options: object) => Promise<JxlModule>;
  // noInitialRun: the module is a library, it has no main() to run.
  const module = await factory({ noInitialRun: true });
  const image = module.decode(bytes);
  if (!image) throw new CorruptImageError('libjxl could not decode the image');
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { width: image.width, height: image.height, data, opaque: isOpaque(data) };
}
