import { z } from 'zod';
import { envDuration, envUrl } from '../config.ts';
import { parseRoleMap, RoleMapSyntaxError } from './role-map.ts';

/** A dot path into a token's claims: `realm_access.roles`, `groups`. */
const CLAIM_PATH = /^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$/;

/**
 * How bearer tokens are verified: the same variables in core and edge (each spreads
 * `IdentityEnv.shape` into its config). With `AEX_OIDC_ISSUER` unset, core's built-in issuer
 * issues and verifies the tokens.
 */
export const IdentityEnv = z.object({
  /** An external OIDC issuer (Keycloak realm, Auth0 tenant); its tokens' `iss`, exactly. */
  AEX_OIDC_ISSUER: envUrl(['https', 'http']).optional(),
  /** The `aud` every token must carry. */
  AEX_OIDC_AUDIENCE: z.string().min(1).max(256).default('aex'),
  /** The issuer's JWKS; unset: `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  AEX_OIDC_JWKS_URL: envUrl(['https', 'http']).optional(),
  /** Dot path of the claim holding the roles or groups (an array of strings, or a string). */
  AEX_ROLES_CLAIM: z
    .string()
    .regex(CLAIM_PATH, 'must be a dot path of claim names, like realm_access.roles or groups')
    .default('realm_access.roles'),
  /** `name=role,...`: provider roles or groups → AEX roles. Unset: admin, editor, reader as is. */
  AEX_ROLE_MAP: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseRoleMap(value);
      } catch (err) {
        if (!(err instanceof RoleMapSyntaxError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
        return z.NEVER;
      }
    })
    .optional(),
  /** Tolerance on `exp`, `nbf` and `iat`, for clocks that disagree a little. */
  AEX_CLOCK_SKEW: envDuration.pipe(z.number().min(0).max(600_000)).default(30_000),
});
export type IdentityEnv = z.infer<typeof IdentityEnv>;
