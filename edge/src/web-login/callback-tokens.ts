import type { AexEnv } from '@aex/shared/http';
import { KeySourceUnavailableError, TokenRejectedError } from '@aex/shared/ports/identity/errors';
import type { TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import type { Context } from 'hono';
import { problem, providerDown } from './login-problems.ts';
import type { WebSession } from './session-credentials.ts';
import type { WebLogin } from './web-login.ts';

/**
 * OIDC Core §3.1.3.7: the ID token must be the provider's, for this client, and carry the
 * nonce of this sign-in; the access token must be one AEX accepts (issuer, audience, role
 * claim), or every API call would fail after a "successful" sign-in.
 */
export async function checkTokens(
  c: Context<AexEnv>,
  deps: { login: WebLogin; accessTokens: TokenVerifier },
  tokens: { access_token: string; id_token: string },
  nonce: string,
): Promise<Response | { value: WebSession; expiresAtSec: number }> {
  const log = c.get('log');
  try {
    await deps.login.idTokens.verify(tokens.id_token);
  } catch (err) {
    if (err instanceof KeySourceUnavailableError) return providerDown(c, err);
    if (!(err instanceof TokenRejectedError)) throw err;
    log.warn({ reason: err.reason, detail: err.message }, 'ID token of the web login rejected');
    return problem(
      c,
      'unauthenticated',
      'The sign-in provider sent an ID token AEX cannot accept. Start again at /auth/login; if it persists, an administrator should check AEX_OIDC_ISSUER and AEX_OIDC_CLIENT_ID.',
    );
  }
  // The signature was verified just above, so the claims may be read as they are.
  if (claimsOf(tokens.id_token).nonce !== nonce) {
    log.warn('ID token of the web login carries another nonce');
    return problem(
      c,
      'unauthenticated',
      'The ID token does not belong to this sign-in (its nonce differs). Start again at /auth/login.',
    );
  }
  let subject: string;
  try {
    subject = (await deps.accessTokens.verify(tokens.access_token)).subject;
  } catch (err) {
    if (err instanceof KeySourceUnavailableError) return providerDown(c, err);
    if (!(err instanceof TokenRejectedError)) throw err;
    log.error(
      { reason: err.reason, detail: err.message },
      'the provider issues access tokens AEX does not accept',
    );
    return problem(
      c,
      'internal',
      `Signed in at the provider, but its access token is not accepted by AEX (${err.reason}). An administrator must make the provider issue tokens for AEX (issuer AEX_OIDC_ISSUER, audience AEX_OIDC_AUDIENCE).`,
    );
  }
  const exp = claimsOf(tokens.access_token).exp;
  return {
    value: { accessToken: tokens.access_token, subject },
    expiresAtSec: typeof exp === 'number' ? exp : Math.floor(Date.now() / 1000) + 300,
  };
}

/** The claims of a JWT whose signature was already verified. */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (ch) => ch.charCodeAt(0))));
}
