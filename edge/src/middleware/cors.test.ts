import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ConfigError } from '@aex/shared';
import { parseEdgeConfig } from '../config.ts';
import { type SecurityFixture, startSecurityFixture } from '../testing/security-fixture.ts';

const APP = 'https://app.example.org';

describe('CORS', () => {
  let f: SecurityFixture;
  beforeAll(async () => {
    f = await startSecurityFixture();
  });
  afterAll(() => f?.stop());

  const preflight = (origin: string) => ({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

  test('a listed origin passes the preflight and reads the answer', async () => {
    const app = f.app({ AEX_CORS_ORIGINS: `${APP}, http://localhost:5173` });
    const res = await app.request('/api/v1/images', preflight(APP));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
    // Bearer headers, never cookies: no credentials mode.
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await app.request('/api/v1/images', { headers: { origin: APP } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(APP);
    expect(get.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining');
    expect(get.headers.get('vary')).toContain('Origin');
  });

  test('any other origin, and every origin by default, is denied', async () => {
    const listed = f.app({ AEX_CORS_ORIGINS: APP });
    const byDefault = f.app();
    for (const [app, origin] of [
      [listed, 'https://evil.example'],
      [listed, `${APP}.evil.example`],
      [listed, 'null'],
      [byDefault, APP],
    ] as const) {
      const res = await app.request('/api/v1/images', preflight(origin));
      expect({ origin, allow: res.headers.get('access-control-allow-origin') }).toEqual({
        origin,
        allow: null,
      });
      const get = await app.request('/api/v1/images', { headers: { origin } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  test('AEX_CORS_ORIGINS takes origins only', () => {
    const key = { AEX_URL_SIGNING_KEY: '11'.repeat(32) };
    expect(
      parseEdgeConfig({ ...key, AEX_CORS_ORIGINS: `${APP}/, http://localhost:5173` })
        .AEX_CORS_ORIGINS,
    ).toEqual([APP, 'http://localhost:5173']);
    for (const bad of [
      '*',
      'app.example.org',
      `${APP}/path`,
      'ftp://x.example',
      'javascript:alert(1)',
    ]) {
      expect(() => parseEdgeConfig({ ...key, AEX_CORS_ORIGINS: bad })).toThrow(ConfigError);
    }
  });
});
