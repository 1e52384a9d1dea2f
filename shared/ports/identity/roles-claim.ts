import { type Role, strongestRole } from '../../src/auth/principal.ts';
import type { RoleMap } from '../../src/auth/role-map.ts';

/**
 * The AEX role a token's claims grant: the names at `claimPath` (an array of strings, or one
 * string), each mapped through `roleMap`, the strongest winning; null when none maps.
 *
 * `claimPath` is a dot path (`realm_access.roles`, `groups`). A claim whose own name holds
 * dots, as Auth0's namespaced claims do (`https://aex.example/roles`), is found too: the
 * whole path is first tried as one name.
 */
export function roleFromClaims(
  claims: Record<string, unknown>,
  claimPath: string,
  roleMap: RoleMap,
): Role | null {
  const value = Object.hasOwn(claims, claimPath) ? claims[claimPath] : walk(claims, claimPath);
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const roles: Role[] = [];
  for (const name of names) {
    if (typeof name === 'string' && Object.hasOwn(roleMap, name)) roles.push(roleMap[name] as Role);
  }
  return strongestRole(roles);
}

function walk(claims: Record<string, unknown>, path: string): unknown {
  let at: unknown = claims;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
