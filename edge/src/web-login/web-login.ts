import { ConfigError } from '@aex/shared';
import { createTokenVerifier, type TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import { type CookieSealer, createCookieSealer } from './cookie-sealer.ts';
import { type CookieJar, cookieJar } from './cookies.ts';
import { createOidcProvider, type OidcProvider } from './oidc-provider.ts';

/** Cookie names (before the `__Host-` prefix over https) and the sealer purposes. */
export const LOGIN_COOKIE = 'aex-login';
export const SESSION_COOKIE = 'aex-session';

/** How long a started sign-in may take at the provider. */
export const LOGIN_TTL_SEC = 600;

/** Everything the web login needs, built once per edge from the configuration. */
export interface WebLogin {
  issuer: string;
  clientId: string;
  /** `AEX_PUBLIC_URL` without a trailing slash: the callback is `<publicUrl>/auth/callback`. */
  publicUrl: string;
  /** The origin the browser's requests come from (`Origin` header) when they are ours. */
  publicOrigin: string;
  provider: OidcProvider;
  sealer: CookieSealer;
  cookies: CookieJar;
  /** Verifies the provider's ID tokens: its issuer, audience = the client id. */
  idTokens: TokenVerifier;
}

export interface WebLoginSettings {
  AEX_OIDC_ISSUER: string;
  AEX_OIDC_JWKS_URL?: string;
  AEX_OIDC_CLIENT_ID: string;
  AEX_PUBLIC_URL: string;
  AEX_CLOCK_SKEW: number;
}

/**
 * The web login of an external OIDC provider. `secret` seals its cookies; every edge replica
 * must have the same one (the URL signing key serves, through a key derivation of its own).
 */
export function createWebLogin(settings: WebLoginSettings, secret: Uint8Array): WebLogin {
  const publicUrl = settings.AEX_PUBLIC_URL.replace(/\/+$/, '');
  return {
    issuer: settings.AEX_OIDC_ISSUER,
    clientId: settings.AEX_OIDC_CLIENT_ID,
    publicUrl,
    publicOrigin: new URL(publicUrl).origin,
    provider: createOidcProvider({ issuer: settings.AEX_OIDC_ISSUER }),
    sealer: createCookieSealer(secret),
    cookies: cookieJar(publicUrl),
    idTokens: createTokenVerifier({
      issuer: settings.AEX_OIDC_ISSUER,
      audience: settings.AEX_OIDC_CLIENT_ID,
      jwksUrl: settings.AEX_OIDC_JWKS_URL,
      clockSkewSec: settings.AEX_CLOCK_SKEW / 1000,
    }),
  };
}

/**
 * The web login the configuration asks for: none without AEX_OIDC_ISSUER (the built-in
 * issuer's users sign in with a password at core). Its cookies are sealed with a key derived
 * from the URL signing key, which every edge already shares.
 */
export function webLoginFromConfig(
  config: Omit<WebLoginSettings, 'AEX_OIDC_ISSUER'> & {
    AEX_OIDC_ISSUER?: string;
    AEX_URL_SIGNING_KEY?: Uint8Array;
  },
  urlSigningKey: Uint8Array | undefined,
): WebLogin | undefined {
  const issuer = config.AEX_OIDC_ISSUER;
  if (!issuer) return undefined;
  const secret = urlSigningKey ?? config.AEX_URL_SIGNING_KEY;
  if (!secret) {
    throw new ConfigError([
      'AEX_URL_SIGNING_KEY: must be set for the web login (AEX_OIDC_ISSUER is set): it seals the sign-in cookies; set the same value on every edge',
    ]);
  }
  return createWebLogin({ ...config, AEX_OIDC_ISSUER: issuer }, secret);
}
