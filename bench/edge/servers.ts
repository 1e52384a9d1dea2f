import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startAex } from '../lib/aex-server.ts';
import type { CleanupStack } from '../lib/cleanup.ts';
import { startCaddy } from './caddy-server.ts';
import { probeTokenChecks, rateLimitHeaders, type TokenChecks, verifyAll } from './checks.ts';
import { AUDIENCE, type StandInCore, startStandInCore, type Visibility } from './stand-in-core.ts';
import type { Thumbnail } from './thumbnails.ts';

/**
 * The headers the edge sends with a thumbnail (see edge/src/routes/thumbnails.ts), for Caddy
 * to send too: the same bytes on the wire, and the same promises to caches.
 */
function caddyHeaders(images: Visibility): Record<string, string> {
  const common = { 'Content-Type': 'image/webp', 'Cross-Origin-Resource-Policy': 'cross-origin' };
  if (images === 'internal') {
    return {
      ...common,
      'Cache-Control': 'private, no-cache',
      Vary: 'Accept-Encoding, Authorization, X-Api-Key',
    };
  }
  return {
    ...common,
    'Cache-Control': 'public, max-age=31536000, immutable',
    Vary: 'Accept-Encoding',
    'Access-Control-Allow-Origin': '*',
  };
}

export interface Servers {
  edge: { baseUrl: string; pid: number };
  caddy: { baseUrl: string; pid: number; version: string };
  standIn: StandInCore;
  /** The header every benchmark request carries. */
  authorization: Record<string, string>;
  tokenChecks: TokenChecks;
  rateLimit: { AEX_RATE_LIMIT: string; active: boolean; headers: Record<string, string> };
  cacheControl: { edge: string | null; caddy: string | null };
}

/**
 * Starts the stand-in core, the edge alone (`aex serve edge`, told the stand-in is core and
 * its OIDC issuer) and Caddy over the same thumbnails; finds out whether the edge checks
 * tokens and limits rates; then GETs every thumbnail from both, byte for byte, which also
 * fills the edge's disk cache so that only cached thumbnails are measured.
 */
export async function startServers(options: {
  cleanup: CleanupStack;
  note: (text: string) => void;
  dir: string;
  dataDir: string;
  siteDir: string;
  thumbnails: readonly Thumbnail[];
  /** An image in the blob store that the stand-in never calls public, to probe token checks. */
  probe: Thumbnail;
  images: Visibility;
  rateLimit: string;
  logLevel: string;
  caddyBin: string;
}): Promise<Servers> {
  const { cleanup, note, thumbnails } = options;
  const caddyProbePath = thumbnails[0]?.path ?? '/';
  const standIn = await startStandInCore({
    shas: new Set(thumbnails.map((t) => t.sha256)),
    visibility: options.images,
    tokenSeconds: 6 * 3600,
  });
  cleanup.add('stand-in core', () => standIn.stop());
  note('starting aex serve edge…');
  const edge = await startAex({
    role: 'edge',
    env: {
      AEX_DATA_DIR: options.dataDir,
      CORE_URL: standIn.url,
      AEX_OIDC_ISSUER: standIn.url,
      AEX_OIDC_AUDIENCE: AUDIENCE,
      AEX_OIDC_JWKS_URL: standIn.jwksUrl,
      AEX_URL_SIGNING_KEY: randomBytes(32).toString('hex'),
      AEX_RATE_LIMIT: options.rateLimit,
      LOG_LEVEL: options.logLevel,
    },
  });
  cleanup.add('aex serve edge', () => edge.stop());
  note('starting caddy…');
  const caddy = await startCaddy({
    bin: options.caddyBin,
    dir: join(options.dir, 'caddy'),
    siteDir: options.siteDir,
    headers: caddyHeaders(options.images),
    probePath: caddyProbePath,
  });
  cleanup.add('caddy', () => caddy.stop());

  const tokenChecks = await probeTokenChecks({
    origin: edge.baseUrl,
    path: options.probe.path,
    token: standIn.token,
    forgedToken: standIn.forgedToken,
  });
  if (!tokenChecks.on) {
    note(
      `tokenChecks: false: on an internal image the edge answered ${tokenChecks.forgedTokenStatus} ` +
        `to a forged token (401 expected), ${tokenChecks.noTokenStatus} to none and ` +
        `${tokenChecks.validTokenStatus} to a valid one (200 expected); the figures are of an ` +
        'edge that does not check tokens',
    );
  }
  const authorization = { authorization: `Bearer ${standIn.token}` };
  const verify = (origin: string) =>
    verifyAll({
      origin,
      thumbnails,
      siteDir: options.siteDir,
      headers: authorization,
      concurrency: 16,
    });
  const edgeSample = await verify(edge.baseUrl);
  const caddySample = await verify(caddy.baseUrl);
  // Seen, not assumed, like the token checks: the limiter answers with RateLimit-* headers.
  const limiterHeaders = rateLimitHeaders(edgeSample.headers);
  const rateLimit = {
    AEX_RATE_LIMIT: options.rateLimit,
    active: Object.keys(limiterHeaders).length > 0,
    headers: limiterHeaders,
  };
  if (!rateLimit.active) note('the edge sent no RateLimit-* headers: its rate limiter looks off');
  return {
    edge: { baseUrl: edge.baseUrl, pid: edge.pid },
    caddy: { baseUrl: caddy.baseUrl, pid: caddy.pid, version: caddy.version },
    standIn,
    authorization,
    tokenChecks,
    rateLimit,
    cacheControl: {
      edge: edgeSample.headers.get('cache-control'),
      caddy: caddySample.headers.get('cache-control'),
    },
  };
}
