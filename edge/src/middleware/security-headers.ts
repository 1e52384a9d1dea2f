import type { AexEnv } from '@aex/shared/http';
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export interface SecurityHeadersOptions {
  /**
   * Origins besides the edge's own that the web app talks to: an external OIDC issuer, whose
   * token endpoint the PKCE login calls from the browser.
   */
  connectOrigins?: string[];
}

/**
 * Security headers on every answer (hono/secure-headers): `nosniff`, no framing
 * (`frame-ancestors 'none'` and `X-Frame-Options: DENY`, against clickjacking),
 * `Referrer-Policy: no-referrer` (signed image URLs must not travel to other sites in a
 * Referer), and a Content-Security-Policy for the web app: its own scripts only, no plugins,
 * no `<base>` tricks. Headers a route set itself are kept (`overwrite: false`): thumbnails
 * widen `Cross-Origin-Resource-Policy` so other sites may embed public images.
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler<AexEnv> {
  const connect = ["'self'", ...(options.connectOrigins ?? [])];
  return secureHeaders({
    overwrite: false,
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // SolidJS and the placeholder page set inline styles; styles cannot run code.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: connect,
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  }) as MiddlewareHandler<AexEnv>;
}
