import { envBoolean, envUrl, envUrlSigningKey, IdentityEnv } from '@aex/shared';
import { z } from 'zod';

/** A per-client rate: `<n>/s`, `<n>/m` or `<n>/h`, as requests per second; null for `off`. */
const envRate = z.string().transform((v, ctx) => {
  if (/^(off|0)$/i.test(v)) return null;
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*(s|sec|m|min|h|hour)$/i.exec(v);
  const perUnit = m ? Number(m[1]) : Number.NaN;
  if (!m || !(perUnit > 0)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a rate like 100/s, 3000/m or 50000/h, or off',
    });
    return z.NEVER;
  }
  const unit = (m[2] ?? 's').toLowerCase()[0] as 's' | 'm' | 'h';
  return { perSec: perUnit / { s: 1, m: 60, h: 3600 }[unit], text: v.replace(/\s+/g, '') };
});

/** A comma list of web origins (`https://app.example.org`), each without a path. */
const envOrigins = z.string().transform((v, ctx) => {
  const origins: string[] = [];
  for (const item of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {}
    if (
      !url ||
      !['http:', 'https:'].includes(url.protocol) ||
      url.origin !== item.replace(/\/$/, '')
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not an origin: write scheme://host[:port] with nothing after it, like https://app.example.org`,
      });
      return z.NEVER;
    }
    origins.push(url.origin);
  }
  return origins;
});

/**
 * The edge's security settings (issue 5), spread into `EdgeEnv`: token verification (the same
 * AEX_OIDC_* variables as core), signed thumbnail URLs, rate limiting and CORS.
 */
export const EdgeSecurityEnv = z.object({
  ...IdentityEnv.shape,
  /** The URL users reach AEX at: the built-in issuer's `iss` (without a trailing slash). */
  AEX_PUBLIC_URL: envUrl(['http', 'https'])
    .default('http://localhost:8080')
    .transform((v) => v.replace(/\/+$/, '')),
  /**
   * HMAC key of signed thumbnail URLs, shared with core. Unset: `aex serve` reads or makes
   * `<AEX_DATA_DIR>/secrets/url-signing.key` (see `resolveUrlSigningKey`).
   */
  AEX_URL_SIGNING_KEY: envUrlSigningKey.optional(),
  /** Per-client request rate, or `off`. */
  AEX_RATE_LIMIT: envRate.default({ perSec: 100, text: '100/s' }),
  /** Requests a client may make at once; default twice the per-second rate. */
  AEX_RATE_BURST: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** Trust the first X-Forwarded-For entry as the client address (behind Caddy or a load balancer). */
  AEX_TRUST_PROXY: envBoolean.default(false),
  /** Other origins whose web pages may call the API (CORS); default none: same-origin only. */
  AEX_CORS_ORIGINS: envOrigins.default([]),
});
export type EdgeSecurityEnv = z.infer<typeof EdgeSecurityEnv>;
