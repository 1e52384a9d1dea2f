import { S3Client } from '@aws-sdk/client-s3';
import { assertBlobPrefix } from './blob-store.ts';

export interface S3BlobStoreOptions {
  bucket: string;
  /** An S3-compatible server (MinIO, s3rver); unset means AWS itself. */
  endpoint?: string;
  region: string;
  /** Unset means the SDK's own chain (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `host/bucket/key` URLs instead of `bucket.host/key`; MinIO and s3rver need it. */
  forcePathStyle: boolean;
  /** Namespaces every key inside the bucket (`tenant-a` → `tenant-a/<key>`). Default none. */
  prefix?: string;
  /** putFile sends files larger than this as a multipart upload. Default 64 MiB. */
  multipartThreshold?: number;
  /**
   * Multipart part size, at least S3's minimum of 5 MiB. A stream put no larger than this
   * is read into memory and sent in one request; a larger one goes up part by part, streamed.
   * Default 8 MiB.
   */
  partSize?: number;
  /** Parts of one file uploaded at once. Default 4. */
  partConcurrency?: number;
  /** Keys per ListObjectsV2 page; S3 caps it at 1000. Default 1000. */
  listPageSize?: number;
  /** Tries per request, the first included (SDK retries with backoff). Default 3. */
  maxAttempts?: number;
  /** Milliseconds to open a connection before giving up on it. Default 5000. */
  connectTimeoutMs?: number;
}

const MiB = 1024 * 1024;

/** The options with their defaults, checked: a store that cannot work fails when made. */
export function resolveS3Options(options: S3BlobStoreOptions) {
  const settings = {
    bucket: options.bucket,
    namespace: options.prefix ? options.prefix.replace(/\/?$/, '/') : '',
    partSize: options.partSize ?? 8 * MiB,
    multipartThreshold: options.multipartThreshold ?? 64 * MiB,
    partConcurrency: options.partConcurrency ?? 4,
    listPageSize: options.listPageSize ?? 1000,
    /** Named in errors, so a reader knows which configuration to check. */
    where: { bucket: options.bucket, endpoint: options.endpoint ?? `AWS S3 (${options.region})` },
  };
  const { partSize, listPageSize, partConcurrency, namespace } = settings;
  if (partSize < 5 * MiB) throw new RangeError('partSize: S3 refuses parts under 5 MiB');
  if (!(listPageSize >= 1 && listPageSize <= 1000)) throw new RangeError('listPageSize: 1 to 1000');
  if (!(partConcurrency >= 1)) throw new RangeError('partConcurrency: at least 1');
  if (Boolean(options.accessKeyId) !== Boolean(options.secretAccessKey)) {
    throw new TypeError('S3 credentials need both an access key id and a secret access key');
  }
  if (namespace) assertBlobPrefix(namespace);
  return settings;
}

/** The SDK client for the options, set up to work with any S3 API, not only AWS. */
export function createS3Client(options: S3BlobStoreOptions): S3Client {
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // The SDK's default (CRC32 on every request, streamed in aws-chunked framing) is not
    // understood by s3rver and some older S3 servers, which then store the framing too.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 5000 },
    // Every failure reaches the caller as an error; the SDK's console warnings only repeat it.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
}
