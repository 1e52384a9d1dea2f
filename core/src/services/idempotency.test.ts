import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { AexError } from '@aex/shared';
import { silentLogger } from '@aex/shared/ports/log';
import { postgresReachable, randomToken, suiteName } from '@aex/shared/testing/servers';
import { IdempotencyRepository } from '../db/idempotency-repository.ts';
import {
  createPgliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../db/testing.ts';
import {
  IdempotencyService,
  parseIdempotencyKey,
  requestFingerprint,
  type StoredResponse,
  storedProblem,
} from './idempotency.ts';

describe('parseIdempotencyKey', () => {
  test.each([
    ['abc', 'abc'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"with \\"quotes\\""', 'with "quotes"'],
    ['  padded  ', 'padded'],
    ['k'.repeat(255), 'k'.repeat(255)],
    ['aex-import-0123 ~!@#$%^&*()', 'aex-import-0123 ~!@#$%^&*()'],
  ])('%j → %j', (raw, key) => expect(parseIdempotencyKey(raw)).toBe(key));
  test('absent is undefined', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey(null)).toBeUndefined();
  });
  test.each(['', '   ', '""', 'k'.repeat(256), 'tab\there', 'ünïcode', 'nul\u0000', 'bell\u0007'])(
    'refuses %j',
    (raw) => expect(() => parseIdempotencyKey(raw)).toThrow(/Idempotency-Key/),
  );
});

const DATABASES = [
  { name: 'PGlite', available: true, create: createPgliteTestDatabase },
  { name: 'Postgres', available: postgresReachable, create: createPostgresTestDatabase },
];

const ok = (n: number): StoredResponse => ({
  status: 201,
  headers: { location: `/x/${n}` },
  body: { n },
});

