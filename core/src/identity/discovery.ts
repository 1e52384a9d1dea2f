import { SIGNING_ALGORITHM } from './signing-keys.ts';

/** Where the built-in issuer's endpoints are, relative to its issuer URL. */
export const IDENTITY_PATHS = {
  jwks: '/.well-known/jwks.json',
  discovery: '/.well-known/openid-configuration',
  login: '/api/v1/auth/login',
  refresh: '/api/v1/auth/refresh',
  logout: '/api/v1/auth/logout',
  me: '/api/v1/auth/me',
} as const;

/**
 * The built-in issuer's OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3), so a
 * verifier configured with only an issuer URL finds the `jwks_uri` exactly as it would at
 * Keycloak or Auth0. Every URL is under `issuer` (AEX_PUBLIC_URL), which is also what the
 * tokens' `iss` holds (§4.3 requires the two to match).
 *
 * The issuer has no browser flow: `token_endpoint` is the JSON login endpoint (email and
 * password in, tokens out), so only `grant_types_supported` `password` and
 * `refresh_token` are claimed, and no `authorization_endpoint`.
 */
export function openIdConfiguration(issuer: string, audience: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}${IDENTITY_PATHS.jwks}`,
    token_endpoint: `${issuer}${IDENTITY_PATHS.login}`,
    grant_types_supported: ['password', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
    claims_supported: [
      'iss',
      'aud',
      'sub',
      'iat',
      'nbf',
      'exp',
      'jti',
      'email',
      'name',
      'realm_access',
    ],
    // Not standard metadata: where the rest of the built-in issuer's API is.
    aex_audience: audience,
    aex_refresh_endpoint: `${issuer}${IDENTITY_PATHS.refresh}`,
    aex_logout_endpoint: `${issuer}${IDENTITY_PATHS.logout}`,
    aex_principal_endpoint: `${issuer}${IDENTITY_PATHS.me}`,
  };
}
