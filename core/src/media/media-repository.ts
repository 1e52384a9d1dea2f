import { type ImageProcessorOptions, processImage } from './image-processor.ts';
import { detectMediaType } from './media-type.ts';
import { readEmbeddedMetadata } from './metadata/read-embedded.ts';
import type { EmbeddedMetadata, MediaType, ProcessedImage } from './types.ts';

export { CorruptImageError, ImageTooLargeError } from './image-processor.ts';
export { SUPPORTED_FORMATS_TEXT } from './media-type.ts';
export { type MetadataOverrides, resolveMetadata } from './metadata/resolve.ts';
export type { EmbeddedMetadata, MediaType, ProcessedImage, ResolvedMetadata } from './types.ts';

type Supported = Extract<MediaType, { supported: true }>;

/**
 * Every media side effect ingestion needs (type sniffing, decoding, metadata), behind one
 * object the ingest service receives, so its logic never imports sharp or exifr.
 */
export class MediaRepository {
  constructor(private readonly options: ImageProcessorOptions) {}

  detect(path: string): Promise<MediaType> {
    return detectMediaType(path);
  }

  process(path: string, type: Supported): Promise<ProcessedImage> {
    return processImage(path, type, this.options);
  }

  readMetadata(path: string, _type: Supported): Promise<EmbeddedMetadata> {
    return readEmbeddedMetadata(path);
  }

  /** Stops helper processes a decoder may hold (none yet). */
  async close(): Promise<void> {}
}
