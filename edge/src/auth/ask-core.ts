import type { Upstream } from '../routes/api-proxy.ts';

/** Core did not answer a question the edge asked it, or answered something unexpected. */
export class CoreUnavailableError extends Error {
  override name = 'CoreUnavailableError';
}

/** The edge's own GET to core (not a proxied request), tagged with the request id it serves. */
export async function askCore(
  upstream: Upstream,
  path: string,
  headers: Record<string, string>,
  requestId: string,
): Promise<Response> {
  // The host is never used: httpUpstream keeps only the path, core in-process routes by it.
  const request = new Request(`http://core.internal${path}`, {
    headers: { accept: 'application/json', 'x-request-id': requestId, ...headers },
    signal: AbortSignal.timeout(5_000),
  });
  try {
    return await upstream(request);
  } catch (err) {
    throw new CoreUnavailableError(`core did not answer ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