for (const db of DATABASES) {
  describe.skipIf(!db.available)(
    suiteName(`IdempotencyService on ${db.name}`, db.available, 'Postgres'),
    () => {
      let database: TestDatabase;
      let repo: IdempotencyRepository;
      let clock = Date.parse('2025-01-01T00:00:00Z');
      let service: IdempotencyService;
      beforeAll(async () => {
        database = await db.create();
        repo = new IdempotencyRepository(database.database.db);
        service = new IdempotencyService(repo, {
          ttlMs: 60_000,
          staleAfterMs: 10_000,
          now: () => new Date(clock),
          log: silentLogger(),
        });
      }, 30_000);
      afterAll(async () => {
        await database?.drop();
      });

      const request = (fingerprint: string, execute: () => Promise<StoredResponse>) => ({
        fingerprint: async () => fingerprint,
        execute,
        describeFailure: (err: unknown) => storedProblem(err, 'req-1'),
      });

      test('executes once; a retry with the same fingerprint gets the stored answer', async () => {
        const key = randomToken();
        let runs = 0;
        const first = await service.run(
          key,
          request('fp', async () => ok(++runs)),
        );
        expect(first).toEqual({ response: ok(1), replayed: false });
        const again = await service.run(
          key,
          request('fp', async () => ok(++runs)),
        );
        expect(again).toEqual({ response: ok(1), replayed: true });
        expect(runs).toBe(1);
      });

      test('the same key for another request is a conflict, and runs nothing', async () => {
        const key = randomToken();
        await service.run(
          key,
          request('fp-a', async () => ok(1)),
        );
        let ran = false;
        const other = service.run(
          key,
          request('fp-b', async () => {
            ran = true;
            return ok(2);
          }),
        );
        await expect(other).rejects.toThrow(/different request/);
        expect(ran).toBe(false);
      });

      test('concurrent requests with one key: one works, the others get 409 "in progress"', async () => {
        const key = randomToken();
        let release = () => {};
        const gate = new Promise<void>((r) => {
          release = r;
        });
        let runs = 0;
        const slow = request('fp', async () => {
          runs++;
          await gate;
          return ok(runs);
        });
        const first = service.run(key, slow);
        await Bun.sleep(20);
        const others = await Promise.allSettled(
          Array.from({ length: 5 }, () => service.run(key, slow)),
        );
        for (const o of others) {
          expect(o.status).toBe('rejected');
          const err = (o as PromiseRejectedResult).reason as AexError;
          expect(err.code).toBe('conflict');
          expect(err.detail).toMatch(/in progress/);
          expect(err.headers['retry-after']).toBe('1');
        }
        release();
        expect((await first).replayed).toBe(false);
        expect(runs).toBe(1);
        expect((await service.run(key, slow)).replayed).toBe(true);
      });

      test('4xx failures are stored and replayed; 5xx and unknown errors give the key back', async () => {
        const refused = randomToken();
        const refuse = request('fp', async () => {
          throw new AexError('unsupported_media_type', 'not an image');
        });
        await expect(service.run(refused, refuse)).rejects.toThrow('not an image');
        const replay = await service.run(
          refused,
          request('fp', async () => ok(1)),
        );
        expect(replay.replayed).toBe(true);
        expect(replay.response.status).toBe(415);
        expect(replay.response.body).toMatchObject({
          code: 'unsupported_media_type',
          requestId: 'req-1',
        });

        for (const err of [new Error('db down'), new AexError('unavailable', 'later')]) {
          const key = randomToken();
          await expect(
            service.run(
              key,
              request('fp', async () => Promise.reject(err)),
            ),
          ).rejects.toBe(err);
          expect(await repo.find(key)).toBeNull();
          expect(
            await service.run(
              key,
              request('fp', async () => ok(7)),
            ),
          ).toEqual({
            response: ok(7),
            replayed: false,
          });
        }
      });

      test('a failure before the fingerprint is known gives the key back', async () => {
        const key = randomToken();
        const failing = {
          fingerprint: async () => {
            throw new AexError('payload_too_large', 'too big');
          },
          execute: async () => ok(1),
          describeFailure: (err: unknown) => storedProblem(err, 'r'),
        };
        await expect(service.run(key, failing)).rejects.toThrow('too big');
        expect(await repo.find(key)).toBeNull();
      });

      test('an abandoned claim is taken over after staleAfterMs; the loser cannot overwrite', async () => {
        const key = randomToken();
        await repo.claim(key, 'pending:dead', {
          now: new Date(clock),
          expiredBefore: new Date(0),
          staleBefore: new Date(0),
        });
        await expect(
          service.run(
            key,
            request('fp', async () => ok(1)),
          ),
        ).rejects.toThrow(/in progress/);
        clock += 10_001;
        expect(
          (
            await service.run(
              key,
              request('fp', async () => ok(2)),
            )
          ).response,
        ).toEqual(ok(2));
        expect(await repo.complete(key, 'pending:dead', 'fp', ok(3))).toBe(false);
        expect(
          (
            await service.run(
              key,
              request('fp', async () => ok(4)),
            )
          ).response,
        ).toEqual(ok(2));
      });

      test('entries expire after the TTL: a new request runs, and the sweep deletes them', async () => {
        const key = randomToken();
        await service.run(
          key,
          request('fp', async () => ok(1)),
        );
        clock += 60_001;
        // Expired: the same key may now name another request.
        expect(
          await service.run(
            key,
            request('other', async () => ok(2)),
          ),
        ).toEqual({
          response: ok(2),
          replayed: false,
        });
        const old = randomToken();
        await service.run(
          old,
          request('fp', async () => ok(3)),
        );
        clock += 60_001;
        expect(await service.sweep()).toBeGreaterThanOrEqual(2);
        expect(await repo.find(old)).toBeNull();
        expect(await repo.find(key)).toBeNull();
      });

      test('fingerprints differ by method, path and parts', () => {
        const a = requestFingerprint('POST', '/api/v1/images', 'abc');
        expect(a).toMatch(/^[0-9a-f]{64}$/);
        expect(requestFingerprint('post', '/api/v1/images', 'abc')).toBe(a);
        expect(requestFingerprint('POST', '/api/v1/uploads', 'abc')).not.toBe(a);
        expect(requestFingerprint('POST', '/api/v1/images', 'abd')).not.toBe(a);
      });
    },
  );
}
