import { type BasicExif, readBasicExif } from './exif.ts';
import {
  type ImageProcessorOptions,
  type ProcessedImage,
  processImage,
} from './image-processor.ts';
import { detectMediaType, type MediaType } from './media-type.ts';

export { CorruptImageError, ImageTooLargeError } from './image-processor.ts';
export { SUPPORTED_FORMATS_TEXT } from './media-type.ts';

/**
 * Every media side effect ingestion needs (type sniffing, decoding, metadata), behind one
 * object the ingest service receives, so its logic never imports sharp or exifr.
 */
export class MediaRepository {
  constructor(private readonly options: ImageProcessorOptions) {}

  detect(path: string): Promise<MediaType> {
    return detectMediaType(path);
  }

  process(path: string): Promise<ProcessedImage> {
    return processImage(path, this.options);
  }

  readExif(path: string): Promise<BasicExif> {
    return readBasicExif(path);
  }
}
