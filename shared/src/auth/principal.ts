import { z } from 'zod';

/**
 * The roles of AEX, weakest first (issue 5): a reader browses and searches the whole library,
 * an editor also uploads, edits and deletes images and manages albums and people, an admin
 * also manages users, roles, API keys, models and jobs. Anonymous clients have no role.
 */
export const ROLES = ['reader', 'editor', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** How a request proved who it is. */
export const AUTH_METHODS = ['token', 'api-key', 'signed-url', 'anonymous'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Who is making a request: what authorization decides on and what audit records name. */
export interface Principal {
  /** Stable id: the token's `sub`, `apikey:<key id>`, or `anonymous`. */
  subject: string;
  /** null for an anonymous client. */
  role: Role | null;
  method: AuthMethod;
  /** Shown in audit records and logs (email, key name); never a secret. */
  displayName?: string;
}

/** The principal of a request that proved nothing. */
export const ANONYMOUS: Principal = Object.freeze({
  subject: 'anonymous',
  role: null,
  method: 'anonymous',
});

/** Whether `principal` holds `required` or a stronger role. */
export function hasRole(principal: Principal, required: Role): boolean {
  if (principal.role === null) return false;
  return ROLES.indexOf(principal.role) >= ROLES.indexOf(required);
}

/** The strongest of `roles` (names already mapped to AEX roles), or null when none. */
export function strongestRole(roles: Iterable<Role>): Role | null {
  let best: Role | null = null;
  for (const role of roles) {
    if (best === null || ROLES.indexOf(role) > ROLES.indexOf(best)) best = role;
  }
  return best;
}
