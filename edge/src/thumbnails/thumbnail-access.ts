import {
  type DerivedVariant,
  hasRole,
  type Principal,
  type UrlSigningKey,
  verifyThumbnailSignature,
} from '@aex/shared';
import type { ApiKeyPrincipals } from '../auth/api-key-principals.ts';
import { CoreUnavailableError } from '../auth/ask-core.ts';
import type { PublicImages } from '../auth/public-images.ts';
import type { RequestAuth } from '../auth/request-auth.ts';

/** Why a thumbnail may be served, which decides how caches may keep it. */
export type ThumbnailGrant =
  /** A valid signed URL: the browser may keep it until the signature expires. */
  | { kind: 'signed-url'; remainingSec: number }
  /** A public image: anyone, any cache, for a year. */
  | { kind: 'public' }
  /** A reader's (or stronger) token or API key. */
  | { kind: 'principal'; principal: Principal };

/** Why not: each maps to one answer that never says whether an internal image exists. */
export type ThumbnailDenial =
  | { kind: 'not-found'; because: 'no-access' | 'expired-link' | 'invalid-link' }
  | { kind: 'invalid-token' }
  /** Core, or the issuer's keys, could not be asked, and nothing else granted access. */
  | { kind: 'unavailable' };

export function isGrant(access: ThumbnailGrant | ThumbnailDenial): access is ThumbnailGrant {
  return access.kind === 'signed-url' || access.kind === 'public' || access.kind === 'principal';
}

export interface ThumbnailAccessDeps {
  urlSigningKey: UrlSigningKey;
  publicImages: PublicImages;
  apiKeys: ApiKeyPrincipals;
}

export interface ThumbnailRequest {
  sha256: string;
  variant: DerivedVariant;
  exp: string | undefined;
  sig: string | undefined;
  auth: RequestAuth;
  requestId: string;
}

/**
 * Who may see a thumbnail (issue 5): whoever holds a valid, unexpired signed URL core issued;
 * anyone when the image is public; a reader or stronger by token or API key. Checked before
 * the disk cache is looked at (and before any 304), so no answer differs between an internal
 * image and none at all. The cheap checks go first: the HMAC, then the public answer (kept in
 * memory), then credentials, of which an API key may cost a question to core.
 */
export async function decideThumbnailAccess(
  request: ThumbnailRequest,
  deps: ThumbnailAccessDeps,
): Promise<ThumbnailGrant | ThumbnailDenial> {
  const signature = await verifyThumbnailSignature({
    sha256: request.sha256,
    variant: request.variant,
    exp: request.exp,
    sig: request.sig,
    key: deps.urlSigningKey,
  });
  if (signature.valid) return { kind: 'signed-url', remainingSec: signature.remainingSec };

  let unavailable = false;
  try {
    if (await deps.publicImages.isPublic(request.sha256, request.requestId))
      return { kind: 'public' };
  } catch (err) {
    if (!(err instanceof CoreUnavailableError)) throw err;
    unavailable = true;
  }

  const auth = request.auth;
  let principal: Principal | null = null;
  if (auth.kind === 'token') principal = auth.principal;
  if (auth.kind === 'api-key') {
    try {
      principal =
        auth.known !== undefined
          ? auth.known
          : await deps.apiKeys.principalOf(auth.key, request.requestId);
    } catch (err) {
      if (!(err instanceof CoreUnavailableError)) throw err;
      unavailable = true;
    }
  }
  if (principal && hasRole(principal, 'reader')) return { kind: 'principal', principal };
  if (unavailable || auth.kind === 'unverifiable-token') return { kind: 'unavailable' };
  // A refused token or key is told as such (401) whether or not the image exists.
  if (auth.kind === 'rejected-token' || (auth.kind === 'api-key' && principal === null)) {
    return { kind: 'invalid-token' };
  }
  if (signature.reason === 'expired') return { kind: 'not-found', because: 'expired-link' };
  if (signature.reason !== 'missing') return { kind: 'not-found', because: 'invalid-link' };
  return { kind: 'not-found', because: 'no-access' };
}
