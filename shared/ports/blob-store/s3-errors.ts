import { BlobStoreUnavailableError } from './blob-store.ts';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Socket-level failures: nothing answered at the endpoint, or it stopped answering. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ConnectionRefused',
  'TimeoutError',
]);
const CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'CredentialsProviderError',
]);
const REGION = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed']);

/** Whether an SDK error says the object (not the bucket) does not exist. */
export function isNotFound(error: unknown): boolean {
  const { name, $metadata } = error as SdkError;
  return name === 'NoSuchKey' || (name !== 'NoSuchBucket' && $metadata?.httpStatusCode === 404);
}

/**
 * Turns SDK errors that mean "this bucket cannot be used at all" into a
 * `BlobStoreUnavailableError` that names the endpoint, the bucket and what to check; other
 * errors pass through as they are.
 */
export function describeS3Error(
  error: unknown,
  where: { bucket: string; endpoint: string },
): unknown {
  const { name = '', code = '' } = error as SdkError;
  const at = `S3 bucket "${where.bucket}" at ${where.endpoint}`;
  let advice: string | undefined;
  if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) {
    advice = `is not reachable (${code || name}): check S3_ENDPOINT and that the server is running and reachable from this host`;
  } else if (name === 'NoSuchBucket') {
    advice = 'does not exist: create the bucket or fix S3_BUCKET';
  } else if (CREDENTIALS.has(name) || (error as SdkError).$metadata?.httpStatusCode === 403) {
    advice = `refused our credentials (${name}): check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket policy`;
  } else if (REGION.has(name)) {
    advice = `is in another region (${name}): check S3_REGION`;
  }
  if (!advice) return error;
  return new BlobStoreUnavailableError(`${at} ${advice}`, { cause: error });
}
