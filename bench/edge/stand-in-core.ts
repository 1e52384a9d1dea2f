import { freePort } from '@aex/shared/testing/processes';

/** The audience the edge is told to expect (AEX_OIDC_AUDIENCE). */
export const AUDIENCE = 'aex';

/** How the stand-in answers the edge's "is this image public?" question. */
export type Visibility = 'public' | 'internal';

export interface StandInCore {
  /** Both core (CORE_URL) and the OIDC issuer (AEX_OIDC_ISSUER). */
  url: string;
  jwksUrl: string;
  /** A valid ES256 access token of a reader, for every benchmark request. */
  token: string;
  /** Same header and claims, signed by another key under the same `kid`. */
  forgedToken: string;
  /** Requests the stand-in has answered, by route, to show how often the edge asked. */
  hits: Record<string, number>;
  stop(): Promise<void>;
}

const base64url = (bytes: Uint8Array | string) =>
  Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString(
    'base64url',
  );

/**
 * An ES256 JWS with WebCrypto alone: an ECDSA P-256 signature from `subtle.sign` is already
 * the raw r‖s that JWS wants (RFC 7518 §3.4). Written here, not with jose, because the
 * bench package does not declare jose and must not reach into another package's deps.
 */
async function signEs256(
  key: CryptoKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

const newEs256Key = () =>
  crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>;

/**
 * A tiny stand-in for core and an external OIDC provider, so the edge can run alone
 * (`aex serve edge`) and the benchmark measures the edge, not core: it serves the OIDC
 * discovery document and JWKS the edge verifies tokens with, answers the edge's
 * "is this image public?" lookup for the benchmark's images, and `/api/v1/auth/me`.
 */
export async function startStandInCore(options: {
  shas: ReadonlySet<string>;
  visibility: Visibility;
  /** Lifetime of the tokens: longer than the whole run. */
  tokenSeconds: number;
}): Promise<StandInCore> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const jwksUrl = `${url}/.well-known/jwks.json`;
  const kid = `bench-${crypto.randomUUID().slice(0, 8)}`;
  const signing = await newEs256Key();
  const jwk = await crypto.subtle.exportKey('jwk', signing.publicKey);
  const jwks = {
    keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' }],
  };
  const principal = { subject: 'bench-reader', role: 'reader', method: 'token' };
  const hits: Record<string, number> = {};
  const count = (route: string) => {
    hits[route] = (hits[route] ?? 0) + 1;
  };
  const BY_SHA = '/api/v1/public/images/by-sha/';

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === '/.well-known/openid-configuration') {
        count('discovery');
        return Response.json({
          issuer: url,
          jwks_uri: jwksUrl,
          id_token_signing_alg_values_supported: ['ES256'],
        });
      }
      if (path === '/.well-known/jwks.json') {
        count('jwks');
        return Response.json(jwks);
      }
      if (path.startsWith(BY_SHA)) {
        count('by-sha');
        const sha = path.slice(BY_SHA.length);
        if (options.visibility === 'public' && options.shas.has(sha)) {
          return Response.json({ sha256: sha, visibility: 'public' });
        }
        return problem(404, 'not_found', 'No public image with this sha256.');
      }
      if (path === '/api/v1/auth/me') {
        count('auth-me');
        return Response.json(principal);
      }
      count('other');
      return problem(404, 'not_found', `The stand-in core does not serve ${path}.`);
    },
  });

  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT', kid };
  const claims = {
    iss: url,
    aud: AUDIENCE,
    sub: principal.subject,
    iat: now,
    nbf: now,
    exp: now + options.tokenSeconds,
    jti: crypto.randomUUID(),
    email: 'bench@example.test',
    name: 'Benchmark reader',
    realm_access: { roles: ['reader'] },
  };
  const forger = await newEs256Key();
  return {
    url,
    jwksUrl,
    token: await signEs256(signing.privateKey, header, claims),
    forgedToken: await signEs256(forger.privateKey, header, claims),
    hits,
    async stop() {
      await server.stop(true);
    },
  };
}

function problem(status: number, code: string, detail: string): Response {
  return new Response(JSON.stringify({ code, title: code, status, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });
}
