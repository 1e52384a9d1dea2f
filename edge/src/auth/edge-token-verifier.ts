import { externalIssuerOptions } from '@aex/shared/ports/identity/from-env';
import {
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
} from '@aex/shared/ports/identity/token-verifier';
import type { Upstream } from '../routes/api-proxy.ts';
import type { EdgeSecurityEnv } from '../security-env.ts';
import { askCore } from './ask-core.ts';
import { cachedTokenVerifier } from './cached-token-verifier.ts';

const JWKS_PATH = '/.well-known/jwks.json';

export interface EdgeTokenVerifierOptions {
  config: EdgeSecurityEnv & { CORE_URL: string };
  /**
   * Core in this process (all-in-one): its JWKS is read through the fetch handler, with no
   * HTTP round trip. Unset: core answers at CORE_URL.
   */
  inProcessCore?: Upstream;
}

/**
 * The verifier of bearer tokens at the edge: an external OIDC issuer's (AEX_OIDC_ISSUER), or
 * else the built-in issuer's, whose `iss` is AEX_PUBLIC_URL and whose keys core publishes at
 * `/.well-known/jwks.json`. Either way the same shared verifier checks them (issue 5: "the
 * edge verifies its tokens exactly as it verifies an external provider's"), with accepted
 * tokens remembered until they expire.
 */
export function edgeTokenVerifier(options: EdgeTokenVerifierOptions): TokenVerifier {
  const { config } = options;
  const external = externalIssuerOptions(config);
  if (external) return cachedTokenVerifier(createTokenVerifier(external));
  // The built-in issuer puts AEX's role names in `realm_access.roles`, so the defaults read
  // them whatever AEX_ROLES_CLAIM and AEX_ROLE_MAP say about an external provider.
  const builtIn: TokenVerifierOptions = {
    issuer: config.AEX_PUBLIC_URL,
    audience: config.AEX_OIDC_AUDIENCE,
    clockSkewSec: config.AEX_CLOCK_SKEW / 1000,
  };
  const core = options.inProcessCore;
  if (core) {
    builtIn.keys = async () => {
      const res = await askCore(core, JWKS_PATH, {}, 'edge-jwks');
      if (!res.ok) throw new Error(`core answered ${res.status} for its JWKS`);
      return res.json();
    };
  } else {
    builtIn.jwksUrl = new URL(JWKS_PATH, config.CORE_URL).toString();
  }
  return cachedTokenVerifier(createTokenVerifier(builtIn));
}
