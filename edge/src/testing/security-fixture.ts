import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AexEnv } from '@aex/shared/http';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { silentLogger } from '@aex/shared/ports/log';
import { startTestIssuer, type TestIssuer } from '@aex/shared/testing/oidc-issuer';
import type { Hono } from 'hono';
import { createEdgeApp } from '../app.ts';
import { parseEdgeConfig } from '../config.ts';
import { edgeSecurityFromConfig } from '../edge-security.ts';
import { httpUpstream } from '../routes/api-proxy.ts';
import { ThumbnailCache } from '../thumbnails/thumbnail-cache.ts';

/** API keys the stand-in core knows, by role. */
export const API_KEYS = {
  reader: 'aex_k1_readersecretreadersecret',
  noRole: 'aex_k2_norolesecretnorolesecret',
} as const;

/**
 * A real HTTP server standing in for core's side of the edge's questions: which images are
 * public, who an API key is, its JWKS; every other `/api/*` request is echoed back so a test
 * sees what reached core. Counts the questions, and can go down.
 */
export interface StandInCore {
  url: string;
  publicShas: Set<string>;
  /** Requests per path prefix: `by-sha`, `me`, `jwks`, `api`. */
  requests: Record<'by-sha' | 'me' | 'jwks' | 'api', number>;
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

async function startStandInCore(issuer: TestIssuer): Promise<StandInCore> {
  const requests = { 'by-sha': 0, me: 0, jwks: 0, api: 0 };
  const publicShas = new Set<string>();
  let down = false;
  const reply = (res: import('node:http').ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? '/';
    if (down) return reply(res, 503, { code: 'unavailable' });
    const bySha = /^\/api\/v1\/public\/images\/by-sha\/([0-9a-f]{64})$/.exec(path);
    if (bySha) {
      requests['by-sha']++;
      return publicShas.has(bySha[1] ?? '')
        ? reply(res, 200, { sha256: bySha[1] })
        : reply(res, 404);
    }
    if (path === '/api/v1/auth/me') {
      requests.me++;
      const key = req.headers.authorization?.replace(/^Bearer /, '');
      if (key === API_KEYS.reader) {
        return reply(res, 200, {
          subject: 'apikey:k1',
          role: 'reader',
          method: 'api-key',
          displayName: 'importer',
        });
      }
      if (key === API_KEYS.noRole)
        return reply(res, 200, { subject: 'apikey:k2', role: null, method: 'api-key' });
      return reply(res, 401, { code: 'unauthenticated' });
    }
    if (path === '/.well-known/jwks.json') {
      requests.jwks++;
      return reply(res, 200, { keys: [issuer.publicJwk()] });
    }
    requests.api++;
    return reply(res, 200, { path, authorization: req.headers.authorization ?? null });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publicShas,
    requests,
    setDown: (value) => {
      down = value;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

export interface SecurityFixture {
  issuer: TestIssuer;
  core: StandInCore;
  /** The signing key core and edge share. */
  key: Uint8Array;
  blobs: BlobStore;
  /** An edge app on `env` over the fixture's defaults (external issuer = the test issuer). */
  app(env?: Record<string, string>, options?: { inProcessCore?: boolean }): Hono<AexEnv>;
  stop(): Promise<void>;
}

/** The edge's security tested for real: an ES256 issuer over HTTP, a stand-in core, blobs on disk. */
export async function startSecurityFixture(): Promise<SecurityFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'aex-edge-sec-'));
  const issuer = await startTestIssuer({ algorithms: ['ES256'] });
  const core = await startStandInCore(issuer);
  const blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
  const key = crypto.getRandomValues(new Uint8Array(32));
  let apps = 0;
  return {
    issuer,
    core,
    key,
    blobs,
    app(env = {}, options = {}) {
      const config = parseEdgeConfig({
        AEX_DATA_DIR: dir,
        CORE_URL: core.url,
        AEX_OIDC_ISSUER: issuer.issuer,
        AEX_RATE_LIMIT: 'off',
        LOG_LEVEL: 'silent',
        ...env,
      });
      const upstream = httpUpstream(core.url);
      apps += 1;
      return createEdgeApp({
        log: silentLogger(),
        cache: new ThumbnailCache({
          dir: join(dir, `cache-${apps}`),
          origin: blobs,
          maxBytes: 1024 ** 2,
        }),
        upstream,
        security: edgeSecurityFromConfig(config, {
          urlSigningKey: key,
          inProcessCore: options.inProcessCore ? upstream : undefined,
        }),
      });
    },
    async stop() {
      await core.stop();
      await issuer.stop();
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
