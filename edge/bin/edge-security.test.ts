import { afterAll, beforeAll, describe, expect } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem, parseUrlSigningKey, signThumbnailUrl } from '@aex/shared';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { startTestIssuer, type TestIssuer } from '@aex/shared/testing/oidc-issuer';
import { freePort } from '@aex/shared/testing/processes';
import { type EdgeProcess, edgeRuntimes, startEdge } from '../testing/edge-process.ts';

// The edge's security from the same source on both runtimes: HMAC signatures (Web Crypto),
// ES256 token checks (jose over Web Crypto), the client address each server hands the
// handler (Bun's server, Deno's ServeHandlerInfo) for rate limits, and the headers.
const INTERNAL = '4'.repeat(64);
const KEY_HEX = 'c7'.repeat(32);
const BYTES = crypto.getRandomValues(new Uint8Array(3000));

describe.each(await edgeRuntimes())('edge security on %s', (runtime, { missing, it, title }) => {
  let dir: string;
  let edge: EdgeProcess;
  let core: ReturnType<typeof Bun.serve>;
  let issuer: TestIssuer;
  let coreRequests = 0;

  beforeAll(async () => {
    if (missing) return;
    dir = await mkdtemp(join(tmpdir(), `aex-edge-sec-${runtime}-`));
    const blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    await blobs.put(`derived/${INTERNAL}/thumb.webp`, BYTES, { contentType: 'image/webp' });
    issuer = await startTestIssuer();
    core = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(request) {
        coreRequests++;
        const path = new URL(request.url).pathname;
        if (path.startsWith('/api/v1/public/images/by-sha/'))
          return new Response(null, { status: 404 });
        return Response.json({ path });
      },
    });
    edge = await startEdge(runtime, await freePort(), {
      AEX_DATA_DIR: dir,
      CORE_URL: `http://127.0.0.1:${core.port}`,
      AEX_WEB_DIR: join(dir, 'no-web'),
      AEX_URL_SIGNING_KEY: KEY_HEX,
      AEX_OIDC_ISSUER: issuer.issuer,
      AEX_RATE_LIMIT: '1/h',
      AEX_RATE_BURST: '12',
    });
  }, 90_000);
  afterAll(async () => {
    if (missing) return;
    const code = await edge?.stop();
    await core?.stop(true);
    await issuer?.stop();
    await rm(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it(
    title('signed URLs, tokens and refusals; the limit ends with 429 and the process stays up'),
    async () => {
      const url = await signThumbnailUrl({
        sha256: INTERNAL,
        variant: 'thumb',
        key: parseUrlSigningKey(KEY_HEX),
      });
      const signed = await fetch(`${edge.url}${url}`);
      expect(signed.status).toBe(200);
      expect(signed.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
      expect(new Uint8Array(await signed.arrayBuffer())).toEqual(BYTES);
      expect(signed.headers.get('x-content-type-options')).toBe('nosniff');
      expect(signed.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(signed.headers.get('ratelimit-limit')).toBe('12');

      const tampered = await fetch(
        `${edge.url}${url.replace(/sig=(.)/, (_, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`)}`,
      );
      expect(tampered.status).toBe(404);
      expect(Problem.parse(await tampered.json()).detail).toContain('reload the page');
      expect((await fetch(`${edge.url}/t/${INTERNAL}/thumb`)).status).toBe(404);

      const reader = await issuer.tokenFor('reader');
      const byToken = await fetch(`${edge.url}/t/${INTERNAL}/thumb`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(byToken.status).toBe(200);
      expect(byToken.headers.get('cache-control')).toBe('private, no-cache');
      await byToken.arrayBuffer();

      const before = coreRequests;
      const expired = await issuer.tokenFor('admin', { exp: Math.floor(Date.now() / 1000) - 600 });
      const refused = await fetch(`${edge.url}/api/v1/images`, {
        headers: { authorization: `Bearer ${expired}` },
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
      expect(coreRequests).toBe(before);

      // 12 in the bucket of this address; 4 spent so far (the token's request has its own): 8 more, then 429.
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) {
        const res = await fetch(`${edge.url}/t/${INTERNAL}/thumb`);
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      expect(statuses).toEqual([...Array(8).fill(404), 429]);
      // The reader's bucket is theirs, not the address's.
      const still = await fetch(`${edge.url}/t/${INTERNAL}/thumb`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(still.status).toBe(200);
      await still.arrayBuffer();
      expect((await fetch(`${edge.url}/healthz`)).status).toBe(200);
    },
  );
});
