import type { TokenResponse } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { JWK } from 'jose';
import { ApiKeyRepository } from '../db/api-key-repository.ts';
import type { Db } from '../db/database.ts';
import { LoginAttemptRepository } from '../db/login-attempt-repository.ts';
import { RefreshTokenRepository } from '../db/refresh-token-repository.ts';
import { SigningKeyRepository } from '../db/signing-key-repository.ts';
import { UserRepository } from '../db/user-repository.ts';
import type { TokenSubject } from './access-tokens.ts';
import { ApiKeyService } from './api-keys.ts';
import { openIdConfiguration } from './discovery.ts';
import { ensureFirstAdmin } from './first-admin.ts';
import { LoginService } from './login.ts';
import { LoginThrottle } from './login-throttle.ts';
import { prepareDummyHash } from './passwords.ts';
import { SigningKeys } from './signing-keys.ts';
import { TokenIssuer } from './token-issuer.ts';
import { UserService } from './users.ts';

export type { TokenSubject } from './access-tokens.ts';
export { ApiKeyService } from './api-keys.ts';
export { clientAddress } from './client-address.ts';
export { IDENTITY_PATHS } from './discovery.ts';
export { DEFAULT_ADMIN_EMAIL } from './first-admin.ts';
export { LOGIN_FAILED, LoginService } from './login.ts';
export { LOGIN_THROTTLE } from './login-throttle.ts';
export {
  BEARER_CHALLENGE,
  principalOf,
  requireRole,
  roleRequired,
} from './request-principal.ts';
export { KEY_PUBLISHED_AHEAD_MS } from './signing-keys.ts';
export { UserService } from './users.ts';

export const ACCESS_TOKEN_TTL_MS = 15 * 60_000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;
/** How long a replica trusts the signing key and JWKS it read before reading them again. */
export const SIGNING_KEY_CACHE_MS = 30_000;
const SWEEP_EVERY_MS = 10 * 60_000;

export interface IdentityOptions {
  db: Db;
  /** `iss` of the built-in issuer's tokens: AEX_PUBLIC_URL, without a trailing slash. */
  issuer: string;
  /** `aud` of its tokens: AEX_OIDC_AUDIENCE. */
  audience: string;
  /** AEX_ADMIN_EMAIL and AEX_ADMIN_PASSWORD, for the first start. */
  admin?: { email?: string; password?: string };
  log: Logger;
  /** Where a generated first-admin password is shown once. Default: stdout, never the log. */
  announce?: (text: string) => void;
  /** The clock. Default: the system's. */
  now?: () => Date;
  accessTokenTtlMs?: number;
  refreshTokenTtlMs?: number;
  signingKeyCacheMs?: number;
}

/** The built-in issuer as verifiers and the login routes see it. */
export interface BuiltInIssuer {
  /** `iss` of its tokens. */
  readonly issuer: string;
  /** `aud` of its tokens. */
  readonly audience: string;
  /** The public keys whose tokens may still be valid: what `/.well-known/jwks.json` serves. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** An access token and a new refresh-token family for a user (login, tests). */
  issueTokens(user: TokenSubject): Promise<TokenResponse>;
  /**
   * New tokens for a refresh token, which is spent; a reused one revokes its family (and is
   * logged on `log`, the request's logger when given).
   */
  refresh(refreshToken: string, log?: Logger): Promise<TokenResponse>;
  /** Ends the session of a refresh token (unknown tokens are ignored). */
  logout(refreshToken: string): Promise<void>;
  /**
   * Adds a signing key: published at once, signing from `activateInMs` on (default
   * `KEY_PUBLISHED_AHEAD_MS`, 10 min, so every verifier knows it first; 0 for a key that
   * leaked). The key it replaces stays published until the tokens it signed have expired.
   * Returns the new kid.
   */
  rotateSigningKey(options?: { activateInMs?: number }): Promise<string>;
  /** The OpenID Provider Metadata served at `/.well-known/openid-configuration`. */
  openIdConfiguration(): Record<string, unknown>;
}

/** The built-in identity provider of core (issue 5). */
export interface Identity {
  issuer: BuiltInIssuer;
  /** API keys; `verify(presented)` is the principal an `aex_…` key proves, or null. */
  apiKeys: ApiKeyService;
  users: UserService;
  login: LoginService;
  /** Stops the periodic clean-up of expired sessions and old login failures. */
  close(): Promise<void>;
}

/**
 * Starts the built-in identity provider on the metadata store: makes the first signing key
 * and the first admin when there are none, and returns the issuer (for the routes and for
 * in-process verification of its tokens), API keys, users and login.
 */
export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const now = options.now ?? (() => new Date());
  const accessTokenTtlMs = options.accessTokenTtlMs ?? ACCESS_TOKEN_TTL_MS;
  const cacheMs = options.signingKeyCacheMs ?? SIGNING_KEY_CACHE_MS;
  const userRepository = new UserRepository(options.db);
  const refreshTokens = new RefreshTokenRepository(options.db);
  const keys = new SigningKeys(new SigningKeyRepository(options.db), {
    // After an immediate rotation a replica may sign with the old key until its cache runs
    // out (cacheMs); tokens it signs then live accessTokenTtlMs; a minute more covers clocks
    // that disagree.
    retiredKeyLifetimeMs: accessTokenTtlMs + cacheMs + 60_000,
    cacheMs,
    now,
  });
  await keys.ensure();
  // In the background: the first login for an unknown email must not pay for it.
  prepareDummyHash().catch((err) => options.log.warn({ err }, 'could not prepare the dummy hash'));
  await ensureFirstAdmin(userRepository, {
    email: options.admin?.email,
    password: options.admin?.password,
    announce: options.announce ?? ((text) => process.stdout.write(text)),
    log: options.log,
  });
  const tokens = new TokenIssuer(keys, refreshTokens, userRepository, {
    issuer: options.issuer,
    audience: options.audience,
    accessTokenTtlMs,
    refreshTokenTtlMs: options.refreshTokenTtlMs ?? REFRESH_TOKEN_TTL_MS,
    now,
    log: options.log,
  });
  const throttle = new LoginThrottle(new LoginAttemptRepository(options.db), now);
  const sweep = setInterval(() => {
    Promise.all([throttle.sweep(), refreshTokens.deleteExpired(now())]).catch((err) =>
      options.log.warn({ err }, 'could not clean up expired sessions and login failures'),
    );
  }, SWEEP_EVERY_MS);
  sweep.unref();
  return {
    issuer: {
      issuer: options.issuer,
      audience: options.audience,
      jwks: () => keys.jwks(),
      issueTokens: (user) => tokens.issueTokens(user),
      refresh: (refreshToken, log) => tokens.refresh(refreshToken, log),
      logout: (refreshToken) => tokens.revoke(refreshToken),
      rotateSigningKey: (rotation) => keys.rotate(rotation?.activateInMs),
      openIdConfiguration: () => openIdConfiguration(options.issuer, options.audience),
    },
    apiKeys: new ApiKeyService(new ApiKeyRepository(options.db), now),
    users: new UserService(userRepository, tokens, now),
    login: new LoginService(userRepository, throttle, tokens),
    async close() {
      clearInterval(sweep);
    },
  };
}
