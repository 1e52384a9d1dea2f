import type { IdentityEnv } from '../../src/auth/identity-env.ts';
import type { TokenVerifierOptions } from './token-verifier.ts';

/**
 * Verifier options for the external OIDC issuer `AEX_OIDC_ISSUER`, or null when none is
 * configured (the built-in issuer then verifies its own tokens with its in-process keys).
 */
export function externalIssuerOptions(env: IdentityEnv): TokenVerifierOptions | null {
  if (!env.AEX_OIDC_ISSUER) return null;
  return {
    issuer: env.AEX_OIDC_ISSUER,
    audience: env.AEX_OIDC_AUDIENCE,
    jwksUrl: env.AEX_OIDC_JWKS_URL,
    rolesClaim: env.AEX_ROLES_CLAIM,
    roleMap: env.AEX_ROLE_MAP,
    clockSkewSec: env.AEX_CLOCK_SKEW / 1000,
  };
}
