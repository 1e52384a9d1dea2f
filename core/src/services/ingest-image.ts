import {
  AexError,
  type AexEvent,
  derivedKey,
  type ImageIngested,
  makeEvent,
  newId,
  originalKey,
  type SidecarMetadata,
  Subjects,
} from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { Logger } from '@aex/shared/ports/log';
import pLimit, { type LimitFunction } from 'p-limit';
import type { ImageRepository } from '../db/image-repository.ts';
import type { ImageRow, NewImageRow } from '../db/schema.ts';
import {
  adoptLocalFile,
  type SpooledUpload,
  spoolUpload,
  UploadTooLargeError,
} from '../ingest/upload-spool.ts';
import {
  CorruptImageError,
  ImageTooLargeError,
  type MediaRepository,
  type ProcessedImage,
  type ResolvedMetadata,
  resolveMetadata,
  SUPPORTED_FORMATS_TEXT,
} from '../media/media-repository.ts';

export interface IngestDeps {
  images: ImageRepository;
  blobs: BlobStore;
  media: MediaRepository;
  /** Directory for uploads in progress. */
  spoolDir: string;
  maxUploadBytes: number;
  /** Decodes at once; each holds a decoded preview in memory, so this bounds memory. */
  decodeConcurrency: number;
  log: Logger;
  /** Called with the events of a committed image (the outbox relay publishes them). */
  onCommitted: (events: AexEvent[]) => void;
}

/** What a client may say about an upload besides its bytes. */
export interface IngestOptions {
  /** The file's name on the client, for display; already cleaned by the transport. */
  fileName?: string;
  /** The file's modification time on the client: taken-at when nothing else says. */
  fileModifiedAt?: Date;
  /** Metadata from the photo's sidecar file, read by the importer. */
  sidecar?: SidecarMetadata;
}

export interface IngestResult {
  image: ImageRow;
  /** False when the same bytes were already stored: the existing image is returned. */
  created: boolean;
}

/**
 * Ingestion: upload → sha256 → dedup → one decode → thumbnail, preview, thumbhash, EXIF →
 * content-addressed blobs → image row and `aex.image.ingested` in one transaction.
 * Whatever fails, no row, no blob and no event is left behind.
 */
export class IngestService {
  private readonly decodeLimit: LimitFunction;

  constructor(private readonly deps: IngestDeps) {
    this.decodeLimit = pLimit(Math.max(1, deps.decodeConcurrency));
  }

  /** Ingests a streamed body: `receive` then `ingestReceived`. */
  async ingest(
    body: ReadableStream<Uint8Array> | null,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.ingestReceived(await this.receive(body), options);
  }

  /**
   * The first half of `ingest`: streams the body into the spool, with its size and sha256.
   * For callers that need the sha256 before anything is stored (an Idempotency-Key's
   * request fingerprint); they pass the result to `ingestReceived` or `discard()` it.
   */
  async receive(body: ReadableStream<Uint8Array> | null): Promise<SpooledUpload> {
    const { spoolDir, maxUploadBytes } = this.deps;
    return spoolUpload(body, { dir: spoolDir, maxBytes: maxUploadBytes }).catch(mapTooLarge);
  }

  /**
   * Ingests a complete file already on local disk (a finished resumable upload) without
   * copying it into the spool. Takes the file over: it is moved into the blob store or
   * deleted, whatever the outcome.
   */
  async ingestFile(path: string, options: IngestOptions = {}): Promise<IngestResult> {
    const maxBytes = this.deps.maxUploadBytes;
    const upload = await adoptLocalFile(path, { maxBytes }).catch(mapTooLarge);
    return this.ingestReceived(upload, options);
  }

