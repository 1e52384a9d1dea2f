import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  assertBlobKey,
  assertBlobPrefix,
  type BlobBody,
  type BlobInfo,
  type BlobObject,
  BlobRangeError,
  type BlobStore,
  type GetOptions,
  isBlobKey,
  type PutFileOptions,
  type PutOptions,
} from './blob-store.ts';
import { BodyReader, declaredLength } from './body.ts';
import { checkRange } from './range.ts';
import { createS3Client, resolveS3Options, type S3BlobStoreOptions } from './s3-client.ts';
import { describeS3Error, isNotFound } from './s3-errors.ts';
import { sendWithBody, uploadMultipart } from './s3-upload.ts';

export type { S3BlobStoreOptions };

/** The S3 blob store; `client` is there for what the port does not cover (presigned URLs). */
export interface S3BlobStore extends BlobStore {
  readonly kind: 's3';
  readonly client: S3Client;
}

/**
 * Creates a blob store over an S3 bucket (AWS, MinIO, any S3 API). Throws at once when the
 * options cannot work, rather than on the first request.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const settings = resolveS3Options(options);
  const { bucket, namespace, partSize, multipartThreshold, partConcurrency, where } = settings;
  const client = createS3Client(options);

  const objectKey = (key: string) => {
    assertBlobKey(key);
    return namespace + key;
  };

  /** Runs an SDK call; errors that mean "this bucket cannot be used" get a clear message. */
  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw describeS3Error(error, where);
    }
  }

  const putObject = (Key: string, Body: Uint8Array, contentType?: string) =>
    call(() =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key,
          Body,
          ContentLength: Body.byteLength,
          ContentType: contentType,
        }),
      ),
    );

  async function head(key: string): Promise<BlobInfo | null> {
    const Key = objectKey(key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        contentType: out.ContentType,
        lastModified: out.LastModified,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw describeS3Error(error, where);
    }
  }

  async function* listPages(prefix: string): AsyncGenerator<BlobInfo> {
    let token: string | undefined;
    do {
      const page = await call(() =>
        client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: namespace + prefix,
            ContinuationToken: token,
            MaxKeys: settings.listPageSize,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(namespace.length);
        // Objects written by other tools under keys this store cannot address are skipped.
        if (key === undefined || !isBlobKey(key)) continue;
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  return {
    kind: 's3',
    client,

    async put(key: string, body: BlobBody, options?: PutOptions): Promise<void> {
      const Key = objectKey(key);
      const length = declaredLength(key, body, options);
      const contentType = options?.contentType;
      if (body instanceof Uint8Array) {
        await putObject(Key, body, contentType);
        return;
      }
      const reader = new BodyReader(key, body, length);
      try {
        if (length <= partSize) {
          // Held whole before sending, so a source that fails midway never reaches the
          // server: s3rver, for one, keeps whatever part of an aborted PUT arrived.
          const bytes = await reader.collect(length);
          await reader.end();
          await putObject(Key, bytes, contentType);
          return;
        }
        // Larger: streamed part by part; nothing is visible before Complete.
        await uploadMultipart({
          client,
          bucket,
          key: Key,
          contentType,
          size: length,
          partSize,
          concurrency: 1,
          partBody: (_start, partLength) =>
            Readable.from(reader.take(partLength), { objectMode: false }),
          beforeComplete: () => reader.end(),
        });
      } catch (error) {
        await reader.cancel(error);
        throw reader.sourceError ?? describeS3Error(error, where);
      }
    },

    async putFile(key: string, path: string, options?: PutFileOptions) {
      const Key = objectKey(key);
      const { size } = await stat(path);
      const contentType = options?.contentType;
      if (size > multipartThreshold) {
        await call(() =>
          uploadMultipart({
            client,
            bucket,
            key: Key,
            contentType,
            size,
            partSize: Math.max(partSize, Math.ceil(size / 10_000)), // S3 allows 10,000 parts
            concurrency: partConcurrency,
            partBody: (start, length) => createReadStream(path, { start, end: start + length - 1 }),
          }),
        );
        return;
      }
      await call(() =>
        sendWithBody(createReadStream(path), (Body, abortSignal) =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key,
              Body,
              ContentLength: size,
              ContentType: contentType,
            }),
            { abortSignal },
          ),
        ),
      );
    },

    async get(key: string, options?: GetOptions): Promise<BlobObject | null> {
      const Key = objectKey(key);
      const range = options?.range;
      if (range) checkRange(range);
      let out: GetObjectCommandOutput;
      try {
        const Range = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
        out = await client.send(new GetObjectCommand({ Bucket: bucket, Key, Range }));
      } catch (error) {
        if (isNotFound(error)) return null;
        const { name, ActualObjectSize } = error as { name?: string; ActualObjectSize?: string };
        if (range && name === 'InvalidRange') {
          const size = ActualObjectSize ? Number(ActualObjectSize) : (await head(key))?.size;
          if (size === undefined) return null;
          throw new BlobRangeError(key, size, range);
        }
        throw describeS3Error(error, where);
      }
      const body = out.Body?.transformToWebStream() ?? emptyStream();
      const info = {
        key,
        size: out.ContentLength ?? 0,
        contentType: out.ContentType,
        lastModified: out.LastModified,
      };
      // 206 with `Content-Range: bytes start-end/size`; a server that ignored Range sent it all.
      const returned = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '');
      if (!range || !returned) return { ...info, body: body as ReadableStream<Uint8Array> };
      const [start, end, size] = returned.slice(1).map(Number) as [number, number, number];
      if (start >= size) {
        // s3rver answers a range over an empty object with 206 and `bytes 0-0/0`.
        await body?.cancel();
        throw new BlobRangeError(key, size, range);
      }
      return { ...info, size, range: { start, end }, body: body as ReadableStream<Uint8Array> };
    },

    head,

    async delete(key: string): Promise<void> {
      const Key = objectKey(key);
      await call(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key })));
    },

    list(prefix: string): AsyncIterable<BlobInfo> {
      assertBlobPrefix(prefix);
      return listPages(prefix);
    },

    async close(): Promise<void> {
      client.destroy();
    },
  };
}

const emptyStream = () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });
