import { createHash } from 'node:crypto';
import { AexError, newId, problemBody } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import {
  type IdempotencyRepository,
  IN_PROGRESS,
  type StoredResponse,
} from '../db/idempotency-repository.ts';

export type { StoredResponse } from '../db/idempotency-repository.ts';

/*
 * `Idempotency-Key`, after the IETF draft "The Idempotency-Key HTTP Header Field"
 * (draft-ietf-httpapi-idempotency-key-header-07):
 * - the key is a Structured Field String; AEX also takes it unquoted, as most clients
 *   (Stripe-style) send it. 1–255 printable ASCII characters.
 * - "Idempotency Fingerprint": the key alone does not identify the request; AEX pairs it
 *   with a fingerprint of method, path and what the request carries (for an upload, the
 *   body's sha256, which the spool computes anyway).
 * - "Responsibilities": a retry whose key and fingerprint match a completed request gets
 *   the stored result, "including failure" — AEX stores 2xx and 4xx answers (the same
 *   bytes fail the same way) but gives the key back after a 5xx, which a retry may fix.
 * - "Error Handling": a retry while the first request is still being processed → 409; a
 *   key reused for a different request → the draft says 422, which AEX's closed error set
 *   lacks, so it is a 409 `conflict` whose detail says which case it is.
 * - "Idempotency Key Validity and Expiry": entries expire after `ttlMs` (AEX_IDEMPOTENCY_TTL,
 *   24 h by default) and are swept. A replay carries `Idempotent-Replayed: true`.
 * Keys are global today; once core knows users they must be scoped by user.
 */

/** Header on a response replayed from storage. */
export const REPLAYED_HEADER = 'idempotent-replayed';

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,255}$/;

/**
 * The key of an `Idempotency-Key` header, or `undefined` without one. Throws a 400 for a
 * value that is not 1–255 printable ASCII characters (quotes of an sf-string excluded).
 */
