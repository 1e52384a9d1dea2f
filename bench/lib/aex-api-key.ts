import type { Role } from '@aex/shared';
import { type AexServer, BENCH_ADMIN } from './aex-server.ts';

/**
 * An API key of `role` for a benchmark run, made as a user would: the first admin logs in
 * (POST /api/v1/auth/login) and creates it (POST /api/v1/admin/api-keys). An API key rather
 * than the login's access token: it does not expire during a long run, and it is what
 * `aex import` uses in practice.
 */
export async function createApiKey(server: AexServer, role: Role, name: string): Promise<string> {
  const login = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: BENCH_ADMIN.email, password: BENCH_ADMIN.password }),
  });
  if (login.status !== 200) {
    throw new Error(`login as the bench admin answered ${login.status}: ${await login.text()}`);
  }
  const { accessToken } = (await login.json()) as { accessToken: string };
  const created = await fetch(`${server.baseUrl}/api/v1/admin/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ name, role }),
  });
  if (created.status !== 201) {
    throw new Error(`creating an API key answered ${created.status}: ${await created.text()}`);
  }
  return ((await created.json()) as { key: string }).key;
}
