import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Problem, TokenResponse } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { LOGIN_FAILED } from '../identity/mod.ts';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const PASSWORD = 'correct horse battery staple';

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`built-in issuer refusals on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      /** A POST as an anonymous client; `body` a string is sent as is. */
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        h.request(path, {
          as: 'anonymous',
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
      const login = (email: string, password: string, headers: Record<string, string> = {}) =>
        post('/api/v1/auth/login', { email, password }, headers);
      const problemOf = async (res: Response, status: number, code: string) => {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const body = Problem.parse(await res.json());
        expect(body.code).toBe(code as Problem['code']);
        return body;
      };
      const createUser = async (email: string, role = 'reader') => {
        const res = await h.request('/api/v1/admin/users', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, role, password: PASSWORD }),
        });
        expect(res.status).toBe(201);
        return (await res.json()) as { id: string };
      };
      const median = (xs: number[]) =>
        [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const timed = async (fn: () => Promise<Response>) => {
        const started = performance.now();
        const res = await fn();
        await res.arrayBuffer();
        return performance.now() - started;
      };

      test('a wrong password, an unknown email and a disabled account get one answer', async () => {
        await createUser('known@aex.test');
        const disabled = await createUser('gone@aex.test');
        const patch = await h.request(`/api/v1/admin/users/${disabled.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ disabled: true }),
        });
        expect(patch.status).toBe(200);
        const answers = [
          await login('known@aex.test', 'not the password'),
          await login('nobody@aex.test', 'not the password'),
          await login('gone@aex.test', PASSWORD),
        ];
        const bodies = [];
        for (const res of answers) {
          expect(res.headers.get('www-authenticate')).toBeNull();
          bodies.push(await problemOf(res, 401, 'unauthenticated'));
        }
        expect(new Set(bodies.map((b) => b.detail))).toEqual(new Set([LOGIN_FAILED]));
      });

      test('an unknown email costs the time of a password check', async () => {
        // Without the dummy argon2 check an unknown email answers ~50x faster. Medians of 3,
        // bounds wide enough for a busy machine, narrow enough to catch a shortcut.
        await createUser('timing@aex.test');
        const known: number[] = [];
        const unknown: number[] = [];
        for (let i = 0; i < 3; i++) {
          known.push(await timed(() => login('timing@aex.test', `wrong ${i}`)));
          unknown.push(await timed(() => login(`ghost${i}@aex.test`, `wrong ${i}`)));
        }
        const ratio = median(unknown) / median(known);
        expect(ratio).toBeGreaterThan(0.25);
        expect(ratio).toBeLessThan(4);
      });

      test.each([
        ['an empty object', {}],
        ['no password', { email: 'a@b.c' }],
        ['no email', { password: 'x' }],
        ['a number as email', { email: 42, password: 'x' }],
        ['an array as password', { email: 'a@b.c', password: ['x'] }],
        ['a NUL in the email', { email: 'a@b\u0000.c', password: 'x' }],
        ['a header injection in the email', { email: 'a@b\r\nX-Injected: 1', password: 'x' }],
        ['an email of 300 characters', { email: `${'x'.repeat(290)}@b.c`, password: 'x' }],
        ['a password of 2000 characters', { email: 'a@b.c', password: 'p'.repeat(2000) }],
        ['an empty password', { email: 'a@b.c', password: '' }],
        ['an unknown field', { email: 'a@b.c', password: 'x', role: 'admin' }],
        ['null', 'null'],
        ['a list', '[]'],
        ['malformed JSON', '{"email":'],
      ])('login with %s is a 400 problem', async (_name, body) => {
        const res = await post('/api/v1/auth/login', body);
        await problemOf(res, 400, 'invalid_input');
      });

      test('login bodies that are not JSON or too big are refused', async () => {
        const plain = await h.request('/api/v1/auth/login', {
          as: 'anonymous',
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'email=a@b.c&password=x',
        });
        await problemOf(plain, 415, 'unsupported_media_type');
        const huge = await post('/api/v1/auth/login', {
          email: 'a@b.c',
          password: 'x',
          padding: 'y'.repeat(2 * 1024 * 1024),
        });
        await problemOf(huge, 413, 'payload_too_large');
      });

      test.each([
        ["' OR '1'='1' --", "' OR '1'='1"],
        ["admin@aex.test' --", 'x'],
        ['admin@aex.test; DROP TABLE users; --', 'x'],
        ['%', '%'],
        ['_@_', '\\'],
      ])('SQL-ish login %p is an ordinary 401', async (email, password) => {
        await problemOf(await login(email, password), 401, 'unauthenticated');
      });

      test.each([
        ['an empty object', {}],
        ['a number', { refreshToken: 123 }],
        ['a short token', { refreshToken: 'short' }],
        ['SQL', { refreshToken: "'; DROP TABLE refresh_tokens; --" }],
        ['a token and an extra field', { refreshToken: 'A'.repeat(43), userId: 'x' }],
        ['malformed JSON', '{"refreshToken"'],
      ])('refresh and logout with %s are 400 problems', async (_name, body) => {
        await problemOf(await post('/api/v1/auth/refresh', body), 400, 'invalid_input');
        await problemOf(await post('/api/v1/auth/logout', body), 400, 'invalid_input');
      });

      test('a well-formed refresh token never issued is a 401', async () => {
        await problemOf(
          await post('/api/v1/auth/refresh', { refreshToken: 'A'.repeat(43) }),
          401,
          'unauthenticated',
        );
        const huge = await post('/api/v1/auth/refresh', { refreshToken: 'A'.repeat(2 << 20) });
        await problemOf(huge, 413, 'payload_too_large');
      });

      test('five failures for an email, then waits of 1 s, 2 s …; a success resets', async () => {
        await createUser('victim@aex.test');
        for (let i = 0; i < 5; i++) {
          await problemOf(await login('victim@aex.test', `guess ${i}`), 401, 'unauthenticated');
        }
        const slowed = await login('victim@aex.test', 'guess 5');
        expect(slowed.headers.get('retry-after')).toBe('1');
        expect((await problemOf(slowed, 429, 'rate_limited')).detail).toContain('wait 1 s');
        // Even the right password waits: the limit is checked before the password.
        await problemOf(await login('victim@aex.test', PASSWORD), 429, 'rate_limited');
        await Bun.sleep(1100);
        const ok = await login('victim@aex.test', PASSWORD);
        expect(ok.status).toBe(200);
        TokenResponse.parse(await ok.json());
        // The success reset the count: five more failures before the next wait.
        for (let i = 0; i < 5; i++) {
          await problemOf(await login('VICTIM@aex.test', `again ${i}`), 401, 'unauthenticated');
        }
        expect((await login('victim@aex.test', 'x')).headers.get('retry-after')).toBe('1');
        await Bun.sleep(1100);
        await problemOf(await login('victim@aex.test', 'sixth'), 401, 'unauthenticated');
        const longer = await login('victim@aex.test', 'seventh');
        expect(longer.status).toBe(429);
        expect(longer.headers.get('retry-after')).toBe('2');
      });

      test('five failures from one address slow down that address, whatever the emails', async () => {
        const from = (ip: string) => ({ 'x-forwarded-for': ip });
        for (let i = 0; i < 5; i++) {
          const res = await login(`spray${i}@aex.test`, 'x', from('203.0.113.7'));
          await problemOf(res, 401, 'unauthenticated');
        }
        const slowed = await login('spray-new@aex.test', 'x', from('203.0.113.7, 10.0.0.1'));
        await problemOf(slowed, 429, 'rate_limited');
        expect(slowed.headers.get('retry-after')).toBe('1');
        // Another address, the same (fresh) email: not slowed down.
        await problemOf(
          await login('spray-new@aex.test', 'x', from('203.0.113.8')),
          401,
          'unauthenticated',
        );
        // A forwarded-for that is not an address counts for no address.
        await problemOf(
          await login('spray-other@aex.test', 'x', from('<script>, 203.0.113.7')),
          401,
          'unauthenticated',
        );
      });

      test('a burst of parallel guesses gets no more than five password checks', async () => {
        await createUser('burst@aex.test');
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) => login('burst@aex.test', `parallel ${i}`)),
        );
        const statuses = answers.map((r) => r.status).sort();
        expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
        expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      }, 30_000);

      test('after all that, core still answers and the admin still logs in', async () => {
        expect((await h.request('/healthz', { as: 'anonymous' })).status).toBe(200);
        const me = await h.request('/api/v1/auth/me');
        expect(me.status).toBe(200);
      });
    },
  );
}
