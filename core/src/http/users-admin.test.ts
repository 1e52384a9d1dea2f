import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Problem, TokenResponse, User, UserList } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { decodeJwt } from 'jose';
import {
  ADAPTER_SETS,
  type Caller,
  type CoreHarness,
  HARNESS_ADMIN,
  startCoreHarness,
} from '../testing/core-harness.ts';

const USERS = '/api/v1/admin/users';
const PASSWORD = 'a long enough password';

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`users admin on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      const call = (method: string, path: string, body?: unknown, as: Caller = 'admin') =>
        h.request(path, {
          as,
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body:
            body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        });
      const login = (email: string, password: string) =>
        h.request('/api/v1/auth/login', {
          as: 'anonymous',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        });
      const tokensOf = async (res: Response) => {
        expect(res.status).toBe(200);
        return TokenResponse.parse(await res.json());
      };
      const refresh = (refreshToken: string) =>
        h.request('/api/v1/auth/refresh', {
          as: 'anonymous',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken }),
        });
      const problemOf = async (res: Response, status: number, code: string) => {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const body = Problem.parse(await res.json());
        expect(body.code).toBe(code as Problem['code']);
        return body;
      };
      const create = async (email: string, role = 'reader', extra: object = {}) => {
        const res = await call('POST', USERS, { email, role, password: PASSWORD, ...extra });
        expect(res.status).toBe(201);
        const user = User.parse(await res.json());
        expect(res.headers.get('location')).toBe(`${USERS}/${user.id}`);
        return user;
      };
      const patch = (id: string, body: unknown, as: Caller = 'admin') =>
        call('PATCH', `${USERS}/${id}`, body, as);
      const adminId = async () => {
        const list = UserList.parse(await (await call('GET', USERS)).json());
        const admin = list.items.find((u) => u.email === HARNESS_ADMIN.email);
        if (!admin) throw new Error('the harness admin is missing');
        return admin.id;
      };

      test('admins list users, never with a password hash', async () => {
        const res = await call('GET', USERS);
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).not.toMatch(/argon2|passwordHash|password_hash/);
        const list = UserList.parse(JSON.parse(text));
        expect(list.items.find((u) => u.email === HARNESS_ADMIN.email)).toMatchObject({
          role: 'admin',
          disabled: false,
          createdBy: 'system',
        });
      });

      test('a created user logs in and carries the role in its token', async () => {
        const user = await create('Ann.Example@aex.test', 'editor', { displayName: 'Ann' });
        expect(user).toMatchObject({
          email: 'Ann.Example@aex.test',
          displayName: 'Ann',
          role: 'editor',
        });
        const tokens = await tokensOf(await login('ann.example@AEX.test', PASSWORD));
        expect(decodeJwt(tokens.accessToken)).toMatchObject({
          sub: user.id,
          email: 'Ann.Example@aex.test',
          name: 'Ann',
          realm_access: { roles: ['editor'] },
        });
        const noName = await create('plain@aex.test');
        expect(noName.displayName).toBe('plain@aex.test');
      });

      test('an email is taken whatever its letter case: 409', async () => {
        await create('dup@aex.test');
        const res = await call('POST', USERS, {
          email: 'DUP@aex.test',
          role: 'reader',
          password: PASSWORD,
        });
        expect((await problemOf(res, 409, 'conflict')).detail).toContain('PATCH');
      });

      test('changing the role shows in the next token; names keep what was sent', async () => {
        const user = await create('rolechange@aex.test');
        const hostileName = "Robert'); DROP TABLE users;-- 🙂";
        const res = await patch(user.id, { role: 'editor', displayName: hostileName });
        expect(res.status).toBe(200);
        const changed = User.parse(await res.json());
        expect(changed).toMatchObject({ role: 'editor', displayName: hostileName });
        expect(changed.updatedBy).not.toBe('system');
        const tokens = await tokensOf(await login('rolechange@aex.test', PASSWORD));
        expect(decodeJwt(tokens.accessToken).realm_access).toEqual({ roles: ['editor'] });
        expect((await call('GET', USERS)).status).toBe(200);
      });

      test('disabling a user ends its sessions and its logins; enabling lets it back', async () => {
        const user = await create('disable-me@aex.test');
        const session = await tokensOf(await login('disable-me@aex.test', PASSWORD));
        expect((await patch(user.id, { disabled: true })).status).toBe(200);
        await problemOf(await login('disable-me@aex.test', PASSWORD), 401, 'unauthenticated');
        await problemOf(await refresh(session.refreshToken), 401, 'unauthenticated');
        expect((await patch(user.id, { disabled: false })).status).toBe(200);
        await tokensOf(await login('disable-me@aex.test', PASSWORD));
      });

      test('a new password ends the sessions; the old password stops working', async () => {
        const user = await create('reset-me@aex.test');
        const session = await tokensOf(await login('reset-me@aex.test', PASSWORD));
        expect((await patch(user.id, { password: 'the brand new password' })).status).toBe(200);
        await problemOf(await refresh(session.refreshToken), 401, 'unauthenticated');
        await problemOf(await login('reset-me@aex.test', PASSWORD), 401, 'unauthenticated');
        await tokensOf(await login('reset-me@aex.test', 'the brand new password'));
      });

      test('the last enabled admin can be neither demoted nor disabled', async () => {
        const id = await adminId();
        const demote = await problemOf(await patch(id, { role: 'editor' }), 409, 'conflict');
        expect(demote.detail).toContain('last enabled admin');
        await problemOf(await patch(id, { disabled: true }), 409, 'conflict');
        // A second admin, disabled, does not count.
        const other = await create('admin2@aex.test', 'admin');
        expect((await patch(other.id, { disabled: true })).status).toBe(200);
        await problemOf(await patch(id, { role: 'reader' }), 409, 'conflict');
        // Enabled, it does: either can then be demoted, but not both.
        expect((await patch(other.id, { disabled: false })).status).toBe(200);
        expect((await patch(other.id, { role: 'editor' })).status).toBe(200);
        await problemOf(await patch(id, { role: 'editor' }), 409, 'conflict');
        // A renaming of the last admin is fine.
        expect((await patch(id, { displayName: 'Still admin' })).status).toBe(200);
      });

      test('two admins demoting each other at once: exactly one succeeds', async () => {
        const id = await adminId();
        const other = await create('admin3@aex.test', 'admin');
        const [a, b] = await Promise.all([
          patch(id, { role: 'editor' }),
          patch(other.id, { role: 'editor' }),
        ]);
        expect([a.status, b.status].sort()).toEqual([200, 409]);
        // Put the harness admin back (its token still says admin for its 15 minutes).
        if (a.status === 200) expect((await patch(id, { role: 'admin' })).status).toBe(200);
        const list = UserList.parse(await (await call('GET', USERS)).json());
        expect(list.items.filter((u) => u.role === 'admin' && !u.disabled).length).toBeGreaterThan(
          0,
        );
      });

      test.each([
        ['reader', 403, 'forbidden'],
        ['editor', 403, 'forbidden'],
        ['anonymous', 401, 'unauthenticated'],
      ] as const)('%s is refused on every users route', async (as, status, code) => {
        const id = await adminId();
        await problemOf(await call('GET', USERS, undefined, as), status, code);
        await problemOf(
          await call('POST', USERS, { email: 'x@aex.test', role: 'admin', password: PASSWORD }, as),
          status,
          code,
        );
        await problemOf(await patch(id, { role: 'reader' }, as), status, code);
        // Even a malformed body gets the same answer: nothing is learned about the route.
        await problemOf(await call('POST', USERS, '{"email":', as), status, code);
      });

      test.each([
        ['no field', {}],
        ['no password', { email: 'p@aex.test', role: 'reader' }],
        ['a short password', { email: 'p@aex.test', role: 'reader', password: 'elevenchars' }],
        ['an unknown role', { email: 'p@aex.test', role: 'superuser', password: PASSWORD }],
        ['a number as role', { email: 'p@aex.test', role: 5, password: PASSWORD }],
        ['a NUL in the email', { email: 'a@b\u0000.c', role: 'reader', password: PASSWORD }],
        [
          'a CRLF in the email',
          { email: 'a@b.c\r\nBcc: x@y.z', role: 'reader', password: PASSWORD },
        ],
        ['no @', { email: 'not-an-email', role: 'reader', password: PASSWORD }],
        ['a space', { email: 'a b@c.d', role: 'reader', password: PASSWORD }],
        ['markup', { email: '<script>@x.y', role: 'reader', password: PASSWORD }],
        ['two @', { email: 'a@b@c.d', role: 'reader', password: PASSWORD }],
        [
          'a 300-character email',
          { email: `${'a'.repeat(290)}@b.cd`, role: 'reader', password: PASSWORD },
        ],
        [
          'a control character in the name',
          { email: 'p@aex.test', role: 'reader', password: PASSWORD, displayName: 'a\u001bb' },
        ],
        [
          'an unknown field',
          { email: 'p@aex.test', role: 'reader', password: PASSWORD, admin: true },
        ],
        ['a list', '[]'],
        ['malformed JSON', '{"email": "p@aex.test",'],
      ])('creating a user with %s is a 400 problem', async (_name, body) => {
        await problemOf(await call('POST', USERS, body), 400, 'invalid_input');
      });

      test('a short password says how long it must be', async () => {
        const res = await call('POST', USERS, {
          email: 'p@aex.test',
          role: 'reader',
          password: 'short',
        });
        expect((await problemOf(res, 400, 'invalid_input')).detail).toContain('at least 12');
      });

      test('changing a user: bad ids, bodies and sizes are refused', async () => {
        const user = await create('patch-target@aex.test');
        await problemOf(await patch('not-a-uuid', { role: 'reader' }), 400, 'invalid_input');
        await problemOf(await patch(crypto.randomUUID(), { role: 'reader' }), 404, 'not_found');
        for (const body of [
          {},
          { disabled: 'yes' },
          { role: null },
          { role: 'root' },
          { password: 'short' },
          { email: 'new@aex.test' },
          { displayName: '' },
          { displayName: 'x'.repeat(201) },
        ]) {
          await problemOf(await patch(user.id, body), 400, 'invalid_input');
        }
        const huge = await patch(user.id, { displayName: 'y'.repeat(2 * 1024 * 1024) });
        await problemOf(huge, 413, 'payload_too_large');
        const unchanged = UserList.parse(await (await call('GET', USERS)).json()).items.find(
          (u) => u.id === user.id,
        );
        expect(unchanged).toMatchObject({ role: 'reader', displayName: 'patch-target@aex.test' });
      });
    },
  );
}
