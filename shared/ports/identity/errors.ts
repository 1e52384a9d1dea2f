/**
 * Why a token was refused. Logged with the request; the client only learns that its token
 * is invalid (RFC 6750 §3.1 `invalid_token`), so a forger learns nothing from the answer.
 */
export const TOKEN_REJECTION_REASONS = [
  'expired',
  'not-yet-valid',
  'wrong-issuer',
  'wrong-audience',
  'bad-signature',
  'unknown-key',
  'algorithm-not-allowed',
  'malformed',
] as const;
export type TokenRejectionReason = (typeof TOKEN_REJECTION_REASONS)[number];

/** A token that does not prove who sent it: the request is unauthenticated (401). */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
  readonly reason: TokenRejectionReason;

  constructor(reason: TokenRejectionReason, message: string, options?: { cause?: unknown }) {
    super(`token rejected (${reason}): ${message}`, options);
    this.reason = reason;
  }
}

/**
 * The issuer's keys could not be had (JWKS or discovery unreachable, or not a key set): the
 * token may be fine, so this is the server's problem (503), never an invalid token.
 */
export class KeySourceUnavailableError extends Error {
  override name = 'KeySourceUnavailableError';
}
