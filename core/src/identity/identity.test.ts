import { afterEach, describe, expect, test } from 'bun:test';
import { AexError, ConfigError, type Principal } from '@aex/shared';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { postgresReachable, suiteName } from '@aex/shared/testing/servers';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { parseCoreConfig } from '../config.ts';
import { generatedPasswordBanner } from './first-admin.ts';
import { ACCESS_TOKEN_TTL_MS, KEY_PUBLISHED_AHEAD_MS, REFRESH_TOKEN_TTL_MS } from './mod.ts';
import { type IdentityUnderTest, startIdentity, TEST_ISSUER } from './testing.ts';

const STORES = [
  { name: 'PGlite', kind: 'embedded' as const, available: true },
  { name: 'Postgres', kind: 'servers' as const, available: postgresReachable },
];
const ADMIN = { email: 'root@aex.test', password: 'root password 123' };
const SYSTEM: Principal = { subject: 'test', role: 'admin', method: 'token' };

/** The code of the AexError `promise` rejects with, and its headers. */
async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: string; headers: Record<string, string> }> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof AexError)) throw new Error(`expected an AexError, got ${String(err)}`);
  return { code: err.code, headers: err.headers };
}

describe('configuration of the built-in issuer', () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      parseCoreConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  test('defaults: issuer http://localhost:8080, audience aex, no admin set', () => {
    const config = parseCoreConfig({});
    expect(config.AEX_PUBLIC_URL).toBe('http://localhost:8080');
    expect(config.AEX_OIDC_AUDIENCE).toBe('aex');
    expect(config.AEX_ADMIN_EMAIL).toBeUndefined();
    expect(config.AEX_ADMIN_PASSWORD).toBeUndefined();
  });

  test('a short admin password is a config error naming the variable, not the value', () => {
    const problems = problemsOf({ AEX_ADMIN_PASSWORD: 'hunter2hunt' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith('AEX_ADMIN_PASSWORD:');
    expect(problems[0]).toContain('at least 12');
    expect(problems.join()).not.toContain('hunter2');
  });

  test('a bad admin email and public URL are listed together', () => {
    const problems = problemsOf({
      AEX_ADMIN_EMAIL: 'root@local\u0000host',
      AEX_PUBLIC_URL: 'ftp://aex.example.org',
    });
    expect(new Set(problems.map((p) => p.split(':')[0]))).toEqual(
      new Set(['AEX_ADMIN_EMAIL', 'AEX_PUBLIC_URL']),
    );
  });
});

describe('the generated-password banner', () => {
  test('is a box holding the email and the password, saying it is shown once', () => {
    const text = generatedPasswordBanner('admin@localhost', 'Pw3xKq');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\+-+\+$/);
    expect(lines.at(-1)).toBe(lines[0]);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(text).toContain('admin@localhost');
    expect(text).toContain('Pw3xKq');
    expect(text).toContain('only this once');
  });
});

