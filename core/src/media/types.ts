import type { GeoLocation, TakenAtSource } from '@aex/shared';

/** What the bytes are, detected from them (never from a name or a Content-Type). */
export type MediaType =
  | {
      supported: true;
      mime: string;
      /** Short name stored with the image: jpeg, png, webp, gif, tiff, avif, heic, jxl, dng, cr2… */
      format: string;
      /** How pixels are obtained: by libvips, by a WebAssembly decoder, or from a RAW's embedded JPEG. */
      decoder: 'vips' | 'heif' | 'jxl' | 'raw-preview';
    }
  | { supported: false; detected: string | null };

/** What one decode of an original yields. */
export interface ProcessedImage {
  /** Dimensions as displayed, after the EXIF orientation is applied. */
  width: number;
  height: number;
  orientation: number | null;
  thumb: Buffer;
  preview: Buffer;
  /** ThumbHash (a ~25-byte placeholder) as base64. */
  thumbhash: string;
  /** `#rrggbb`. */
  dominantColor: string;
  /** 64-bit DCT perceptual hash, for near-duplicates (Hamming distance). */
  phash: bigint;
}

/** Metadata read from the file itself (EXIF, XMP, IPTC). */
export interface EmbeddedMetadata {
  takenAt: Date | null;
  takenAtOffset: number | null;
  takenAtSource: Extract<TakenAtSource, 'exif' | 'xmp' | 'gps'> | null;
  make: string | null;
  model: string | null;
  lens: string | null;
  exposureTime: number | null;
  fNumber: number | null;
  iso: number | null;
  focalLength: number | null;
  focalLength35mm: number | null;
  location: GeoLocation | null;
  orientation: number | null;
  rating: number | null;
  keywords: string[];
  description: string | null;
  /** When the embedded metadata was last changed (XMP MetadataDate / ModifyDate), if stated. */
  modifiedAt: Date | null;
  /** The tags read, JSON-safe and size-bounded, for the detail view. */
  raw: Record<string, unknown>;
}

/** The metadata stored for an image, after sidecars and the file time are taken into account. */
export type ResolvedMetadata = Omit<EmbeddedMetadata, 'takenAtSource' | 'modifiedAt'> & {
  takenAtSource: TakenAtSource | null;
};