export function parseIdempotencyKey(header: string | undefined | null): string | undefined {
  if (header === undefined || header === null) return undefined;
  let key = header.trim();
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(key);
  if (quoted?.[1] !== undefined) key = quoted[1].replace(/\\(["\\])/g, '$1');
  if (!PRINTABLE_ASCII.test(key)) {
    throw new AexError(
      'invalid_input',
      'Idempotency-Key must be 1 to 255 printable ASCII characters, e.g. a UUID.',
    );
  }
  return key;
}

/** The fingerprint of a request: sha256 of its method, path and identifying parts. */
export function requestFingerprint(method: string, path: string, ...parts: string[]): string {
  return createHash('sha256')
    .update([method.toUpperCase(), path, ...parts].join('\n'))
    .digest('hex');
}

/**
 * The answer to store for a failed request: an `AexError` as the problem+json it was
 * rendered as; null (give the key back) for anything else, which is a 5xx.
 */
export function storedProblem(err: unknown, requestId: string): StoredResponse | null {
  if (!(err instanceof AexError)) return null;
  return {
    status: err.status,
    headers: { ...err.headers, 'content-type': 'application/problem+json' },
    body: problemBody(err.code, err.detail, requestId),
  };
}

/** A stored answer as a response; a replay says so with `Idempotent-Replayed: true`. */
export function storedToResponse(stored: StoredResponse, replayed: boolean): Response {
  const headers = new Headers(stored.headers);
  if (replayed) headers.set(REPLAYED_HEADER, 'true');
  let body: string | null = null;
  if (typeof stored.body === 'string') body = stored.body;
  else if (stored.body !== null && stored.body !== undefined) {
    body = JSON.stringify(stored.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  return new Response(body, { status: stored.status, headers });
}

/** What an idempotent request does, in the order the service calls it. */
export interface IdempotentRequest {
  /** The request's fingerprint; may read the body (it runs only once the key is claimed or done). */
  fingerprint(): Promise<string>;
  /** Does the work and returns the answer to store and send. */
  execute(): Promise<StoredResponse>;
  /** The answer to store for a failure, or null to give the key back (5xx, unknown errors). */
  describeFailure(err: unknown): StoredResponse | null;
}

export interface IdempotencyOptions {
  /** How long answers are kept and replayed (AEX_IDEMPOTENCY_TTL). */
  ttlMs: number;
  /**
   * After this long an entry still in progress is taken to be abandoned (its process died)
   * and a retry may claim it. Longer than any upload should take.
   */
  staleAfterMs?: number;
  /** How often expired entries are deleted; default: a tenth of the TTL, within 1 s … 1 h. */
  sweepEveryMs?: number;
  now?: () => Date;
  log: Logger;
}

/** Runs requests carrying an `Idempotency-Key` at most once, and replays their answers. */
export class IdempotencyService {
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly now: () => Date;
  private readonly staleAfterMs: number;

  constructor(
    private readonly repo: IdempotencyRepository,
    private readonly options: IdempotencyOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.staleAfterMs = options.staleAfterMs ?? 15 * 60_000;
  }

  /**
   * Runs `request` under `key`: the first time it executes and its answer is stored; a retry
   * with the same fingerprint gets the stored answer (`replayed`), without executing again.
   * Throws a 409 `AexError` while the key is in progress elsewhere, or when it was used for
   * a different request.
   */
  async run(
    key: string,
    request: IdempotentRequest,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const now = this.now();
    const token = `pending:${newId()}`;
    const claim = await this.repo.claim(key, token, {
      now,
      expiredBefore: new Date(now.getTime() - this.options.ttlMs),
      staleBefore: new Date(now.getTime() - this.staleAfterMs),
    });
    if (!claim.claimed) {
      if (claim.row.status === IN_PROGRESS) {
        throw new AexError(
          'conflict',
          'A request with this Idempotency-Key is still in progress: retry in a moment to get its answer.',
          { headers: { 'retry-after': '1' } },
        );
      }
      if ((await request.fingerprint()) !== claim.row.fingerprint) {
        throw new AexError(
          'conflict',
          'This Idempotency-Key was already used for a different request: use a new key for a new request.',
        );
      }
      return { response: claim.row.response as StoredResponse, replayed: true };
    }
    let fingerprint: string | undefined;
    try {
      fingerprint = await request.fingerprint();
      const response = await request.execute();
      await this.store(key, token, fingerprint, response);
      return { response, replayed: false };
    } catch (err) {
      const failure = fingerprint === undefined ? null : request.describeFailure(err);
      if (failure && fingerprint !== undefined && failure.status < 500) {
        await this.store(key, token, fingerprint, failure).catch((e: unknown) =>
          this.options.log.error({ err: e, key }, 'could not store an idempotent failure'),
        );
      } else {
        await this.repo
          .release(key, token)
          .catch((e: unknown) =>
            this.options.log.error({ err: e, key }, 'could not release an idempotency key'),
          );
      }
      throw err;
    }
  }

  private async store(
    key: string,
    token: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<void> {
    if (!(await this.repo.complete(key, token, fingerprint, response))) {
      // Claimed by a retry that took this one for abandoned: its answer will be stored.
      this.options.log.warn({ key }, 'idempotency key was taken over before completing');
    }
  }

  /** Deletes expired entries; returns how many. */
  async sweep(): Promise<number> {
    return this.repo.deleteCreatedBefore(new Date(this.now().getTime() - this.options.ttlMs));
  }

  /** Sweeps periodically until `stop()`. */
  start(): void {
    if (this.timer) return;
    const every =
      this.options.sweepEveryMs ?? Math.min(3600_000, Math.max(1000, this.options.ttlMs / 10));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: unknown) =>
          this.options.log.error({ err }, 'could not sweep expired idempotency keys'),
        )
        .finally(() => {
          this.sweeping = undefined;
        });
    }, every);
    this.timer.unref?.();
  }

  /** Stops sweeping; resolves when a sweep under way is done (before the database closes). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}
