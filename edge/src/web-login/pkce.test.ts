import { describe, expect, test } from 'bun:test';
import { codeChallengeS256, newCodeVerifier, randomUrlToken } from './pkce.ts';
import { safeReturnTo } from './return-to.ts';

describe('PKCE', () => {
  test('S256 of the RFC 7636 Appendix B example', async () => {
    expect(await codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  test('verifiers are 43 unreserved characters and never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const v = newCodeVerifier();
      expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(200);
    expect(randomUrlToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('safeReturnTo', () => {
  test('paths of this site pass', () => {
    for (const path of ['/', '/albums/7', '/search?q=a%20dog#top']) {
      expect(safeReturnTo(path)).toBe(path);
    }
  });

  test('anything that could leave the site becomes /', () => {
    for (const value of [
      undefined,
      '',
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
      'albums',
      '/a\r\nSet-Cookie: x=1',
      '/a\\b',
      `/${'a'.repeat(3000)}`,
    ]) {
      expect({ value, to: safeReturnTo(value) }).toEqual({ value, to: '/' });
    }
  });
});
