import { derivedKey, type ImageDeleted, originalKey } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { JobOutcome } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import type { ImageRepository } from '../db/image-repository.ts';

/**
 * Removes the blobs of deleted images: the original and everything derived from it.
 *
 * Keys are content-addressed (`originals/<sha256[0:2]>/<sha256>`, `derived/<sha256>/…`), and
 * sha256 is unique among images, so the blobs of a sha256 belong to at most one row. Once that
 * row is deleted nobody else can be using them, with one exception in time: the same bytes
 * uploaded again after the delete make a new row with the same keys. So the removal first
 * looks for a live image with that sha256 and leaves the blobs alone when there is one.
 *
 * Deletion runs twice by design: right after the commit (so a DELETE answers with the blobs
 * already gone), and from core's own consumer of `aex.image.deleted`, which the outbox
 * publishes from the same transaction as the row's deletion. A crash or a blob-store outage
 * between the commit and the removal is therefore retried by the bus with backoff until it
 * succeeds (or is dead-lettered for an operator): no blob is orphaned for good. Deleting a
 * missing blob is not an error, so both runs, and redeliveries, are idempotent.
 *
 * Left open: an upload of the same bytes that writes its blobs in the milliseconds between
 * this check and the deletes loses them (ingest writes blobs before its row). Closing that
 * needs ingest and removal to share a per-sha256 lock (e.g. `pg_advisory_xact_lock`).
 */
export class ImageBlobRemover {
  constructor(
    private readonly deps: {
      images: Pick<ImageRepository, 'findBySha256'>;
      blobs: BlobStore;
      log: Logger;
    },
  ) {}

  /** Deletes the blobs of `sha256` unless an image with those bytes exists (`in_use`). */
  async remove(sha256: string): Promise<'removed' | 'in_use'> {
    const { images, blobs } = this.deps;
    if (await images.findBySha256(sha256)) return 'in_use';
    const keys = new Set([
      originalKey(sha256),
      derivedKey(sha256, 'thumb'),
      derivedKey(sha256, 'preview'),
    ]);
    // Variants added later live under the same folder: listing it finds them too.
    const thumb = derivedKey(sha256, 'thumb');
    for await (const info of blobs.list(thumb.slice(0, thumb.lastIndexOf('/') + 1))) {
      keys.add(info.key);
    }
    await Promise.all([...keys].map((key) => blobs.delete(key)));
    return 'removed';
  }

  /**
   * The removal right after a delete committed. Failures are only logged: the consumer of
   * `aex.image.deleted` tries again.
   */
  async removeAfterCommit(sha256s: string[]): Promise<void> {
    await Promise.all(
      sha256s.map(async (sha256) => {
        try {
          await this.remove(sha256);
        } catch (err) {
          this.deps.log.warn(
            { err, sha256 },
            'blobs of a deleted image not removed yet; the aex.image.deleted consumer will retry',
          );
        }
      }),
    );
  }
}

/**
 * Core's consumer of `aex.image.deleted`: removes the image's blobs, idempotently. A thrown
 * error (blob store down) is retried with backoff by `runConsumer`.
 */
export async function removeBlobsOfDeletedImage(
  remover: ImageBlobRemover,
  event: ImageDeleted,
): Promise<JobOutcome> {
  const result = await remover.remove(event.sha256);
  if (result === 'in_use') {
    return {
      status: 'skipped',
      reason: `the same bytes were uploaded again (sha256 ${event.sha256}); blobs kept`,
    };
  }
  return { status: 'success' };
}
