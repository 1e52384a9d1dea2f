import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/**
 * Sends a request whose body is a Node stream. The SDK pipes the body without listening
 * for its errors, so a failing source would crash the process with an unhandled 'error'
 * event; here it aborts the request instead and the caller gets the source's own error.
 */
export async function sendWithBody<T>(
  body: Readable,
  send: (body: Readable, abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let bodyError: unknown;
  body.once('error', (error) => {
    bodyError = error;
    abort.abort(error);
  });
  try {
    return await send(body, abort.signal);
  } catch (error) {
    throw bodyError ?? error;
  } finally {
    body.destroy();
  }
}

export interface MultipartUpload {
  client: S3Client;
  bucket: string;
  key: string;
  contentType?: string;
  size: number;
  partSize: number;
  /** Parts in flight at once; 1 when the parts come from one stream in order. */
  concurrency: number;
  /** The body of the part that holds bytes [start, start + length); asked in part order. */
  partBody(start: number, length: number): Readable;
  /** Runs after the last part and before the object appears (e.g. to check the source ended). */
  beforeComplete?(): Promise<void>;
}

/**
 * Uploads one object in parts (CreateMultipartUpload, UploadPart…, Complete). The object
 * appears only at Complete; on any failure the upload is aborted, so no parts stay stored
 * (and billed) behind a key that never came to be.
 */
export async function uploadMultipart(upload: MultipartUpload): Promise<void> {
  const { client, bucket: Bucket, key: Key, size, partSize } = upload;
  const created = await client.send(
    new CreateMultipartUploadCommand({ Bucket, Key, ContentType: upload.contentType }),
  );
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error(`CreateMultipartUpload for ${Key} returned no UploadId`);
  try {
    const count = Math.ceil(size / partSize);
    const parts: CompletedPart[] = [];
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < count) {
        const index = next++;
        const start = index * partSize;
        const length = Math.min(partSize, size - start);
        try {
          const { ETag } = await sendWithBody(upload.partBody(start, length), (Body, abortSignal) =>
            client.send(
              new UploadPartCommand({
                Bucket,
                Key,
                UploadId,
                PartNumber: index + 1,
                Body,
                ContentLength: length,
              }),
              { abortSignal },
            ),
          );
          parts[index] = { ETag, PartNumber: index + 1 };
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    // Every worker settles before the abort below: S3 may otherwise keep a part that was
    // still in flight when the upload was aborted.
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(upload.concurrency, count) }, worker),
    );
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    await upload.beforeComplete?.();
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
    throw error;
  }
}