for (const store of STORES) {
  describe.skipIf(!store.available)(
    suiteName(`identity on ${store.name}`, store.available, 'Postgres'),
    () => {
      const started: IdentityUnderTest[] = [];
      const start = async (options: Parameters<typeof startIdentity>[1] = {}) => {
        const it = await startIdentity(store.kind, options);
        started.push(it);
        return it;
      };
      afterEach(async () => {
        for (const it of started.splice(0)) await it.stop();
      });

      test('first start without a password: one is generated, printed once, and works', async () => {
        const it = await start();
        expect(it.announced).toHaveLength(1);
        const banner = it.announced[0] ?? '';
        expect(banner).toContain('admin@localhost');
        const password = /password: +(\S+)/.exec(banner)?.[1] ?? '';
        expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
        const tokens = await it.identity.login.login({ email: 'admin@localhost', password }, null);
        expect(tokens.tokenType).toBe('Bearer');
        // A restart (or a second replica) prints nothing and keeps the password.
        const again = await it.restart();
        expect(again.announced).toHaveLength(0);
        await again.identity.login.login({ email: 'admin@localhost', password }, null);
        expect(await again.identity.users.list()).toHaveLength(1);
      });

      test('the log says why a login failed, never a password, never the generated one', async () => {
        const log = capturingLogger();
        const it = await start({ log });
        const password = /password: +(\S+)/.exec(it.announced[0] ?? '')?.[1] ?? '';
        const refuse = (email: string, pw: string) =>
          refusal(it.identity.login.login({ email, password: pw }, '192.0.2.1', log));
        await refuse('nobody@aex.test', 'typo-secret-1');
        await refuse('admin@localhost', 'typo-secret-2');
        await it.identity.login.login({ email: 'admin@localhost', password }, null, log);
        const said = log.lines.map((l) => [l.msg, l.fields.reason]);
        expect(said).toContainEqual(['login refused', 'unknown email']);
        expect(said).toContainEqual(['login refused', 'wrong password']);
        expect(said).toContainEqual(['logged in', undefined]);
        const everything = JSON.stringify(log.lines);
        for (const secret of [password, 'typo-secret-1', 'typo-secret-2']) {
          expect(everything).not.toContain(secret);
        }
      });

      test('AEX_ADMIN_EMAIL alone: the generated password is printed for that email', async () => {
        const it = await start({ admin: { email: 'boss@aex.test' } });
        expect(it.announced[0]).toContain('boss@aex.test');
        const [user] = await it.identity.users.list();
        expect(user).toMatchObject({ email: 'boss@aex.test', role: 'admin', createdBy: 'system' });
      });

      test('AEX_ADMIN_PASSWORD: nothing printed; later values do not reset it', async () => {
        const it = await start({ admin: ADMIN });
        expect(it.announced).toEqual([]);
        await it.identity.login.login(ADMIN, null);
        const again = await it.restart({ admin: { ...ADMIN, password: 'another password 456' } });
        await again.identity.login.login(ADMIN, null);
        expect(
          await refusal(
            again.identity.login.login({ ...ADMIN, password: 'another password 456' }, null),
          ),
        ).toMatchObject({ code: 'unauthenticated' });
      });

      test('rotation: published ahead, then signing; the old key published until its tokens expire', async () => {
        const it = await start({ admin: ADMIN });
        const { issuer } = it.identity;
        const kids = async () => (await issuer.jwks()).keys.map((k) => k.kid);
        const verify = async (token: string) =>
          jwtVerify(token, createLocalJWKSet(await issuer.jwks()), {
            issuer: TEST_ISSUER,
            audience: 'aex',
            currentDate: it.clock.now(),
          });
        const old = (await it.identity.login.login(ADMIN, null)).accessToken;
        const oldKid = decodeProtectedHeader(old).kid;
        const newKid = await issuer.rotateSigningKey();
        expect(await kids()).toEqual([newKid, oldKid]);
        expect(
          decodeProtectedHeader(
            (await issuer.refresh((await it.identity.login.login(ADMIN, null)).refreshToken))
              .accessToken,
          ).kid,
        ).toBe(oldKid);

        it.clock.advance(KEY_PUBLISHED_AHEAD_MS);
        const fresh = (await it.identity.login.login(ADMIN, null)).accessToken;
        expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
        await verify(old);
        await verify(fresh);

        // The old key signed until the switch; its last tokens live 15 minutes more.
        it.clock.advance(ACCESS_TOKEN_TTL_MS - 1000);
        expect(await kids()).toEqual([newKid, oldKid]);
        it.clock.advance(2 * 60_000);
        expect(await kids()).toEqual([newKid]);
      });

      test('an immediate rotation signs with the new key at once', async () => {
        const it = await start({ admin: ADMIN });
        const before = (await it.identity.login.login(ADMIN, null)).accessToken;
        const kid = await it.identity.issuer.rotateSigningKey({ activateInMs: 0 });
        const after = (await it.identity.login.login(ADMIN, null)).accessToken;
        expect(decodeProtectedHeader(after).kid).toBe(kid);
        expect(decodeProtectedHeader(before).kid).not.toBe(kid);
        const keys = createLocalJWKSet(await it.identity.issuer.jwks());
        await jwtVerify(before, keys, { currentDate: it.clock.now() });
        await jwtVerify(after, keys, { currentDate: it.clock.now() });
      });

      test('a refresh token lasts 30 days, each rotation 30 days more', async () => {
        const it = await start({ admin: ADMIN });
        const first = await it.identity.login.login(ADMIN, null);
        it.clock.advance(REFRESH_TOKEN_TTL_MS - 60_000);
        const second = await it.identity.issuer.refresh(first.refreshToken);
        it.clock.advance(REFRESH_TOKEN_TTL_MS - 60_000);
        const third = await it.identity.issuer.refresh(second.refreshToken);
        it.clock.advance(REFRESH_TOKEN_TTL_MS + 1000);
        expect(await refusal(it.identity.issuer.refresh(third.refreshToken))).toMatchObject({
          code: 'unauthenticated',
        });
      });

      test('waits double after the fifth failure, up to 15 minutes, and are forgotten after 15 quiet minutes', async () => {
        const it = await start({ admin: ADMIN });
        const attempt = () =>
          it.identity.login.login(
            { email: ADMIN.email, password: 'wrong password' },
            '198.51.100.1',
          );
        for (let i = 0; i < 5; i++) {
          expect(await refusal(attempt())).toMatchObject({ code: 'unauthenticated' });
        }
        const waits: number[] = [];
        for (let i = 0; i < 12; i++) {
          const { code, headers } = await refusal(attempt());
          expect(code).toBe('rate_limited');
          const wait = Number(headers['retry-after']);
          waits.push(wait);
          // Just before the wait is over: still refused; then one real (wrong) attempt.
          it.clock.advance(wait * 1000 - 1);
          expect((await refusal(attempt())).code).toBe('rate_limited');
          it.clock.advance(1);
          expect((await refusal(attempt())).code).toBe('unauthenticated');
        }
        expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        // Waiting out the longest wait is not enough to be forgiven: one attempt, then a wait.
        it.clock.advance(900_000);
        expect((await refusal(attempt())).code).toBe('unauthenticated');
        expect((await refusal(attempt())).code).toBe('rate_limited');
        // 15 quiet minutes after the wait: forgotten.
        it.clock.advance(900_000 + 15 * 60_000);
        expect((await refusal(attempt())).code).toBe('unauthenticated');
        expect((await refusal(attempt())).code).toBe('unauthenticated');
        await it.identity.login.login(ADMIN, '198.51.100.1');
      }, 60_000);

      test('API keys: expiry, revocation, last use at most once a minute, role cap', async () => {
        const it = await start({ admin: ADMIN });
        const keys = it.identity.apiKeys;
        const expiresAt = new Date(it.clock.now().getTime() + 3600_000).toISOString();
        const created = await keys.create({ name: 'nightly', role: 'reader', expiresAt }, SYSTEM);
        const t0 = it.clock.now().toISOString();
        expect(await keys.verify(created.key)).toEqual({
          subject: `apikey:${created.id}`,
          role: 'reader',
          method: 'api-key',
          displayName: 'nightly',
        });
        const lastUsed = async () =>
          (await keys.list()).find((k) => k.id === created.id)?.lastUsedAt;
        expect(await lastUsed()).toBe(t0);
        it.clock.advance(30_000);
        await keys.verify(created.key);
        expect(await lastUsed()).toBe(t0);
        it.clock.advance(31_000);
        await keys.verify(created.key);
        expect(await lastUsed()).toBe(it.clock.now().toISOString());
        it.clock.advance(3600_000);
        expect(await keys.verify(created.key)).toBeNull();

        const other = await keys.create({ name: 'other', role: 'editor' }, SYSTEM);
        await keys.revoke(other.id);
        expect(await keys.verify(other.key)).toBeNull();
        expect(await keys.verify('aex_nonsense')).toBeNull();

        const editor: Principal = { subject: 'someone', role: 'editor', method: 'token' };
        expect(
          await refusal(keys.create({ name: 'escalate', role: 'admin' }, editor)),
        ).toMatchObject({
          code: 'forbidden',
        });
        expect((await keys.create({ name: 'equal', role: 'editor' }, editor)).role).toBe('editor');
      });
    },
  );
}
