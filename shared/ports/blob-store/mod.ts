/** The blob store port, its two adapters and the factory that picks one from the config. */
export {
  assertBlobKey,
  assertBlobPrefix,
  type BlobBody,
  type BlobInfo,
  BlobKeyError,
  BlobLengthError,
  type BlobObject,
  BlobRangeError,
  type BlobStore,
  BlobStoreUnavailableError,
  type GetOptions,
  isBlobKey,
  type PutFileOptions,
  type PutOptions,
} from './blob-store.ts';
export { createBlobStore } from './create.ts';
export { BlobKeyConflictError, createDiskBlobStore, type DiskBlobStoreOptions } from './disk.ts';
export { createS3BlobStore, type S3BlobStore, type S3BlobStoreOptions } from './s3.ts';
