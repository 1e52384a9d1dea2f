import { isIP } from 'node:net';
import type { Context } from 'hono';

/** What Bun.serve hands a fetch handler as its second argument (Hono's `c.env` on Bun). */
interface ConnectionSource {
  requestIP?(request: Request): { address: string } | null;
}

/**
 * The address a request came from, for per-client limits: the first entry of
 * X-Forwarded-For when it holds an IP address, else the peer address of the connection
 * (when the server that called core passed it), else null.
 *
 * Core sits behind the edge and Caddy, which set X-Forwarded-For; Caddy replaces a value sent
 * by an untrusted client rather than appending to it, so the first entry is the client seen
 * by the front proxy. Reached directly, a client can put anything there: per-address limits
 * then only slow down clients that do not lie, which is why logins are also limited per email.
 */
export function clientAddress(c: Context): string | null {
  const forwarded = c.req.header('x-forwarded-for');
  const first = forwarded?.split(',', 1)[0]?.trim();
  if (first && isIP(first) !== 0) return first.toLowerCase();
  const peer = (c.env as ConnectionSource | undefined)?.requestIP?.(c.req.raw)?.address;
  return peer && isIP(peer) !== 0 ? peer.toLowerCase() : null;
}
