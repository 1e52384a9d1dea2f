import { startTestIssuer, type TestIssuer } from '@aex/shared/testing/oidc-issuer';

/**
 * A small OpenID Connect provider for the web login's tests, over real HTTP: discovery, an
 * authorize endpoint that signs the user in at once and redirects back with a code, a token
 * endpoint that checks the PKCE verifier against the challenge (RFC 7636 §4.6), a JWKS and an
 * end-session endpoint. Tokens are signed by a real key (the shared test issuer's).
 */
export interface TestOidcProvider {
  readonly issuer: string;
  /** The next authorize request is answered with this error instead of a code. */
  failNextAuthorize(error: string, description?: string): void;
  /** The next token answer is altered this way. */
  alterNextTokens(change: TokenChange): void;
  /** Access tokens issued so far. */
  readonly accessTokens: string[];
  /** Token endpoint requests refused so far, with the reason. */
  readonly refusals: string[];
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

/**
 * How the next token answer differs: `huge` is an access token of ~8 KB (many groups),
 * `too-huge` one of ~13 KB, which no longer fits in the session cookies.
 */
export type TokenChange = 'wrong-nonce' | 'wrong-audience' | 'no-id-token' | 'huge' | 'too-huge';

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  used: boolean;
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  );
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export async function startTestOidcProvider(options: {
  clientId: string;
  redirectUri: string;
  audience?: string;
  role?: string;
}): Promise<TestOidcProvider> {
  const signer: TestIssuer = await startTestIssuer({ algorithms: ['ES256'] });
  const codes = new Map<string, PendingCode>();
  const accessTokens: string[] = [];
  const refusals: string[] = [];
  let authorizeError: { error: string; description?: string } | undefined;
  let alter: TokenChange | undefined;
  let down = false;
  let issuer = '';
  const refuse = (reason: string, status = 400) => {
    refusals.push(reason);
    return Response.json({ error: 'invalid_grant', error_description: reason }, { status });
  };

  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      if (down) return new Response('down for the test', { status: 503 });
      const url = new URL(request.url);
      switch (url.pathname) {
        case '/.well-known/openid-configuration':
          return Response.json({
            issuer,
            authorization_endpoint: `${issuer}/authorize?tenant=t1`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: `${issuer}/jwks`,
            end_session_endpoint: `${issuer}/logout`,
            code_challenge_methods_supported: ['S256'],
            response_types_supported: ['code'],
            id_token_signing_alg_values_supported: ['ES256'],
          });
        case '/jwks':
          return Response.json({ keys: [signer.publicJwk()] });
        case '/authorize': {
          const q = url.searchParams;
          // Refused outright, as a real provider does: no redirect to an unknown URI.
          if (
            q.get('client_id') !== options.clientId ||
            q.get('redirect_uri') !== options.redirectUri
          ) {
            return new Response('unknown client or redirect_uri', { status: 400 });
          }
          const back = new URL(options.redirectUri);
          back.searchParams.set('state', q.get('state') ?? '');
          if (authorizeError) {
            back.searchParams.set('error', authorizeError.error);
            if (authorizeError.description) {
              back.searchParams.set('error_description', authorizeError.description);
            }
            authorizeError = undefined;
          } else if (
            q.get('response_type') !== 'code' ||
            q.get('code_challenge_method') !== 'S256' ||
            !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '') ||
            !(q.get('scope') ?? '').split(' ').includes('openid') ||
            !q.get('nonce')
          ) {
            back.searchParams.set('error', 'invalid_request');
          } else {
            const code = crypto.randomUUID();
            codes.set(code, {
              clientId: options.clientId,
              redirectUri: options.redirectUri,
              challenge: q.get('code_challenge') ?? '',
              nonce: q.get('nonce') ?? '',
              used: false,
            });
            back.searchParams.set('code', code);
          }
          return new Response(null, { status: 302, headers: { location: back.toString() } });
        }
        case '/token': {
          if (request.method !== 'POST') return new Response(null, { status: 405 });
          const form = new URLSearchParams(await request.text());
          const pending = codes.get(form.get('code') ?? '');
          if (form.get('grant_type') !== 'authorization_code') return refuse('grant_type');
          if (!pending) return refuse('unknown code');
          if (pending.used) return refuse('code used twice');
          pending.used = true;
          if (form.get('client_id') !== pending.clientId) return refuse('client_id');
          if (form.get('redirect_uri') !== pending.redirectUri) return refuse('redirect_uri');
          if ((await s256(form.get('code_verifier') ?? '')) !== pending.challenge) {
            return refuse('code_verifier does not match the code_challenge');
          }
          const change = alter;
          alter = undefined;
          const sub = 'user-42';
          const access = await signer.sign({
            iss: issuer,
            aud: change === 'wrong-audience' ? 'someone-else' : (options.audience ?? 'aex'),
            sub,
            name: 'Ada Lovelace',
            realm_access: { roles: [options.role ?? 'editor'] },
            ...(change === 'huge' || change === 'too-huge'
              ? {
                  groups: Array.from(
                    { length: change === 'huge' ? 300 : 560 },
                    (_, i) => `group-number-${i}`,
                  ),
                }
              : {}),
          });
          const id = await signer.sign({
            iss: issuer,
            aud: options.clientId,
            sub,
            nonce: change === 'wrong-nonce' ? 'not-the-nonce' : pending.nonce,
          });
          accessTokens.push(access);
          return Response.json(
            {
              access_token: access,
              ...(change === 'no-id-token' ? {} : { id_token: id }),
              token_type: 'Bearer',
              expires_in: 300,
            },
            { headers: { 'cache-control': 'no-store' } },
          );
        }
        case '/logout':
          return new Response('signed out at the provider');
        default:
          return new Response(null, { status: 404 });
      }
    },
  });
  issuer = `http://127.0.0.1:${server.port}`;
  return {
    issuer,
    failNextAuthorize(error, description) {
      authorizeError = { error, description };
    },
    alterNextTokens(change) {
      alter = change;
    },
    accessTokens,
    refusals,
    setDown(value) {
      down = value;
    },
    async stop() {
      await server.stop(true);
      await signer.stop();
    },
  };
}
