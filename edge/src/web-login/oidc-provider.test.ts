import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  CodeExchangeRefusedError,
  createOidcProvider,
  ProviderUnavailableError,
} from './oidc-provider.ts';

// A real HTTP server whose discovery document each test sets.
describe('OIDC provider client', () => {
  let server: ReturnType<typeof Bun.serve>;
  let base: string;
  let discovery: () => Response = () => new Response(null, { status: 404 });
  let token: () => Response = () => new Response(null, { status: 404 });
  let discoveries = 0;
  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path.endsWith('/.well-known/openid-configuration')) {
          discoveries++;
          return discovery();
        }
        if (path.endsWith('/token')) return token();
        return new Response(null, { status: 404 });
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop(true));

  const document = (issuer: string, extra: Record<string, unknown> = {}) => ({
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    ...extra,
  });

  test('discovery is checked: the exact issuer, usable endpoints, S256', async () => {
    const cases: Array<[Record<string, unknown> | string, string]> = [
      [document(`${base}/other`), 'names the issuer'],
      [{ ...document(`${base}/a`), token_endpoint: 'ftp://x' }, 'no usable token_endpoint'],
      [
        { ...document(`${base}/a`), authorization_endpoint: 42 },
        'no usable authorization_endpoint',
      ],
      [document(`${base}/a`, { code_challenge_methods_supported: ['plain'] }), 'S256'],
      ['not json', 'without a JSON document'],
    ];
    for (const [doc, says] of cases) {
      discovery = () => (typeof doc === 'string' ? new Response(doc) : Response.json(doc));
      const provider = createOidcProvider({ issuer: `${base}/a` });
      const err = await provider.metadata().catch((e: Error) => e);
      expect(err).toBeInstanceOf(ProviderUnavailableError);
      expect({ says, message: (err as Error).message.includes(says) }).toEqual({
        says,
        message: true,
      });
    }
  });

  test('a good document is kept; a failure is remembered a few seconds, not retried per login', async () => {
    discovery = () => Response.json(document(`${base}/b`));
    const provider = createOidcProvider({ issuer: `${base}/b` });
    const before = discoveries;
    await Promise.all([provider.metadata(), provider.metadata(), provider.metadata()]);
    expect(discoveries - before).toBe(1);
    discovery = () => new Response('down', { status: 503 });
    const failing = createOidcProvider({ issuer: `${base}/c` });
    const tries = discoveries;
    for (let i = 0; i < 5; i++) {
      expect(await failing.metadata().catch((e) => e)).toBeInstanceOf(ProviderUnavailableError);
    }
    expect(discoveries - tries).toBe(1);
  });

  test('the token endpoint: refusals, oversize and odd answers', async () => {
    discovery = () => Response.json(document(`${base}/d`));
    const provider = createOidcProvider({ issuer: `${base}/d` });
    const exchange = () =>
      provider
        .exchangeCode({ code: 'c', codeVerifier: 'v', redirectUri: 'http://x/cb', clientId: 'id' })
        .catch((e: Error) => e);
    token = () =>
      Response.json({ error: 'invalid_grant', error_description: 'used' }, { status: 400 });
    const refused = await exchange();
    expect(refused).toBeInstanceOf(CodeExchangeRefusedError);
    expect((refused as CodeExchangeRefusedError).error).toBe('invalid_grant');
    token = () => new Response('x'.repeat(300_000));
    expect(await exchange()).toBeInstanceOf(ProviderUnavailableError);
    token = () => Response.json({ access_token: 'a', id_token: 'i', token_type: 'mac' });
    expect(await exchange()).toBeInstanceOf(ProviderUnavailableError);
    token = () => new Response('oops', { status: 500 });
    expect(await exchange()).toBeInstanceOf(ProviderUnavailableError);
    token = () => Response.json({ access_token: 'a', id_token: 'i', token_type: 'bearer' });
    expect(await exchange()).toEqual({ access_token: 'a', id_token: 'i', token_type: 'bearer' });
  });
});
