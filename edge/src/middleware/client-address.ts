import type { Context } from 'hono';

/** What Bun passes as the second argument of a fetch handler (its server). */
interface BunServerEnv {
  requestIP(request: Request): { address: string } | null;
}
/** What Deno passes (ServeHandlerInfo); tests pass the same shape. */
interface DenoInfoEnv {
  remoteAddr?: { hostname?: string };
}

// An address as a proxy writes it: IPv4, IPv6 (maybe bracketed, maybe with a zone), no port.
const ADDRESS = /^\[?[0-9A-Za-z.:%_-]{2,64}\]?$/;

/**
 * The client's address, for per-client limits. With `trustProxy` (AEX_TRUST_PROXY=true, the
 * edge sits behind Caddy or a load balancer that sets the header) the first
 * `X-Forwarded-For` entry, the client as the first proxy saw it; otherwise the socket's peer,
 * since anyone can send the header. `unknown` when neither is available.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const first = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (first && ADDRESS.test(first)) return first.replace(/^\[|\]$/g, '');
  }
  const env = c.env as Partial<BunServerEnv> & DenoInfoEnv;
  if (typeof env?.requestIP === 'function') {
    const ip = env.requestIP(c.req.raw)?.address;
    if (ip) return ip;
  }
  return env?.remoteAddr?.hostname ?? 'unknown';
}
