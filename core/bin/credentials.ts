/**
 * How the `aex` commands that talk to a running AEX prove who they are: an API key
 * (`--api-key` or AEX_API_KEY; an admin makes one at POST /api/v1/admin/api-keys) or an
 * access token (`--token` or AEX_TOKEN, e.g. from POST /api/v1/auth/login). Flags win over
 * the environment.
 */
export interface CredentialOptions {
  apiKey?: string;
  token?: string;
}

/** A credential given wrongly (both kinds, or a key that is not one): a usage error. */
export class CredentialUsageError extends Error {
  override name = 'CredentialUsageError';
}

/** The command's role is too weak, or no valid credential was sent: nothing else will work. */
export class CredentialRefusedError extends Error {
  override name = 'CredentialRefusedError';
}

/** The Authorization header for the credential of the flags or the environment; none when neither has one. */
export function credentialHeaders(
  flags: CredentialOptions,
  env: Record<string, string | undefined>,
): Record<string, string> {
  // Empty counts as unset, as shells make `AEX_API_KEY=` easy to write by accident.
  const set = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const apiKey =
    set(flags.apiKey) ?? (flags.token === undefined ? set(env.AEX_API_KEY) : undefined);
  const token = set(flags.token) ?? (flags.apiKey === undefined ? set(env.AEX_TOKEN) : undefined);
  if (apiKey && token) {
    throw new CredentialUsageError('give an API key or a token, not both');
  }
  if (apiKey !== undefined) {
    if (!/^aex_[A-Za-z0-9_-]{8,500}$/.test(apiKey)) {
      throw new CredentialUsageError('--api-key / AEX_API_KEY must be an AEX API key (aex_…)');
    }
    return { authorization: `Bearer ${apiKey}` };
  }
  if (token !== undefined) {
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
      throw new CredentialUsageError('--token / AEX_TOKEN must be a bearer access token');
    }
    return { authorization: `Bearer ${token}` };
  }
  return {};
}

/**
 * For a 401 or 403 answer, the error that says what to pass; null for any other status.
 * `needs` names the role the command needs.
 */
export function refusal(
  status: number,
  server: string,
  needs: 'editor' | 'admin',
  detail?: string,
): CredentialRefusedError | null {
  const said = detail ? ` (${detail})` : '';
  if (status === 401) {
    return new CredentialRefusedError(
      `${server} refused the request: no valid credential${said}. Pass --api-key aex_… (or set AEX_API_KEY) with a key of role ${needs} or stronger; an admin creates one with POST /api/v1/admin/api-keys. A token from POST /api/v1/auth/login works too (--token or AEX_TOKEN).`,
    );
  }
  if (status === 403) {
    return new CredentialRefusedError(
      `${server} refused the request: this needs the ${needs} role${said}. Pass --api-key with a key of role ${needs} or stronger (or set AEX_API_KEY).`,
    );
  }
  return null;
}
