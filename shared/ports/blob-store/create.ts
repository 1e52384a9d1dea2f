import { join } from 'node:path';
import type { BlobStoreEnv } from '../../src/config.ts';
import type { BlobStore } from './blob-store.ts';
import { createDiskBlobStore } from './disk.ts';
import { createS3BlobStore } from './s3.ts';

/**
 * The blob store the configuration asks for: the S3 bucket `S3_BUCKET` when it is set, else
 * the folder `<dataDir>/blobs` (embedded mode).
 */
export function createBlobStore(env: BlobStoreEnv, options: { dataDir: string }): BlobStore {
  if (!env.S3_BUCKET) return createDiskBlobStore({ root: join(options.dataDir, 'blobs') });
  return createS3BlobStore({
    bucket: env.S3_BUCKET,
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    prefix: env.S3_PREFIX,
  });
}
