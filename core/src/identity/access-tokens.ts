import { newId, type Role } from '@aex/shared';
import { SignJWT } from 'jose';
import { type ActiveSigningKey, SIGNING_ALGORITHM } from './signing-keys.ts';

/** Who an access token is about. */
export interface TokenSubject {
  id: string;
  email: string;
  displayName: string;
  role: Role;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlMs: number;
  now: Date;
}

/**
 * An ES256 access token (issue 5): `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `email`,
 * `name`, and the role as `realm_access.roles` — where Keycloak puts realm roles, so the
 * default `AEX_ROLES_CLAIM` reads AEX's own tokens and Keycloak's alike.
 */
export async function signAccessToken(
  subject: TokenSubject,
  key: ActiveSigningKey,
  options: AccessTokenOptions,
): Promise<string> {
  const iat = Math.floor(options.now.getTime() / 1000);
  return new SignJWT({
    email: subject.email,
    name: subject.displayName,
    realm_access: { roles: [subject.role] },
  })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(subject.id)
    .setJti(newId())
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + Math.floor(options.ttlMs / 1000))
    .sign(key.key);
}
