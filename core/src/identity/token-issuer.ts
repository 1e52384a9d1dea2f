import { createHash } from 'node:crypto';
import { AexError, newId, type TokenResponse } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { RefreshTokenRepository } from '../db/refresh-token-repository.ts';
import type { UserRepository } from '../db/user-repository.ts';
import { signAccessToken, type TokenSubject } from './access-tokens.ts';
import type { SigningKeys } from './signing-keys.ts';

export interface TokenIssuerOptions {
  /** `iss` of every token: AEX_PUBLIC_URL. */
  issuer: string;
  /** `aud` of every token: AEX_OIDC_AUDIENCE. */
  audience: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  now: () => Date;
  log: Logger;
}

/** The sha256 of a refresh token: what the store keeps. 256 random bits need no slow hash. */
export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const SESSION_ENDED = 'This refresh token is not valid any more: log in again.';

/**
 * Issues access tokens and refresh tokens, and rotates the latter: every refresh answers a
 * new refresh token and spends the old one. A spent token presented again was copied, so the
 * whole family (that login's chain) is revoked, and the thief and the owner both log in again
 * (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
 */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly users: UserRepository,
    private readonly options: TokenIssuerOptions,
  ) {}

  get issuer(): string {
    return this.options.issuer;
  }

  get audience(): string {
    return this.options.audience;
  }

  /** An access token for `user` and a refresh token starting (or continuing) a family. */
  async issueTokens(user: TokenSubject, familyId: string = newId()): Promise<TokenResponse> {
    const now = this.options.now();
    const accessToken = await signAccessToken(user, await this.keys.current(), {
      issuer: this.options.issuer,
      audience: this.options.audience,
      ttlMs: this.options.accessTokenTtlMs,
      now,
    });
    const refreshToken = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString(
      'base64url',
    );
    await this.refreshTokens.insert({
      id: newId(),
      familyId,
      userId: user.id,
      tokenHash: refreshTokenHash(refreshToken),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.options.refreshTokenTtlMs),
    });
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: Math.floor(this.options.accessTokenTtlMs / 1000),
    };
  }

  /**
   * New tokens for a refresh token, which is spent; a reused one ends its whole family.
   * `log` (the request's) records a reuse, with the request id.
   */
  async refresh(refreshToken: string, requestLog?: Logger): Promise<TokenResponse> {
    const now = this.options.now();
    const row = await this.refreshTokens.findByHash(refreshTokenHash(refreshToken));
    if (!row || row.revokedAt) throw new AexError('unauthenticated', SESSION_ENDED);
    const log = (requestLog ?? this.options.log).child({
      userId: row.userId,
      familyId: row.familyId,
    });
    if (row.rotatedAt) {
      await this.refreshTokens.revokeFamily(row.familyId, now);
      log.warn('a spent refresh token was presented again: its session is revoked');
      throw new AexError('unauthenticated', SESSION_ENDED);
    }
    if (row.expiresAt <= now) throw new AexError('unauthenticated', SESSION_ENDED);
    const user = await this.users.findById(row.userId);
    if (!user || user.disabled) {
      await this.refreshTokens.revokeFamily(row.familyId, now);
      throw new AexError('unauthenticated', SESSION_ENDED);
    }
    // Of two uses racing on one token exactly one marks it; the other is a reuse.
    if (!(await this.refreshTokens.markRotated(row.id, now))) {
      await this.refreshTokens.revokeFamily(row.familyId, now);
      log.warn('a refresh token was used twice at once: its session is revoked');
      throw new AexError('unauthenticated', SESSION_ENDED);
    }
    return this.issueTokens(user, row.familyId);
  }

  /** Ends the session a refresh token belongs to; unknown tokens are ignored (logout is idempotent). */
  async revoke(refreshToken: string): Promise<void> {
    const row = await this.refreshTokens.findByHash(refreshTokenHash(refreshToken));
    if (row) await this.refreshTokens.revokeFamily(row.familyId, this.options.now());
  }

  /** Ends every session of a user (disabled, or given a new password). */
  async revokeUser(userId: string): Promise<void> {
    await this.refreshTokens.revokeUser(userId, this.options.now());
  }
}
