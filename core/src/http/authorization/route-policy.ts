import type { Role } from '@aex/shared';

export type PolicyMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** Who may call a route: anyone (anonymous clients included), or a principal with at least this role. */
export type Access = 'anyone' | Role;

/** What the audit log records when a request to a route succeeds. */
export interface AuditRule {
  /** `<noun>.<verb>`: `image.update`. */
  action: string;
  targetType: string;
  /**
   * Where the target's id is: a path parameter, a field of the JSON body or of the JSON
   * answer, the last segment of the answer's Location header (the thing a POST created), or
   * another answer header.
   */
  targetId?:
    | { param: string }
    | { bodyField: string }
    | { responseField: string }
    | { location: true }
    | { header: string };
  /** Records only when this holds (say, the upload stored new bytes). Default: every 2xx. */
  when?: (res: Response) => boolean;
  /** Whether the validated JSON body is recorded as the details (bounded, secrets redacted). Default true. */
  body?: boolean;
}

/** One route's rule: who may call it and what a successful call records. */
export interface RoutePolicy {
  method: PolicyMethod;
  /** In Hono's syntax (`/api/v1/images/:id`), exactly as the route is registered. */
  path: string;
  access: Access;
  /**
   * The answer depends on who asks though anyone may ask (`/auth/me`, token answers): it is
   * marked private like every answer of a route that needs a role.
   */
  personal?: boolean;
  /**
   * What a successful call records; null: it changes nothing worth recording (a query sent
   * as POST, a sign-in). Every method but GET and OPTIONS must say which.
   */
  audit?: AuditRule | null;
}

/** Hono's path syntax for an OpenAPI path (`{id}` → `:id`). */
export function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}
