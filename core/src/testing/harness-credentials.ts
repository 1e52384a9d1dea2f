import type { Role } from '@aex/shared';
import type { TestIssuer } from '@aex/shared/testing/oidc-issuer';

/** Who a harness request is sent as: a role, or no credential at all. */
export type Caller = Role | 'anonymous';

/** `RequestInit` plus who sends it (default `admin`). */
export interface HarnessRequestInit extends RequestInit {
  as?: Caller;
}

/** The first admin every harness core starts with (AEX_ADMIN_EMAIL / AEX_ADMIN_PASSWORD). */
export const HARNESS_ADMIN = Object.freeze({
  email: 'admin@aex.test',
  password: 'harness-admin-password',
});

/** Re-login this long before an access token expires. */
const EXPIRY_MARGIN_MS = 60_000;

type Send = (request: Request) => Promise<Response>;

/**
 * Credentials of a harness core, per role, made the way a user would get them: with the
 * built-in issuer, the first admin logs in, and creates (then logs in) a reader and an editor
 * the first time they are needed; with an external test issuer, its tokens. API keys are
 * created by the admin through the API.
 */
export class HarnessCredentials {
  private readonly tokens = new Map<Role, Promise<{ token: string; expiresAt: number }>>();
  private readonly keys = new Map<Role, Promise<string>>();

  constructor(
    private readonly send: Send,
    private readonly issuer?: TestIssuer,
  ) {}

  /** An access token of `role`. */
  async token(role: Role): Promise<string> {
    const cached = await this.tokens.get(role)?.catch(() => undefined);
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.token;
    const fresh = this.mint(role);
    this.tokens.set(role, fresh);
    return (await fresh).token;
  }

  /** An API key (`aex_…`) of `role`, made once per harness. */
  apiKey(role: Role): Promise<string> {
    let key = this.keys.get(role);
    if (!key) {
      key = this.json('/api/v1/admin/api-keys', { name: `harness ${role}`, role }, 201).then(
        (body) => (body as { key: string }).key,
      );
      this.keys.set(role, key);
    }
    return key;
  }

  /** `init` with the caller's Authorization header, unless it already carries a credential. */
  async sign(init: HarnessRequestInit = {}): Promise<RequestInit> {
    const { as: caller = 'admin', ...rest } = init;
    const headers = new Headers(rest.headers);
    if (caller !== 'anonymous' && !headers.has('authorization') && !headers.has('x-api-key')) {
      headers.set('authorization', `Bearer ${await this.token(caller)}`);
    }
    return { ...rest, headers };
  }

  private async mint(role: Role): Promise<{ token: string; expiresAt: number }> {
    if (this.issuer) {
      return { token: await this.issuer.tokenFor(role), expiresAt: Date.now() + 300_000 };
    }
    const email = role === 'admin' ? HARNESS_ADMIN.email : `${role}@aex.test`;
    const password = role === 'admin' ? HARNESS_ADMIN.password : `harness-${role}-password`;
    if (role !== 'admin') {
      const res = await this.send(
        await this.post('/api/v1/admin/users', {
          email,
          role,
          password,
          displayName: `Harness ${role}`,
        }),
      );
      if (res.status !== 201 && res.status !== 409) {
        throw new Error(
          `harness: creating the ${role} user answered ${res.status}: ${await res.text()}`,
        );
      }
    }
    const res = await this.send(
      new Request('http://aex.test/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      }),
    );
    if (res.status !== 200) {
      throw new Error(`harness: login as ${role} answered ${res.status}: ${await res.text()}`);
    }
    const body = (await res.json()) as { accessToken: string; expiresIn: number };
    return { token: body.accessToken, expiresAt: Date.now() + body.expiresIn * 1000 };
  }

  private async post(path: string, body: unknown): Promise<Request> {
    return new Request(`http://aex.test${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await this.token('admin')}`,
      },
      body: JSON.stringify(body),
    });
  }

  private async json(path: string, body: unknown, status: number): Promise<unknown> {
    const res = await this.send(await this.post(path, body));
    if (res.status !== status) {
      throw new Error(`harness: POST ${path} answered ${res.status}: ${await res.text()}`);
    }
    return res.json();
  }
}