  /** Stores a received upload. Takes the file over: moved into the blob store or deleted. */
  async ingestReceived(upload: SpooledUpload, options: IngestOptions = {}): Promise<IngestResult> {
    const { deps } = this;
    try {
      if (upload.size === 0) {
        throw new AexError(
          'invalid_input',
          'The request body is empty: send the image file itself as the body.',
        );
      }
      const existing = await deps.images.findBySha256(upload.sha256);
      if (existing) return { image: existing, created: false };

      const type = await deps.media.detect(upload.path);
      if (!type.supported) {
        const what = type.detected
          ? `its bytes are ${type.detected}`
          : 'its bytes are not a known image format';
        throw new AexError(
          'unsupported_media_type',
          `The upload is not an image AEX can read: ${what}. Supported: ${SUPPORTED_FORMATS_TEXT}.`,
        );
      }
      const [processed, embedded] = await this.decodeLimit(() =>
        Promise.all([
          deps.media.process(upload.path, type),
          deps.media.readMetadata(upload.path, type),
        ]),
      ).catch(mapMediaError);
      const metadata = resolveMetadata(embedded, options);

      const sha256 = upload.sha256;
      const keys = {
        original: originalKey(sha256),
        thumb: derivedKey(sha256, 'thumb'),
        preview: derivedKey(sha256, 'preview'),
      };
      const id = newId();
      const event = makeEvent<ImageIngested>({
        type: Subjects.imageIngested,
        imageId: id,
        sha256,
        mime: type.mime,
        width: processed.width,
        height: processed.height,
        originalKey: keys.original,
        previewKey: keys.preview,
        thumbKey: keys.thumb,
      });
      try {
        // The three writes go out together: each waits on its own flush to disk (or its own S3
        // round trip), and one after another they kept an upload ~3× as long from its answer.
        // All of them settle before a failure is handled, so the clean-up never races a write
        // still in flight. The spooled file is not needed after this: the store may rename it
        // into place.
        await allOrFirstError([
          deps.blobs.putFile(keys.original, upload.path, { contentType: type.mime, move: true }),
          deps.blobs.put(keys.preview, processed.preview, { contentType: 'image/webp' }),
          deps.blobs.put(keys.thumb, processed.thumb, { contentType: 'image/webp' }),
        ]);
        const { inserted } = await deps.images.insertWithEvents(
          imageRow({ id, sha256, size: upload.size, type, keys, processed, metadata, options }),
          [event],
        );
        if (inserted) {
          deps.onCommitted([event]);
          return { image: inserted, created: true };
        }
        // A concurrent upload of the same bytes won the insert; its blobs are these same bytes.
        const image = await deps.images.findBySha256(sha256);
        if (!image) throw new Error(`image ${sha256} vanished right after it was stored`);
        return { image, created: false };
      } catch (err) {
        await this.removeOrphans(sha256, Object.values(keys));
        throw err;
      }
    } finally {
      await upload.discard();
    }
  }

  /** Deletes blobs written for an image whose row was never committed. */
  private async removeOrphans(sha256: string, keys: string[]): Promise<void> {
    try {
      if (await this.deps.images.findBySha256(sha256)) return;
      await Promise.all(keys.map((key) => this.deps.blobs.delete(key)));
    } catch (err) {
      this.deps.log.error({ err, sha256, keys }, 'could not remove blobs of a failed ingest');
    }
  }
}

/** The row of a new image: what the decode and the metadata said, in its columns. */
function imageRow(input: {
  id: string;
  sha256: string;
  size: number;
  type: { mime: string; format: string };
  keys: { original: string; thumb: string; preview: string };
  processed: ProcessedImage;
  metadata: ResolvedMetadata;
  options: IngestOptions;
}): NewImageRow {
  const { processed: p, metadata: m } = input;
  return {
    id: input.id,
    sha256: input.sha256,
    byteSize: input.size,
    mime: input.type.mime,
    format: input.type.format,
    width: p.width,
    height: p.height,
    // The file's own EXIF tag, for information: width, height and every derived image are
    // already upright, whatever transform the decoder applied (HEIF irot/imir included).
    orientation: m.orientation,
    thumbhash: p.thumbhash,
    dominantColor: p.dominantColor,
    phash: p.phash,
    takenAt: m.takenAt,
    takenAtOffset: m.takenAtOffset,
    takenAtSource: m.takenAtSource,
    cameraMake: m.make,
    cameraModel: m.model,
    lensModel: m.lens,
    exposureTime: m.exposureTime,
    fNumber: m.fNumber,
    iso: m.iso,
    focalLength: m.focalLength,
    focalLength35mm: m.focalLength35mm,
    latitude: m.location?.latitude ?? null,
    longitude: m.location?.longitude ?? null,
    altitude: m.location?.altitude ?? null,
    rating: m.rating,
    keywords: m.keywords,
    description: m.description,
    originalName: input.options.fileName ?? null,
    fileModifiedAt: input.options.fileModifiedAt ?? null,
    metadata: m.raw,
    originalKey: input.keys.original,
    thumbKey: input.keys.thumb,
    previewKey: input.keys.preview,
  };
}

function mapTooLarge(err: unknown): never {
  if (!(err instanceof UploadTooLargeError)) throw err;
  throw new AexError(
    'payload_too_large',
    `The upload is larger than ${err.limit} bytes (AEX_MAX_UPLOAD_BYTES). Send a smaller file or raise the limit.`,
  );
}

function mapMediaError(err: unknown): never {
  if (err instanceof ImageTooLargeError) {
    throw new AexError(
      'payload_too_large',
      `The image has ${err.pixels} pixels, more than the limit of ${err.limit} (AEX_MAX_PIXELS).`,
    );
  }
  if (err instanceof CorruptImageError) {
    throw new AexError(
      'invalid_input',
      `The image could not be decoded: ${err.message}. The file may be truncated or corrupt.`,
    );
  }
  throw err;
}

/** Waits for every promise to settle, then throws the first rejection, if any. */
async function allOrFirstError(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
