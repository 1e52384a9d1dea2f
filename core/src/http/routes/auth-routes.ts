import type { AexEnv } from '@aex/shared/http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Identity } from '../../identity/mod.ts';
import { registerApiKeys } from './api-keys.ts';
import { registerAuthMe } from './auth-me.ts';
import { registerAuthSession } from './auth-session.ts';
import { registerUsersAdmin } from './users-admin.ts';
import { registerWellKnown } from './well-known.ts';

/**
 * The built-in identity provider's routes: login, refresh, logout and `me`; JWKS and OIDC
 * discovery; users and API keys for admins.
 */
export function registerIdentity(app: OpenAPIHono<AexEnv>, deps: { identity: Identity }): void {
  registerWellKnown(app, deps);
  registerAuthSession(app, deps);
  registerAuthMe(app);
  registerUsersAdmin(app, deps);
  registerApiKeys(app, deps);
}
