import { expect } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem } from '@aex/shared';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { silentLogger } from '@aex/shared/ports/log';
import { startTestOidcProvider, type TestOidcProvider } from '../../testing/oidc-provider.ts';
import { createEdge, type Edge, parseEdgeConfig } from '../mod.ts';

// Test support for the web login suites: a real OIDC-style provider, a stand-in core, an
// edge configured for both, and a browser that keeps cookies.

export const PUBLIC_URL = 'http://aex.test';
export const CALLBACK = `${PUBLIC_URL}/auth/callback`;

/** A browser's part of the flow: a cookie jar, and redirects left to the test. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly edge: Edge) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await this.edge.fetch(new Request(`${PUBLIC_URL}${path}`, { ...init, headers }));
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** `/auth/login` → the provider → the callback URL the provider sends the browser to. */
  async signInAtProvider(returnTo?: string): Promise<URL> {
    const login = await this.request(
      `/auth/login${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
    );
    expect(login.status).toBe(302);
    const authorize = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    return new URL(authorize.headers.get('location') ?? '');
  }

  async signIn(returnTo?: string): Promise<Response> {
    const back = await this.signInAtProvider(returnTo);
    return this.request(back.pathname + back.search);
  }
}

export async function problemOf(res: Response): Promise<Problem> {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return Problem.parse(await res.json());
}

export interface WebLoginFixture {
  dir: string;
  provider: TestOidcProvider;
  /** Where the stand-in core listens. */
  coreUrl: string;
  /** The edge signing in at `provider`. */
  edge: Edge;
  /** The Cookie header of each request that reached core. */
  seenCookies: Array<string | null>;
  /** Another edge on the same core, with its own public URL or issuer (null: no web login). */
  startEdge(publicUrl?: string, issuer?: string | null): Edge;
  stop(): Promise<void>;
}

/** Starts the provider, the stand-in core and an edge signing in at the provider. */
export async function startWebLoginFixture(): Promise<WebLoginFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'aex-web-login-'));
  const provider = await startTestOidcProvider({ clientId: 'aex-web', redirectUri: CALLBACK });
  const seenCookies: Array<string | null> = [];
  // Stands in for core: says which credentials reached it.
  const core = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request) {
      seenCookies.push(request.headers.get('cookie'));
      return Response.json({ authorization: request.headers.get('authorization') });
    },
  });
  const coreUrl = `http://127.0.0.1:${core.port}`;
  const startEdge = (publicUrl = PUBLIC_URL, issuer: string | null = provider.issuer) =>
    createEdge(
      parseEdgeConfig({
        AEX_DATA_DIR: dir,
        AEX_WEB_DIR: issuer ? dir : join(dir, 'none'),
        AEX_URL_SIGNING_KEY: '7e'.repeat(32),
        AEX_OIDC_ISSUER: issuer ?? undefined,
        AEX_OIDC_CLIENT_ID: issuer ? 'aex-web' : undefined,
        AEX_PUBLIC_URL: issuer ? publicUrl : undefined,
        AEX_RATE_LIMIT: issuer ? 'off' : undefined,
        CORE_URL: coreUrl,
      }),
      { log: silentLogger(), blobs: createDiskBlobStore({ root: join(dir, 'blobs') }) },
    );
  const edge = startEdge();
  return {
    dir,
    provider,
    coreUrl,
    edge,
    seenCookies,
    startEdge,
    async stop() {
      await edge.close();
      await core.stop(true);
      await provider.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
