import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTokenVerifier, TokenRejectedError } from '@aex/shared/ports/identity/mod';
import { AUDIENCE, type StandInCore, startStandInCore } from './stand-in-core.ts';

const PUBLIC_SHA = 'a'.repeat(64);
const OTHER_SHA = 'b'.repeat(64);

describe('stand-in core', () => {
  let core: StandInCore;
  let internal: StandInCore;
  beforeAll(async () => {
    core = await startStandInCore({
      shas: new Set([PUBLIC_SHA]),
      visibility: 'public',
      tokenSeconds: 60,
    });
    internal = await startStandInCore({
      shas: new Set([PUBLIC_SHA]),
      visibility: 'internal',
      tokenSeconds: 60,
    });
  });
  afterAll(async () => {
    await core.stop();
    await internal.stop();
  });

  test('its token passes the verifier the edge uses, through discovery and JWKS', async () => {
    const verifier = createTokenVerifier({ issuer: core.url, audience: AUDIENCE });
    const principal = await verifier.verify(core.token);
    expect(principal).toMatchObject({ subject: 'bench-reader', role: 'reader', method: 'token' });
    expect(core.hits.discovery).toBe(1);
    expect(core.hits.jwks).toBeGreaterThanOrEqual(1);
  });

  test('its forged token is refused: same kid and claims, another key', async () => {
    const verifier = createTokenVerifier({
      issuer: core.url,
      audience: AUDIENCE,
      jwksUrl: core.jwksUrl,
    });
    await expect(verifier.verify(core.forgedToken)).rejects.toBeInstanceOf(TokenRejectedError);
  });

  test('a token of one stand-in is refused by the verifier of another (issuer and key differ)', async () => {
    const verifier = createTokenVerifier({
      issuer: internal.url,
      audience: AUDIENCE,
      jwksUrl: internal.jwksUrl,
    });
    await expect(verifier.verify(core.token)).rejects.toBeInstanceOf(TokenRejectedError);
  });

  test('by-sha says public only for its images, and only when they are public', async () => {
    const status = async (c: StandInCore, sha: string) =>
      (await fetch(`${c.url}/api/v1/public/images/by-sha/${sha}`)).status;
    expect(await status(core, PUBLIC_SHA)).toBe(200);
    expect(await status(core, OTHER_SHA)).toBe(404);
    expect(await status(internal, PUBLIC_SHA)).toBe(404);
    const other = await fetch(`${core.url}/api/v1/images`);
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
  });

  test('auth/me answers a reader', async () => {
    const me = await fetch(`${core.url}/api/v1/auth/me`);
    expect(await me.json()).toMatchObject({ role: 'reader' });
  });
});
