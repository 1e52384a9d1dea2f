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
  private readonly stop = new AbortController();

  constructor(private readonly options: ImageProcessorOptions) {}

  detect(path: string): Promise<MediaType> {
    return detectMediaType(path);
  }

  process(path: string, type: Supported): Promise<ProcessedImage> {
    return processImage(path, type, { ...this.options, signal: this.stop.signal });
  }

  readMetadata(path: string, _type: Supported): Promise<EmbeddedMetadata> {
    return readEmbeddedMetadata(path);
  }

  /**
   * Stops the helpers decoding holds: WebAssembly decode workers still running (HEIC, JPEG XL)
   * are terminated and their callers, like any later HEIC or JPEG XL decode, get a
   * CorruptImageError. RAW previews are read by AEX's own TIFF walk: there is no exiftool
   * process to end.
   */
  async close(): Promise<void> {
    this.stop.abort();
  }
}
