import { errors, type JSONWebKeySet, jwtVerify } from 'jose';
import type { Principal } from '../../src/auth/principal.ts';
import { IDENTITY_ROLE_MAP, type RoleMap } from '../../src/auth/role-map.ts';
import {
  KeySourceUnavailableError,
  TokenRejectedError,
  type TokenRejectionReason,
} from './errors.ts';
import { createKeyResolver, type KeySourceOptions } from './key-source.ts';
import { roleFromClaims } from './roles-claim.ts';

/**
 * The signature algorithms AEX accepts: asymmetric only. `none` and the HMAC family are never
 * accepted, so a token "signed" with an issuer's public key as an HMAC secret (the classic
 * algorithm-confusion attack) is refused before any key is looked at.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** A token longer than this is refused unread: real access tokens are a few kilobytes. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface TokenVerifierOptions {
  /** The `iss` every token must carry, exactly. */
  issuer: string;
  /** The `aud` every token must carry (one of its values). */
  audience: string;
  /** The issuer's JWKS. Unset (and no `keys`): discovered from `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string;
  /** Keys held in this process (the built-in issuer); read again on an unknown `kid`. */
  keys?: () => Promise<JSONWebKeySet>;
  /** Dot path of the roles claim. Default `realm_access.roles` (Keycloak). */
  rolesClaim?: string;
  /** Provider role or group names → AEX roles. Default: `admin`, `editor`, `reader` as is. */
  roleMap?: RoleMap;
  /** Tolerance on `exp` and `nbf`. Default 30 s. */
  clockSkewSec?: number;
  /** Default: every asymmetric algorithm. */
  algorithms?: readonly AsymmetricAlgorithm[];
  /** Least time between two key re-reads caused by an unknown `kid`. Default 30 s. */
  keyRefreshCooldownMs?: number;
  /** How long one JWKS or discovery request may take. Default 5 s. */
  fetchTimeoutMs?: number;
}

export interface TokenVerifier {
  /**
   * The principal a bearer token proves. Throws `TokenRejectedError` (with a loggable reason)
   * for a token that proves nothing, `KeySourceUnavailableError` when the issuer's keys could
   * not be had.
   */
  verify(token: string): Promise<Principal>;
}

/** A verifier of one issuer's access tokens (OIDC provider or AEX's built-in issuer). */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (!options.issuer) throw new TypeError('createTokenVerifier: issuer is required');
  if (!options.audience) throw new TypeError('createTokenVerifier: audience is required');
  if (options.jwksUrl && options.keys) {
    throw new TypeError('createTokenVerifier: give jwksUrl or keys, not both');
  }
  const algorithms = [...(options.algorithms ?? ASYMMETRIC_ALGORITHMS)];
  const refused = algorithms.filter(
    (a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a),
  );
  if (refused.length > 0 || algorithms.length === 0) {
    throw new TypeError(
      `createTokenVerifier: only asymmetric algorithms may be allowed (${ASYMMETRIC_ALGORITHMS.join(', ')}); got ${refused.join(', ') || 'none'}`,
    );
  }
  const source: KeySourceOptions = options.keys
    ? { kind: 'in-process', keys: options.keys }
    : options.jwksUrl
      ? { kind: 'url', jwksUrl: options.jwksUrl }
      : { kind: 'discovery', issuer: options.issuer };
  const resolveKey = createKeyResolver(source, {
    cooldownMs: options.keyRefreshCooldownMs ?? 30_000,
    fetchTimeoutMs: options.fetchTimeoutMs ?? 5_000,
  });
  const rolesClaim = options.rolesClaim ?? 'realm_access.roles';
  const roleMap = options.roleMap ?? IDENTITY_ROLE_MAP;
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms,
    clockTolerance: options.clockSkewSec ?? 30,
    // A token without an expiry would be valid forever; one without a subject names nobody.
    requiredClaims: ['exp', 'sub'],
  };

  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new TokenRejectedError(
          'malformed',
          `not a token of 1 to ${MAX_TOKEN_LENGTH} characters`,
        );
      }
      let claims: Record<string, unknown>;
      try {
        claims = (await jwtVerify(token, resolveKey, verifyOptions)).payload;
      } catch (err) {
        if (err instanceof KeySourceUnavailableError) throw err;
        throw rejection(err);
      }
      const subject = claims.sub;
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) {
        throw new TokenRejectedError('malformed', '"sub" must be a string of 1 to 255 characters');
      }
      const displayName = [claims.name, claims.preferred_username, claims.email].find(
        (v): v is string => typeof v === 'string' && v.length > 0,
      );
      return {
        subject,
        role: roleFromClaims(claims, rolesClaim, roleMap),
        method: 'token',
        ...(displayName ? { displayName: displayName.slice(0, 200) } : {}),
      };
    },
  };
}

/** jose's error as a rejection reason. Anything not jose's nor a claim's type is a bug: rethrown. */
function rejection(err: unknown): Error {
  const reason = reasonOf(err);
  if (!reason) return err as Error;
  return new TokenRejectedError(reason, (err as Error).message, { cause: err });
}

function reasonOf(err: unknown): TokenRejectionReason | undefined {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return 'malformed';
    return (
      ({ iss: 'wrong-issuer', aud: 'wrong-audience', nbf: 'not-yet-valid' } as const)[
        err.claim as 'iss' | 'aud' | 'nbf'
      ] ?? 'malformed'
    );
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm-not-allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return 'unknown-key';
  }
  // Malformed serialisation, claims of the wrong type (jose throws TypeError for those), a
  // key of a type the algorithm cannot use.
  if (err instanceof errors.JOSEError || err instanceof TypeError) return 'malformed';
  return undefined;
}
