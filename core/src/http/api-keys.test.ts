import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ApiKey, ApiKeyList, CreatedApiKey, Problem, TokenResponse, User } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import {
  ADAPTER_SETS,
  type Caller,
  type CoreHarness,
  startCoreHarness,
} from '../testing/core-harness.ts';

const KEYS = '/api/v1/admin/api-keys';
const KEY_FORMAT = /^aex_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/;

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`API keys on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      const call = (
        method: string,
        path: string,
        body?: unknown,
        init: { as?: Caller; headers?: Record<string, string> } = {},
      ) =>
        h.request(path, {
          as: init.as ?? 'admin',
          method,
          headers: {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...init.headers,
          },
          body:
            body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        });
      const problemOf = async (res: Response, status: number, code: string) => {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const body = Problem.parse(await res.json());
        expect(body.code).toBe(code as Problem['code']);
        return body;
      };
      const create = async (body: object, headers: Record<string, string> = {}) => {
        const res = await call('POST', KEYS, body, { headers });
        expect(res.status).toBe(201);
        expect(res.headers.get('cache-control')).toContain('no-store');
        return CreatedApiKey.parse(await res.json());
      };
      const meWith = (key: string) =>
        h.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${key}` } });
      const listed = async () => {
        const res = await call('GET', KEYS);
        expect(res.status).toBe(200);
        return { text: await res.clone().text(), list: ApiKeyList.parse(await res.json()) };
      };

      test('a key is shown once, listed without its secret, and proves its role', async () => {
        const adminSubject = (
          (await (await call('GET', '/api/v1/auth/me')).json()) as { subject: string }
        ).subject;
        const created = await create({ name: 'importer', role: 'editor' });
        expect(created.key).toMatch(KEY_FORMAT);
        expect(created.key).toStartWith(`aex_${created.id}_`);
        expect(created).toMatchObject({
          name: 'importer',
          role: 'editor',
          createdBy: adminSubject,
          lastUsedAt: null,
          expiresAt: null,
          revokedAt: null,
        });
        const secret = created.key.slice(`aex_${created.id}_`.length);
        const before = await listed();
        expect(before.text).not.toContain(secret);
        const item = before.list.items.find((k) => k.id === created.id);
        expect(item).toBeDefined();
        expect(item).not.toHaveProperty('key');

        for (const headers of [
          { authorization: `Bearer ${created.key}` },
          { 'x-api-key': created.key },
        ] as Array<Record<string, string>>) {
          const me = await h.request('/api/v1/auth/me', { headers });
          expect(me.status).toBe(200);
          expect(await me.json()).toEqual({
            subject: `apikey:${created.id}`,
            role: 'editor',
            method: 'api-key',
            displayName: 'importer',
          });
        }
        const used = (await listed()).list.items.find((k) => k.id === created.id);
        expect(used?.lastUsedAt).not.toBeNull();
        // An editor key does what editors do, and no more.
        expect((await meWith(created.key)).status).toBe(200);
        await problemOf(
          await call('GET', KEYS, undefined, { headers: { 'x-api-key': created.key } }),
          403,
          'forbidden',
        );
      });

      test('a revoked key stops working at once; revoking again changes nothing', async () => {
        const created = await create({ name: 'to revoke', role: 'reader' });
        expect((await meWith(created.key)).status).toBe(200);
        const res = await call('DELETE', `${KEYS}/${created.id}`);
        expect(res.status).toBe(200);
        const revoked = ApiKey.parse(await res.json());
        expect(revoked.revokedAt).not.toBeNull();
        await problemOf(await meWith(created.key), 401, 'unauthenticated');
        const again = ApiKey.parse(await (await call('DELETE', `${KEYS}/${created.id}`)).json());
        expect(again.revokedAt).toBe(revoked.revokedAt);
        const item = (await listed()).list.items.find((k) => k.id === created.id);
        expect(item?.revokedAt).toBe(revoked.revokedAt);
      });

      test('a key with an expiry works until then, and not after', async () => {
        const expiresAt = new Date(Date.now() + 1500).toISOString();
        const created = await create({ name: 'short-lived', role: 'reader', expiresAt });
        expect(created.expiresAt).toBe(expiresAt);
        expect((await meWith(created.key)).status).toBe(200);
        await Bun.sleep(1600);
        await problemOf(await meWith(created.key), 401, 'unauthenticated');
      });

      test('a key stops working when the admin who made it is disabled', async () => {
        const password = 'second admin password';
        const res = await call('POST', '/api/v1/admin/users', {
          email: 'keymaker@aex.test',
          role: 'admin',
          password,
        });
        const maker = User.parse(await res.json());
        const login = await h.request('/api/v1/auth/login', {
          as: 'anonymous',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'keymaker@aex.test', password }),
        });
        const { accessToken } = TokenResponse.parse(await login.json());
        const created = await create(
          { name: 'made by keymaker', role: 'reader' },
          { authorization: `Bearer ${accessToken}` },
        );
        expect(created.createdBy).toBe(maker.id);
        expect((await meWith(created.key)).status).toBe(200);
        const disable = await call('PATCH', `/api/v1/admin/users/${maker.id}`, { disabled: true });
        expect(disable.status).toBe(200);
        await problemOf(await meWith(created.key), 401, 'unauthenticated');
      });

      test('an admin key can make weaker keys', async () => {
        const admin = await create({ name: 'automation', role: 'admin' });
        const made = await create(
          { name: 'made by a key', role: 'reader' },
          { 'x-api-key': admin.key },
        );
        expect(made.createdBy).toBe(`apikey:${admin.id}`);
        expect((await meWith(made.key)).status).toBe(200);
      });

      test.each([
        ['a wrong secret', (k: CreatedApiKey) => `aex_${k.id}_${'A'.repeat(43)}`],
        ['an unknown id', () => `aex_${crypto.randomUUID()}_${'A'.repeat(43)}`],
        ['a truncated key', (k: CreatedApiKey) => k.key.slice(0, -1)],
        ['a key with a suffix', (k: CreatedApiKey) => `${k.key}x`],
        ['SQL after the prefix', () => "aex_' OR 1=1 --"],
        ['just the prefix', () => 'aex_'],
      ])('%s is a 401, never a principal', async (_name, forge) => {
        const real = await create({ name: 'genuine', role: 'admin' });
        const forged = forge(real);
        const res = await h.request('/api/v1/auth/me', { headers: { 'x-api-key': forged } });
        await problemOf(res, 401, 'unauthenticated');
      });

      test.each([
        ['reader', 403, 'forbidden'],
        ['editor', 403, 'forbidden'],
        ['anonymous', 401, 'unauthenticated'],
      ] as const)('%s is refused on every key route', async (as, status, code) => {
        const target = await create({ name: 'target', role: 'reader' });
        await problemOf(await call('GET', KEYS, undefined, { as }), status, code);
        await problemOf(
          await call('POST', KEYS, { name: 'x', role: 'reader' }, { as }),
          status,
          code,
        );
        await problemOf(
          await call('DELETE', `${KEYS}/${target.id}`, undefined, { as }),
          status,
          code,
        );
        expect((await meWith(target.key)).status).toBe(200);
      });

      test.each([
        ['no field', {}],
        ['no role', { name: 'x' }],
        ['no name', { role: 'reader' }],
        ['an unknown role', { name: 'x', role: 'owner' }],
        ['an empty name', { name: '   ', role: 'reader' }],
        ['a 201-character name', { name: 'n'.repeat(201), role: 'reader' }],
        ['a control character in the name', { name: 'a\u0007b', role: 'reader' }],
        ['an expiry that is not a time', { name: 'x', role: 'reader', expiresAt: 'tomorrow' }],
        ['an expiry as a number', { name: 'x', role: 'reader', expiresAt: 1893456000 }],
        ['an expiry in the past', { name: 'x', role: 'reader', expiresAt: '2001-01-01T00:00:00Z' }],
        ['a secret of its own', { name: 'x', role: 'reader', key: 'aex_mine' }],
        ['malformed JSON', '{"name":'],
      ])('creating a key with %s is a 400 problem', async (_name, body) => {
        await problemOf(await call('POST', KEYS, body), 400, 'invalid_input');
      });

      test('revoking: bad or unknown ids, and huge bodies, are refused', async () => {
        await problemOf(await call('DELETE', `${KEYS}/not-a-uuid`), 400, 'invalid_input');
        await problemOf(await call('DELETE', `${KEYS}/${crypto.randomUUID()}`), 404, 'not_found');
        const huge = await call('POST', KEYS, {
          name: 'x',
          role: 'reader',
          pad: 'p'.repeat(2 << 20),
        });
        await problemOf(huge, 413, 'payload_too_large');
        expect((await h.request('/healthz', { as: 'anonymous' })).status).toBe(200);
      });
    },
  );
}
