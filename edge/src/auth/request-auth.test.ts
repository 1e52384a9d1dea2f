import { describe, expect, test } from 'bun:test';
import { credentialOf } from './request-auth.ts';

const of = (headers: Record<string, string>) => credentialOf(new Headers(headers));

describe('credentialOf', () => {
  test('bearer JWTs, API keys in either header, and nothing', () => {
    expect(of({ authorization: 'Bearer a.b.c' })).toEqual({ kind: 'bearer', token: 'a.b.c' });
    expect(of({ authorization: 'bearer   a.b.c ' })).toEqual({ kind: 'bearer', token: 'a.b.c' });
    expect(of({ authorization: 'Bearer aex_id_secret' })).toEqual({
      kind: 'api-key',
      key: 'aex_id_secret',
    });
    expect(of({ 'x-api-key': ' aex_id_secret ' })).toEqual({
      kind: 'api-key',
      key: 'aex_id_secret',
    });
    expect(of({})).toEqual({ kind: 'none' });
  });

  test('Authorization wins over X-Api-Key; other schemes are not AEX credentials', () => {
    expect(of({ authorization: 'Bearer a.b.c', 'x-api-key': 'aex_k_s' })).toEqual({
      kind: 'bearer',
      token: 'a.b.c',
    });
    expect(of({ authorization: 'Basic dTpw' })).toEqual({ kind: 'none' });
    expect(of({ authorization: 'Basic dTpw', 'x-api-key': 'aex_k_s' })).toEqual({
      kind: 'api-key',
      key: 'aex_k_s',
    });
  });

  test('an empty or oversized bearer is still a (bad) token, bounded in size', () => {
    expect(of({ authorization: 'Bearer ' })).toEqual({ kind: 'bearer', token: '' });
    const huge = of({ authorization: `Bearer ${'a'.repeat(1_000_000)}` });
    expect(huge.kind).toBe('bearer');
    expect((huge as { token: string }).token.length).toBe(16 * 1024 + 1);
    expect(of({ authorization: 'Bearer a b' })).toEqual({ kind: 'none' });
  });
});
