import type { ErrorCode } from '@aex/shared';
import { type AexEnv, problemResponse } from '@aex/shared/http';
import { KeySourceUnavailableError } from '@aex/shared/ports/identity/errors';
import type { Context } from 'hono';
import { ProviderUnavailableError } from './oidc-provider.ts';

/** RFC 6749 §4.1.2.1 error codes, as what the user should do about them. */
export function providerRefused(
  c: Context<AexEnv>,
  error: string,
  description: string | undefined,
): Response {
  const said = description ? `: ${description.replace(/[^\x20-\x7e]/g, '').slice(0, 200)}` : '';
  const code = error.replace(/[^\w.-]/g, '').slice(0, 64);
  c.get('log').warn({ error: code, description: description?.slice(0, 200) }, 'sign-in refused');
  if (code === 'access_denied') {
    return problem(
      c,
      'forbidden',
      `The sign-in was refused at the provider (access_denied${said}). Start again at /auth/login, or ask an administrator for access.`,
    );
  }
  if (code === 'temporarily_unavailable' || code === 'server_error') {
    return problem(
      c,
      'unavailable',
      `The sign-in provider could not sign you in right now (${code}${said}). Retry in a moment at /auth/login.`,
      { 'retry-after': '30' },
    );
  }
  return problem(
    c,
    'invalid_input',
    `The sign-in provider refused the sign-in (${code || 'unknown error'}${said}). Start again at /auth/login; if it persists, an administrator should check the provider's settings of the client AEX_OIDC_CLIENT_ID.`,
  );
}

export function providerDown(c: Context<AexEnv>, err: unknown): Response {
  if (!(err instanceof ProviderUnavailableError) && !(err instanceof KeySourceUnavailableError)) {
    throw err;
  }
  c.get('log').warn({ err: err.message }, 'sign-in provider unavailable');
  return problem(
    c,
    'unavailable',
    'The sign-in provider cannot be reached right now. Retry in a moment at /auth/login.',
    { 'retry-after': '30' },
  );
}

/**
 * problemResponse, keeping the cookies this request set or deleted: it builds a Response of
 * its own, which would otherwise lose what `setCookie` and `deleteCookie` put on the context.
 */
export function problem(
  c: Context<AexEnv>,
  code: ErrorCode,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const res = problemResponse(c, code, detail, headers);
  for (const cookie of c.res.headers.getSetCookie()) res.headers.append('set-cookie', cookie);
  return res;
}
