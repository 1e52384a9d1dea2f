import { ROLES, type Role } from './principal.ts';

/** Names a provider gives its roles or groups, mapped to the AEX role each one grants. */
export type RoleMap = Readonly<Record<string, Role>>;

/**
 * The role map used when `AEX_ROLE_MAP` is unset: the provider's `admin`, `editor` and
 * `reader` are AEX's. A map that is set replaces it (it does not add to it), so a realm
 * whose `admin` role means something else grants nothing in AEX by accident.
 */
export const IDENTITY_ROLE_MAP: RoleMap = Object.freeze(
  Object.fromEntries(ROLES.map((role) => [role, role])) as Record<string, Role>,
);

/** Thrown by `parseRoleMap` for text that is not `name=role,...`. */
export class RoleMapSyntaxError extends Error {
  override name = 'RoleMapSyntaxError';
}

/**
 * Parses `AEX_ROLE_MAP`: `name=role` pairs separated by commas, e.g.
 * `aex-admins=admin,photographers=editor,staff=reader`. Names are matched exactly (case
 * matters, as providers' do); a name may hold `=` (the last one separates the role) but not
 * `,`. Each role must be one of `reader`, `editor`, `admin`.
 */
export function parseRoleMap(text: string): RoleMap {
  const map: Record<string, Role> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.lastIndexOf('=');
    const name = at < 0 ? '' : pair.slice(0, at).trim();
    const role = at < 0 ? '' : pair.slice(at + 1).trim();
    if (name === '' || !(ROLES as readonly string[]).includes(role)) {
      throw new RoleMapSyntaxError(
        `"${pair.trim()}" is not name=role with a role of ${ROLES.join(', ')} (e.g. aex-admins=admin,staff=reader)`,
      );
    }
    if (Object.hasOwn(map, name) && map[name] !== role) {
      throw new RoleMapSyntaxError(`"${name}" is mapped twice, to ${map[name]} and ${role}`);
    }
    map[name] = role as Role;
  }
  if (Object.keys(map).length === 0) {
    throw new RoleMapSyntaxError('it maps no name: give name=role pairs, e.g. staff=reader');
  }
  return Object.freeze(map);
}
