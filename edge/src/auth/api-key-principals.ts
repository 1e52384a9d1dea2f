import { type Principal, PrincipalBody } from '@aex/shared';
import type { Upstream } from '../routes/api-proxy.ts';
import { askCore, CoreUnavailableError } from './ask-core.ts';
import { CachedLookup } from './cached-lookup.ts';

export interface ApiKeyPrincipalsOptions {
  upstream: Upstream;
  /** How long core's answer about a key is kept. Default 60 s: a revoked key works that long here. */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * Who an API key (`aex_…`) belongs to. Only core can tell (its keys are stored hashed in its
 * database), so the edge asks `GET /api/v1/auth/me` with the key and keeps the answer for a
 * minute, keyed by the key's sha256 so no key sits in this process's memory longer than its
 * request. Null: core does not accept the key.
 */
export class ApiKeyPrincipals {
  private readonly answers: CachedLookup<Principal | null>;

  constructor(private readonly options: ApiKeyPrincipalsOptions) {
    this.answers = new CachedLookup({
      ttlMs: options.ttlMs ?? 60_000,
      maxEntries: options.maxEntries ?? 10_000,
    });
  }

  /** Core's kept answer about `key`, without asking it; undefined when none is kept. */
  async peek(key: string): Promise<Principal | null | undefined> {
    return this.answers.peek(await digest(key));
  }

  /** Throws CoreUnavailableError when core cannot say. */
  async principalOf(key: string, requestId: string): Promise<Principal | null> {
    return this.answers.get(await digest(key), async () => {
      const res = await askCore(
        this.options.upstream,
        '/api/v1/auth/me',
        { authorization: `Bearer ${key}` },
        requestId,
      );
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        return null;
      }
      const body =
        res.status === 200 ? PrincipalBody.safeParse(await res.json().catch(() => null)) : null;
      if (!body?.success) {
        await res.body?.cancel().catch(() => {});
        throw new CoreUnavailableError(
          `core answered ${res.status} to /api/v1/auth/me without a principal`,
        );
      }
      return body.data;
    });
  }
}

async function digest(key: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}
