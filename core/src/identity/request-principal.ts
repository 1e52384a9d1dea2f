import { AexError, ANONYMOUS, hasRole, type Principal, type Role } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import type { Context, MiddlewareHandler } from 'hono';

/** RFC 6750 §3: the challenge of a 401 where no credential was sent (as core's authenticate sends it). */
export const BEARER_CHALLENGE = 'Bearer realm="aex"';

/**
 * Who a request proved to be, as core's authentication middleware set it; anonymous when
 * nothing was set (so a route can never be opened by a missing middleware).
 */
export function principalOf(c: Context<AexEnv>): Principal {
  return c.get('principal') ?? ANONYMOUS;
}

/**
 * The request's principal when it holds `role` or a stronger one. Otherwise a 401
 * `unauthenticated` (with `WWW-Authenticate: Bearer`) for a request that proved nothing, or
 * a 403 `forbidden` for one whose role is too weak (or that has no AEX role at all).
 */
export function requireRole(c: Context<AexEnv>, role: Role): Principal {
  const principal = principalOf(c);
  if (principal.method === 'anonymous') {
    throw new AexError(
      'unauthenticated',
      'Log in first: send Authorization: Bearer <access token> (from POST /api/v1/auth/login) or an API key.',
      { headers: { 'www-authenticate': BEARER_CHALLENGE } },
    );
  }
  if (!hasRole(principal, role)) {
    throw new AexError(
      'forbidden',
      `This needs the ${role} role; ${principal.role ? `yours is ${principal.role}` : 'you have no AEX role'}. Ask an admin.`,
    );
  }
  return principal;
}

/**
 * `requireRole` as route middleware (`createRoute({ middleware: [roleRequired('admin')] })`):
 * it runs before the body and parameters are validated, so a client without the role learns
 * nothing about what the route accepts.
 */
export function roleRequired(role: Role): MiddlewareHandler<AexEnv> {
  return async function roleRequiredMiddleware(c, next) {
    requireRole(c, role);
    await next();
  };
}
