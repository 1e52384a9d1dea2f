import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import type { Role } from '../src/auth/principal.ts';

/** Algorithms a test issuer can sign with. */
export type TestIssuerAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

interface SigningKey {
  kid: string;
  alg: TestIssuerAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** An OIDC issuer for tests: real keys, real JWKS and discovery documents over real HTTP. */
export interface TestIssuer {
  /** The `iss` of its tokens (and the base of its discovery document). */
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  /** Signs `claims` over defaults (iss, aud, sub, iat, nbf, exp in 5 min); `undefined` drops one. */
  sign(claims?: JWTPayload, options?: { alg?: TestIssuerAlgorithm; kid?: string }): Promise<string>;
  /** A token whose `realm_access.roles` holds `role` (none for null). */
  tokenFor(role: Role | null, claims?: JWTPayload): Promise<string>;
  /** The public JWK of the current key for `alg`. */
  publicJwk(alg?: TestIssuerAlgorithm): JWK;
  /** Replaces every key with a new one (new `kid`s); the old ones leave the JWKS. */
  rotate(): Promise<void>;
  /** JWKS requests served so far. */
  readonly jwksRequests: number;
  /** Discovery document requests served so far. */
  readonly discoveryRequests: number;
  /** Makes the discovery document name this issuer instead (a misconfigured or hostile one). */
  setDiscoveredIssuer(issuer: string | null): void;
  /** Makes the JWKS and discovery answer 503 (an outage) or serve again. */
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

async function newKey(alg: TestIssuerAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${crypto.randomUUID()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** Starts a test issuer on a free loopback port, with one key per algorithm in `algorithms`. */
export async function startTestIssuer(
  options: { algorithms?: TestIssuerAlgorithm[]; audience?: string } = {},
): Promise<TestIssuer> {
  const algorithms = options.algorithms ?? ['ES256'];
  const audience = options.audience ?? 'aex';
  let keys = await Promise.all(algorithms.map(newKey));
  let jwksRequests = 0;
  let discoveryRequests = 0;
  let discoveredIssuer: string | null = null;
  let down = false;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (down) {
      res.writeHead(503).end('down for the test');
      return;
    }
    if (req.url === '/.well-known/jwks.json') {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
      return;
    }
    if (req.url === '/.well-known/openid-configuration') {
      discoveryRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      const named = discoveredIssuer ?? issuer;
      res.end(JSON.stringify({ issuer: named, jwks_uri: `${issuer}/.well-known/jwks.json` }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyFor = (alg: TestIssuerAlgorithm) => {
    const key = keys.find((k) => k.alg === alg);
    if (!key)
      throw new Error(`this test issuer has no ${alg} key; start it with algorithms: ['${alg}']`);
    return key;
  };

  const issuerApi: TestIssuer = {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    audience,
    async sign(claims = {}, signOptions = {}) {
      const key = keyFor(signOptions.alg ?? (algorithms[0] as TestIssuerAlgorithm));
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: issuer,
        aud: audience,
        sub: 'test-user',
        iat: now,
        nbf: now,
        exp: now + 300,
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) {
        if (value === undefined) delete payload[name];
      }
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: signOptions.kid ?? key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    tokenFor(role, claims = {}) {
      return issuerApi.sign({
        sub: `test-${role ?? 'nobody'}`,
        name: `Test ${role ?? 'nobody'}`,
        realm_access: { roles: role ? [role] : [] },
        ...claims,
      });
    },
    publicJwk: (alg) => keyFor(alg ?? (algorithms[0] as TestIssuerAlgorithm)).publicJwk,
    async rotate() {
      keys = await Promise.all(algorithms.map(newKey));
    },
    get jwksRequests() {
      return jwksRequests;
    },
    get discoveryRequests() {
      return discoveryRequests;
    },
    setDiscoveredIssuer(value) {
      discoveredIssuer = value;
    },
    setDown(value) {
      down = value;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  return issuerApi;
}
