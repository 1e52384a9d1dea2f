import { type AexEnv, problemResponse, traceparentFor } from '@aex/shared/http';
import type { Context, Hono } from 'hono';
import { clientAddress } from '../middleware/client-address.ts';

/** Where the edge sends API requests: core's fetch handler in-process, or `fetch` to CORE_URL. */
export type Upstream = (request: Request) => Response | Promise<Response>;

// RFC 9110 §7.6.1: connection-specific headers are not forwarded by a proxy.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
];

/** An upstream that forwards to core over HTTP. */
export function httpUpstream(coreUrl: string): Upstream {
  const base = new URL(coreUrl);
  return (request) => {
    const url = new URL(request.url);
    const target = new URL(url.pathname + url.search, base);
    return fetch(new Request(target, request), { redirect: 'manual' });
  };
}

/**
 * `/api/*` and `/.well-known/*` (the built-in issuer's JWKS and OIDC discovery) → core.
 * Bodies stream both ways (an upload is never buffered here); the request id and trace
 * context go along, so core's log lines join the edge's.
 */
export function registerApiProxy(
  app: Hono<AexEnv>,
  deps: { upstream: Upstream; security: { trustProxy: boolean } },
): void {
  const forward = (c: Context<AexEnv>) =>
    proxyToCore(c, deps.upstream, clientAddress(c, deps.security.trustProxy));
  app.on(['GET', 'HEAD'], '/.well-known/*', forward);
  app.all('/api/*', forward);
}

async function proxyToCore(
  c: Context<AexEnv>,
  upstream: Upstream,
  client: string,
): Promise<Response> {
  const incoming = c.req.raw;
  const headers = new Headers(incoming.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  // Core throttles logins per client address and reads it from X-Forwarded-For: it gets the
  // address the edge settled on (the socket's peer, or the first proxy's entry when
  // AEX_TRUST_PROXY says there is one), never a list the client wrote itself.
  if (client === 'unknown') headers.delete('x-forwarded-for');
  else headers.set('x-forwarded-for', client);
  headers.set('x-request-id', c.get('requestId'));
  headers.set('traceparent', traceparentFor(c.get('traceId')));
  const url = new URL(incoming.url);
  headers.set('x-forwarded-host', url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
  const hasBody = incoming.method !== 'GET' && incoming.method !== 'HEAD';
  const request = new Request(incoming.url, {
    method: incoming.method,
    headers,
    body: hasBody ? incoming.body : null,
    signal: incoming.signal,
    // Required by fetch for a streamed request body.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
  let response: Response;
  try {
    response = await upstream(request);
  } catch (err) {
    c.get('log').warn({ err: (err as Error).message }, 'core did not answer');
    return problemResponse(
      c,
      'unavailable',
      'The API is not answering right now; retry in a few seconds.',
      {
        'retry-after': '5',
      },
    );
  }
  const out = new Headers(response.headers);
  for (const name of HOP_BY_HOP) out.delete(name);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: out,
  });
}
