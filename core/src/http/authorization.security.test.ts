import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { hasRole, Problem } from '@aex/shared';
import { startTestIssuer, type TestIssuer } from '@aex/shared/testing/oidc-issuer';
import { suiteName } from '@aex/shared/testing/servers';
import { base64url, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import {
  ADAPTER_SETS,
  type Caller,
  type CoreHarness,
  HARNESS_ADMIN,
  startCoreHarness,
} from '../testing/core-harness.ts';
import { eventually, resultPublisher } from '../testing/result-events.ts';
import { ROUTE_CASES } from '../testing/route-matrix-cases.ts';
import {
  freshImage,
  type ImageKind,
  type MatrixFixture,
} from '../testing/route-matrix-fixtures.ts';
import { ROUTE_POLICIES } from './authorization/route-policies.ts';

// Issue 5: "One test walks the matrix: every route × (anonymous, reader, editor, admin) ×
// (public image, internal image) → the expected status." Every route is one of
// ROUTE_POLICIES (core refuses to start with a route that is not), and every policy has a case.

const CALLERS: Caller[] = ['anonymous', 'reader', 'editor', 'admin'];
const KINDS: ImageKind[] = ['public', 'internal'];

test('every route policy has a matrix case, and every case a policy', () => {
  const policies = ROUTE_POLICIES.map((p) => `${p.method} ${p.path}`).sort();
  expect(Object.keys(ROUTE_CASES).sort()).toEqual(policies);
});

test("every route's access is the issue's: the policies say what the matrix expects", () => {
  for (const policy of ROUTE_POLICIES) {
    expect(`${policy.method} ${policy.path}: ${policy.access}`).toBe(
      `${policy.method} ${policy.path}: ${ROUTE_CASES[`${policy.method} ${policy.path}`]?.access}`,
    );
  }
});

/** What `caller` gets from the route of `key` for an image of `kind` (from the issue, not the policies). */
function expectedStatus(key: string, caller: Caller, kind: ImageKind): number {
  const route = ROUTE_CASES[key];
  if (!route) throw new Error(`no case for ${key}`);
  const special = route.expect?.(caller, kind);
  if (special !== undefined) return special;
  if (route.access === 'anyone') return route.ok;
  if (caller === 'anonymous') return 401;
  return hasRole({ subject: caller, role: caller, method: 'token' }, route.access) ? route.ok : 403;
}

const rows = Object.keys(ROUTE_CASES).flatMap((key) =>
  CALLERS.flatMap((caller) =>
    KINDS.map((kind) => ({ key, caller, kind, status: expectedStatus(key, caller, kind) })),
  ),
);

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`route × role × visibility on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let f: MatrixFixture;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        const image = {
          public: await freshImage(h, 'public'),
          internal: await freshImage(h, 'internal'),
        };
        const ocr = { id: 'ocr-matrix', version: '1' };
        const word = 'matrixword';
        const publish = resultPublisher(h);
        for (const kind of KINDS) await publish.text(image[kind].id, ocr, [`${word} ${kind}`]);
        // Both images found by text once their results are applied (the first version serves).
        const found = async () => {
          const res = await h.request(`/api/v1/search?text=${word}`);
          return (
            res.status === 200 && ((await res.json()) as { items: unknown[] }).items.length === 2
          );
        };
        expect(await eventually(found)).toBe(true);
        f = { image, word, ocr };
        // Every role's credential made before the clock starts.
        for (const role of ['reader', 'editor', 'admin'] as const) await h.credentials.token(role);
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      test.each(rows)(
        '$key as $caller, $kind image → $status',
        async ({ key, caller, kind, status }) => {
          const route = ROUTE_CASES[key];
          if (!route) throw new Error(`no case for ${key}`);
          const { path, init } = await route.request(h, f, kind);
          const res = await h.request(path, { ...init, as: caller });
          const text = await res.text();
          expect(`${res.status} ${text.slice(0, 300)}`).toStartWith(`${status} `);
          // HEAD answers carry no body to read the problem from.
          const hasBody = init?.method !== 'HEAD';
          if (status === 401) {
            expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
            if (hasBody) expect(Problem.parse(JSON.parse(text)).code).toBe('unauthenticated');
          }
          if (status === 403 && hasBody) {
            expect(Problem.parse(JSON.parse(text)).code).toBe('forbidden');
          }
          // Internal images never reach anonymous clients: not their ids, not their bytes' sums.
          if (caller === 'anonymous') {
            expect(text).not.toContain(f.image.internal.id);
            expect(text).not.toContain(f.image.internal.sha256);
          }
          // An answer that depends on who asks never goes into a shared cache.
          const policy = ROUTE_POLICIES.find((p) => `${p.method} ${p.path}` === key);
          if ((policy?.access !== 'anyone' || policy.personal) && res.status < 400) {
            expect(res.headers.get('cache-control')).toMatch(/\b(private|no-store)\b/);
            expect(res.headers.get('vary') ?? '').toContain('Authorization');
          }
          // Nothing about an internal image is ever in an answer a shared cache may keep.
          if (/\bpublic\b/.test(res.headers.get('cache-control') ?? '')) {
            expect(text).not.toContain(f.image.internal.id);
            expect(text).not.toContain(f.image.internal.sha256);
          }
        },
      );
    },
  );
}

// Issue 5, "Proof": forged, expired, wrong-audience, wrong-issuer, `alg: none` and
// HS256-with-public-key tokens rejected, here by core itself (it never trusts the edge).
describe('bad tokens are refused by core (external OIDC issuer)', () => {
  let issuer: TestIssuer;
  let h: CoreHarness;
  beforeAll(async () => {
    issuer = await startTestIssuer({ algorithms: ['RS256', 'ES256'] });
    h = await startCoreHarness('embedded', {}, { issuer });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await issuer?.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const admin = { sub: 'mallory', realm_access: { roles: ['admin'] } };
  const part = (v: object) => base64url.encode(JSON.stringify(v));
  const claims = () => ({ iss: issuer.issuer, aud: 'aex', exp: now() + 300, ...admin });

  const attacks: Array<[string, () => Promise<string>]> = [
    [
      'expired',
      () => issuer.sign({ ...admin, iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }),
    ],
    ['not yet valid', () => issuer.sign({ ...admin, nbf: now() + 3600, exp: now() + 7200 })],
    ['for another audience', () => issuer.sign({ ...admin, aud: 'another-app' })],
    ['from another issuer', () => issuer.sign({ ...admin, iss: 'https://evil.example' })],
    ['without an expiry', () => issuer.sign({ ...admin, exp: undefined })],
    ['alg: none', async () => `${part({ alg: 'none', typ: 'JWT' })}.${part(claims())}.`],
    [
      "HS256 signed with the issuer's RSA public key",
      async () => {
        const jwk = issuer.publicJwk('RS256');
        const pem = await exportSPKI(
          (await importJWK(jwk, 'RS256', { extractable: true })) as CryptoKey,
        );
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
          .sign(new TextEncoder().encode(pem));
      },
    ],
    [
      "signed by another key under the issuer's kid (forged)",
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'ES256', kid: issuer.publicJwk('ES256').kid })
          .sign(privateKey);
      },
    ],
    [
      "a reader's token with an admin's claims pasted in",
      async () => {
        const [head, , sig] = (await issuer.tokenFor('reader')).split('.');
        return `${head}.${part(claims())}.${sig}`;
      },
    ],
    ['garbage', async () => 'not.a.token'],
  ];

  test.each(attacks)('%s: 401 on every route, public ones included', async (_name, make) => {
    const token = await make();
    for (const path of [
      '/api/v1/images',
      '/api/v1/admin/users',
      '/api/v1/public/search?text=x',
      '/api/v1/auth/me',
    ]) {
      const res = await h.request(path, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="aex", error="invalid_token"');
      expect(Problem.parse(await res.json()).code).toBe('unauthenticated');
    }
  });

  test("the issuer's own tokens are accepted, its roles mapped", async () => {
    expect((await h.as('admin').request('/api/v1/admin/users')).status).toBe(200);
    expect((await h.as('reader').request('/api/v1/images')).status).toBe(200);
    expect((await h.as('reader').request('/api/v1/albums', { method: 'POST' })).status).toBe(403);
  });

  test('a valid token with no AEX role: public search only', async () => {
    const token = await issuer.tokenFor(null);
    const send = (path: string) =>
      h.request(path, { headers: { authorization: `Bearer ${token}` } });
    expect((await send('/api/v1/images')).status).toBe(403);
    // Anyone may search the public images (409 here: no OCR model has run yet).
    expect((await send('/api/v1/public/search?text=x')).status).toBe(409);
    expect(await (await send('/api/v1/auth/me')).json()).toMatchObject({
      subject: 'test-nobody',
      role: null,
    });
  });

  test("with an external issuer, the built-in issuer's tokens are refused", async () => {
    const login = await h.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: HARNESS_ADMIN.email, password: HARNESS_ADMIN.password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const res = await h.request('/api/v1/images', {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(res.status).toBe(401);
  });
});

describe('API keys and the built-in issuer at core', () => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await startCoreHarness('embedded');
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  test('a key works as Bearer and as X-Api-Key, with its own role', async () => {
    const reader = await h.credentials.apiKey('reader');
    for (const headers of [
      { authorization: `Bearer ${reader}` },
      { 'x-api-key': reader },
    ] as Record<string, string>[]) {
      expect((await h.request('/api/v1/images', { headers })).status).toBe(200);
      const upload = await h.request('/api/v1/images', {
        method: 'POST',
        headers,
        body: new Uint8Array(8),
      });
      expect(upload.status).toBe(403);
    }
  });

  test('a revoked key, a made-up one and a key with a changed secret are 401', async () => {
    const res = await h.request('/api/v1/admin/api-keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'short-lived', role: 'editor' }),
    });
    const { id, key } = (await res.json()) as { id: string; key: string };
    expect((await h.request('/api/v1/images', { headers: { 'x-api-key': key } })).status).toBe(200);
    const tampered = `${key.slice(0, -4)}${key.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await h.request(`/api/v1/admin/api-keys/${id}`, { method: 'DELETE' })).status).toBe(
      200,
    );
    for (const bad of [key, tampered, `aex_${'0'.repeat(32)}_${'1'.repeat(40)}`]) {
      const refused = await h.request('/api/v1/images', { headers: { 'x-api-key': bad } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    }
  });

  test("HS256 signed with the built-in issuer's published key is refused", async () => {
    const { keys } = (await (await h.request('/.well-known/jwks.json')).json()) as {
      keys: Array<{ kid: string }>;
    };
    const jwk = keys[0] as { kid: string };
    const discovery = (await (await h.request('/.well-known/openid-configuration')).json()) as {
      issuer: string;
    };
    const token = await new SignJWT({ realm_access: { roles: ['admin'] } })
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
      .setIssuer(discovery.issuer)
      .setAudience('aex')
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    const res = await h.request('/api/v1/admin/users', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
  });
});
