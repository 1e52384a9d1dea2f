import { AexError, hasRole } from '@aex/shared';
import { type AexEnv, problemResponse } from '@aex/shared/http';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AuditLog } from '../../services/audit-log.ts';
import { BEARER_CHALLENGE } from '../middleware/authenticate/index.ts';
import type { AuditRule, RoutePolicy } from './route-policy.ts';

export interface PolicyDeps {
  audit: Pick<AuditLog, 'record'>;
}

// Contexts a policy has admitted; the catch-all below refuses the others.
const admitted = new WeakSet<Context>();
// Every policy middleware, so the route check can tell them from the routes they guard.
const policyHandlers = new WeakSet<object>();

/**
 * Guards every route of `app` with its policy: registers one middleware per policy, on the
 * policy's own method and path, so Hono's router decides which policy applies exactly as it
 * decides which handler runs (no second path matcher to disagree with it). A request that no
 * policy admitted is a 404 before any handler sees it: a route without a policy cannot be
 * reached even if the start-up check below were skipped. Call before registering routes.
 */
export function installRoutePolicies(
  app: Hono<AexEnv>,
  policies: readonly RoutePolicy[],
  deps: PolicyDeps,
): void {
  for (const policy of policies) {
    if (policy.method !== 'GET' && policy.method !== 'OPTIONS' && policy.audit === undefined) {
      throw new TypeError(
        `${policy.method} ${policy.path}: say what the audit log records (an AuditRule, or null when the route changes nothing)`,
      );
    }
    const handler = enforcePolicy(policy, deps);
    policyHandlers.add(handler);
    app.on(policy.method, policy.path, handler);
  }
  app.use('*', async function refuseUnlistedRoute(c, next) {
    if (!admitted.has(c)) {
      throw new AexError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
    }
    return next();
  });
}

/**
 * Throws when a route of `app` has no policy, or was registered before the policies (its
 * handler would run before them). Called once the app is built, so a route added without a
 * rule stops core from starting, in every test, instead of shipping unguarded.
 */
export function assertEveryRouteHasPolicy(
  app: Hono<AexEnv>,
  policies: readonly RoutePolicy[],
): void {
  const listed = new Set(policies.map((p) => `${p.method} ${p.path}`));
  const firstPolicy = app.routes.findIndex((r) => policyHandlers.has(r.handler));
  const problems: string[] = [];
  app.routes.forEach((route, index) => {
    // app.use() middleware (method ALL) answers nothing by itself in core.
    if (route.method === 'ALL' || policyHandlers.has(route.handler)) return;
    const key = `${route.method} ${route.path}`;
    if (!listed.has(key)) problems.push(`${key} has no policy`);
    else if (firstPolicy < 0 || index < firstPolicy)
      problems.push(`${key} is registered before the policies`);
  });
  if (problems.length > 0) {
    throw new Error(
      `Every route needs a rule in core/src/http/authorization/route-policies.ts: ${problems.join('; ')}.`,
    );
  }
}

function enforcePolicy(policy: RoutePolicy, deps: PolicyDeps): MiddlewareHandler<AexEnv> {
  return async function enforceRoutePolicy(c, next) {
    const principal = c.get('principal');
    if (policy.access !== 'anyone') {
      if (principal.method === 'anonymous') {
        return problemResponse(
          c,
          'unauthenticated',
          'Sign in first: send Authorization: Bearer <access token>, or an API key (Authorization: Bearer aex_… or X-Api-Key).',
          { 'www-authenticate': BEARER_CHALLENGE },
        );
      }
      if (!hasRole(principal, policy.access)) {
        return problemResponse(
          c,
          'forbidden',
          `${policy.method} ${policy.path} needs the ${policy.access} role or a stronger one; you have ${principal.role ?? 'no role'}. Ask an admin.`,
        );
      }
    }
    // Two policies can match one request (a static path and a parameter one): each checks
    // access, the first one does the rest.
    if (admitted.has(c)) return next();
    admitted.add(c);
    const params = c.req.param() as Record<string, string>;
    await next();
    if (policy.access !== 'anyone' || policy.personal) keepPrivate(c);
    if (policy.audit && c.res.status < 300) await recordChange(c, policy.audit, params, deps);
  };
}

/**
 * An answer that depends on who asks never goes into a shared cache (a CDN, a proxy): it is
 * `private` (and `no-store` unless the route chose a private lifetime), and `Vary` names the
 * credential headers for any cache that keeps it.
 */
function keepPrivate(c: Context<AexEnv>): void {
  const cacheControl = c.res.headers.get('cache-control');
  const privateControl = !cacheControl
    ? 'private, no-store'
    : /\b(public|s-maxage=\d+)\b/i.test(cacheControl)
      ? 'private, no-store'
      : /\b(private|no-store)\b/i.test(cacheControl)
        ? cacheControl
        : `private, ${cacheControl}`;
  const vary = (c.res.headers.get('vary') ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const names = new Set(vary.map((v) => v.toLowerCase()));
  for (const name of ['Authorization', 'X-Api-Key'])
    if (!names.has(name.toLowerCase())) vary.push(name);
  const varied = vary.join(', ');
  try {
    c.res.headers.set('cache-control', privateControl);
    c.res.headers.set('vary', varied);
  } catch {
    // A response with immutable headers: copied into one that can take them.
    const res = new Response(c.res.body, c.res);
    res.headers.set('cache-control', privateControl);
    res.headers.set('vary', varied);
    c.res = res;
  }
}

async function recordChange(
  c: Context<AexEnv>,
  rule: AuditRule,
  params: Record<string, string>,
  deps: PolicyDeps,
): Promise<void> {
  // A replayed Idempotency-Key answer changed nothing this time.
  if (c.res.headers.get('idempotent-replayed') === 'true') return;
  if (rule.when && !rule.when(c.res)) return;
  const body = validatedJson(c);
  const entry = {
    actor: c.get('principal'),
    action: rule.action,
    targetType: rule.targetType,
    targetId: await targetIdOf(rule, params, body, c.res),
    requestId: c.get('requestId'),
    details: rule.body === false ? null : body,
  };
  try {
    await deps.audit.record(entry);
  } catch (err) {
    // The change is committed and the client is told so; the entry stays in the log for a
    // replay rather than turning a done change into an error the client would retry.
    c.get('log').error({ err, audit: entry }, 'audit entry not recorded');
  }
}

function validatedJson(c: Context<AexEnv>): Record<string, unknown> | null {
  // Set by the route's validator while the handler ran; undefined for routes without a JSON body.
  const body = (c.req as unknown as { valid(target: 'json'): unknown }).valid('json');
  return body && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : null;
}

async function targetIdOf(
  rule: AuditRule,
  params: Record<string, string>,
  body: Record<string, unknown> | null,
  res: Response,
): Promise<string | null> {
  const where = rule.targetId;
  if (!where) return null;
  if ('param' in where) return params[where.param] ?? null;
  if ('bodyField' in where) {
    const value = body?.[where.bodyField];
    return typeof value === 'string' ? value : null;
  }
  if ('responseField' in where) {
    // A clone: the client still gets the whole body.
    const answer = (await res
      .clone()
      .json()
      .catch(() => null)) as Record<string, unknown> | null;
    const value = answer?.[where.responseField];
    return typeof value === 'string' ? value : null;
  }
  if ('location' in where) return res.headers.get('location')?.split('/').pop() || null;
  return res.headers.get(where.header);
}
