import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { startTestIssuer, type TestIssuer } from '../../testing/oidc-issuer.ts';
import { freePort } from '../../testing/processes.ts';
import { KeySourceUnavailableError, TokenRejectedError } from './errors.ts';
import { createTokenVerifier } from './token-verifier.ts';

// Where the keys come from: a JWKS URL, OIDC discovery, or keys held in-process; key
// rotation, made-up `kid`s, and an issuer that is down.

let issuer: TestIssuer;
beforeEach(async () => {
  issuer = await startTestIssuer({ algorithms: ['ES256'] });
});
afterEach(() => issuer.stop());

const COOLDOWN_MS = 300;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (err: unknown) => err,
  );

describe('JWKS over HTTP', () => {
  test('an unknown kid re-reads the JWKS once (rotation works), then is refused', async () => {
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: issuer.jwksUrl,
      keyRefreshCooldownMs: COOLDOWN_MS,
    });
    await verifier.verify(await issuer.sign());
    await verifier.verify(await issuer.sign());
    expect(issuer.jwksRequests).toBe(1); // cached

    await issuer.rotate();
    await sleep(COOLDOWN_MS + 50);
    expect((await verifier.verify(await issuer.sign())).subject).toBe('test-user');
    expect(issuer.jwksRequests).toBe(2); // one re-read found the new key

    // A made-up kid right after: no re-read within the cooldown, refused.
    const madeUp = await issuer.sign({}, { kid: 'no-such-key' });
    const first = await failureOf(verifier.verify(madeUp));
    expect(first).toBeInstanceOf(TokenRejectedError);
    expect((first as TokenRejectedError).reason).toBe('unknown-key');
    expect(issuer.jwksRequests).toBe(2);

    // After the cooldown: exactly one re-read, still refused.
    await sleep(COOLDOWN_MS + 50);
    const again = await failureOf(verifier.verify(madeUp));
    expect((again as TokenRejectedError).reason).toBe('unknown-key');
    expect(issuer.jwksRequests).toBe(3);
  });

  test('a JWKS server that is down is "unavailable", not an invalid token', async () => {
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: issuer.jwksUrl,
    });
    issuer.setDown(true);
    const err = await failureOf(verifier.verify(await issuer.sign()));
    expect(err).toBeInstanceOf(KeySourceUnavailableError);
    expect((err as Error).message).toContain(issuer.jwksUrl);

    issuer.setDown(false);
    expect((await verifier.verify(await issuer.sign())).subject).toBe('test-user');
  });

  test('a JWKS URL nobody listens on is "unavailable"', async () => {
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: `http://127.0.0.1:${await freePort()}/jwks.json`,
    });
    const err = await failureOf(verifier.verify(await issuer.sign()));
    expect(err).toBeInstanceOf(KeySourceUnavailableError);
    expect(err).not.toBeInstanceOf(TokenRejectedError);
  });
});

describe('OIDC discovery', () => {
  test('the jwks_uri is discovered on the first token, once', async () => {
    const verifier = createTokenVerifier({ issuer: issuer.issuer, audience: 'aex' });
    expect(issuer.discoveryRequests).toBe(0); // lazily: a service starts while its issuer is down
    await verifier.verify(await issuer.sign());
    await verifier.verify(await issuer.sign());
    expect(issuer.discoveryRequests).toBe(1);
    expect(issuer.jwksRequests).toBe(1);
  });

  test('a discovery document naming another issuer is not trusted', async () => {
    issuer.setDiscoveredIssuer('https://evil.example');
    const verifier = createTokenVerifier({ issuer: issuer.issuer, audience: 'aex' });
    const err = await failureOf(verifier.verify(await issuer.sign()));
    expect(err).toBeInstanceOf(KeySourceUnavailableError);
    expect((err as Error).message).toContain('AEX_OIDC_ISSUER');
    expect(issuer.jwksRequests).toBe(0);
  });

  test('an issuer that is down is "unavailable", and tried again a little later', async () => {
    issuer.setDown(true);
    const verifier = createTokenVerifier({ issuer: issuer.issuer, audience: 'aex' });
    const token = await issuer.sign();
    expect(await failureOf(verifier.verify(token))).toBeInstanceOf(KeySourceUnavailableError);
    // The failure is remembered for a moment: no request per token during an outage.
    issuer.setDown(false);
    expect(await failureOf(verifier.verify(token))).toBeInstanceOf(KeySourceUnavailableError);
    expect(issuer.discoveryRequests).toBe(0);
  });
});

describe('keys held in-process', () => {
  test('verified without HTTP; re-read on an unknown kid at most once per cooldown', async () => {
    let reads = 0;
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      keys: async () => {
        reads++;
        return { keys: [issuer.publicJwk()] };
      },
      keyRefreshCooldownMs: COOLDOWN_MS,
    });
    expect((await verifier.verify(await issuer.tokenFor('admin'))).role).toBe('admin');
    expect(reads).toBe(1);
    expect(issuer.jwksRequests).toBe(0);

    await issuer.rotate();
    await sleep(COOLDOWN_MS + 50);
    expect((await verifier.verify(await issuer.tokenFor('reader'))).role).toBe('reader');
    expect(reads).toBe(2);

    const madeUp = await issuer.sign({}, { kid: 'no-such-key' });
    expect(((await failureOf(verifier.verify(madeUp))) as TokenRejectedError).reason).toBe(
      'unknown-key',
    );
    expect(reads).toBe(2);
  });

  test('a key store that fails is "unavailable"', async () => {
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      keys: async () => {
        throw new Error('database is down');
      },
    });
    const err = await failureOf(verifier.verify(await issuer.sign()));
    expect(err).toBeInstanceOf(KeySourceUnavailableError);
    expect((err as Error).message).toContain('database is down');
  });
});
