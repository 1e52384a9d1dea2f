import { describe, expect, test } from 'bun:test';
import { z } from 'zod';
import {
  constantTimeEqual,
  envUrlSigningKey,
  parseUrlSigningKey,
  signedUrlExpiry,
  signThumbnailUrl,
  UrlSigningKeyError,
  verifyThumbnailSignature,
} from './signed-url.ts';

const SHA = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const KEY = crypto.getRandomValues(new Uint8Array(32));
const NOW = Date.UTC(2030, 0, 1, 12, 3, 20);

function params(url: string): { exp: string | undefined; sig: string | undefined } {
  const u = new URL(url, 'http://aex.test');
  return {
    exp: u.searchParams.get('exp') ?? undefined,
    sig: u.searchParams.get('sig') ?? undefined,
  };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The base64url character with the same top 4 bits and other spare bits. */
function spare(ch: string): string {
  const i = B64URL.indexOf(ch);
  return B64URL[(i & ~3) | ((i + 1) & 3)] ?? 'A';
}

describe('signed thumbnail URLs', () => {
  test('a signed URL verifies for its image and variant until it expires', async () => {
    const url = await signThumbnailUrl({ sha256: SHA, variant: 'thumb', key: KEY, now: NOW });
    expect(url).toMatch(new RegExp(`^/t/${SHA}/thumb\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const { exp, sig } = params(url);
    const check = await verifyThumbnailSignature({
      sha256: SHA,
      variant: 'thumb',
      exp,
      sig,
      key: KEY,
      now: NOW,
    });
    expect(check.valid).toBe(true);
    if (!check.valid) return;
    // At least the hour asked for, at most one bucket (10 min) more.
    expect(check.remainingSec).toBeGreaterThanOrEqual(3600);
    expect(check.remainingSec).toBeLessThanOrEqual(4200);
    const late = await verifyThumbnailSignature({
      sha256: SHA,
      variant: 'thumb',
      exp,
      sig,
      key: KEY,
      now: Number(exp) * 1000,
    });
    expect(late).toEqual({ valid: false, reason: 'expired' });
  });

  test('page loads within one bucket get the same URL, so the browser cache answers', async () => {
    const a = await signThumbnailUrl({ sha256: SHA, variant: 'thumb', key: KEY, now: NOW });
    const b = await signThumbnailUrl({
      sha256: SHA,
      variant: 'thumb',
      key: KEY,
      now: NOW + 5 * 60e3,
    });
    expect(b).toBe(a);
    expect(signedUrlExpiry(NOW, 3600, 600) % 600).toBe(0);
  });

  test('a signature is bound to its image, variant, expiry and key', async () => {
    const { exp, sig } = params(
      await signThumbnailUrl({ sha256: SHA, variant: 'thumb', key: KEY, now: NOW }),
    );
    const base = { sha256: SHA, variant: 'thumb', exp, sig, key: KEY, now: NOW };
    const flipped = `${sig?.[0] === 'A' ? 'B' : 'A'}${sig?.slice(1)}`;
    const cases: Array<[string, Parameters<typeof verifyThumbnailSignature>[0]]> = [
      ['another image', { ...base, sha256: OTHER }],
      ['another variant', { ...base, variant: 'preview' }],
      ['a later expiry', { ...base, exp: String(Number(exp) + 600) }],
      ['a changed signature', { ...base, sig: flipped }],
      ['another key', { ...base, key: crypto.getRandomValues(new Uint8Array(32)) }],
      // Same decoded bytes (the last character's 2 spare bits differ): one URL, one spelling.
      ['a second spelling', { ...base, sig: `${sig?.slice(0, 42)}${spare(sig?.at(-1) ?? 'A')}` }],
    ];
    for (const [name, options] of cases) {
      expect({ name, check: await verifyThumbnailSignature(options) }).toEqual({
        name,
        check: { valid: false, reason: 'mismatch' },
      });
    }
  });

  test('missing and malformed parameters are told apart, and never throw', async () => {
    const base = { sha256: SHA, variant: 'thumb', key: KEY, now: NOW };
    expect(await verifyThumbnailSignature({ ...base, exp: undefined, sig: undefined })).toEqual({
      valid: false,
      reason: 'missing',
    });
    const good = 'A'.repeat(43);
    for (const [exp, sig] of [
      ['1893456000', undefined],
      [undefined, good],
      ['-1', good],
      ['0', good],
      ['1e10', good],
      ['99999999999999999999', good],
      ['1893456000', `${good}=`],
      ['1893456000', 'A'.repeat(44)],
      ['1893456000', '../../etc/passwd'],
      ['1893456000', `${'A'.repeat(42)}+`],
    ] as Array<[string | undefined, string | undefined]>) {
      expect({ exp, sig, check: await verifyThumbnailSignature({ ...base, exp, sig }) }).toEqual({
        exp,
        sig,
        check: { valid: false, reason: 'malformed' },
      });
    }
  });

  test('a CryptoKey works as well as raw bytes', async () => {
    const key = await crypto.subtle.importKey(
      'raw',
      KEY,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const url = await signThumbnailUrl({ sha256: SHA, variant: 'preview', key, now: NOW });
    expect(url).toBe(
      await signThumbnailUrl({ sha256: SHA, variant: 'preview', key: KEY, now: NOW }),
    );
  });
});

describe('signing keys', () => {
  test('hex and base64 (padded or url-safe) keys of 32+ bytes are read', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(48));
    const hex = Buffer.from(bytes).toString('hex');
    expect(parseUrlSigningKey(hex)).toEqual(bytes);
    expect(parseUrlSigningKey(` ${hex.toUpperCase()}\n`)).toEqual(bytes);
    expect(parseUrlSigningKey(Buffer.from(bytes).toString('base64'))).toEqual(bytes);
    expect(parseUrlSigningKey(Buffer.from(bytes).toString('base64url'))).toEqual(bytes);
  });

  test('short, empty or garbled keys are refused with how to make a good one', () => {
    for (const bad of [
      '',
      'ab'.repeat(31),
      Buffer.alloc(31).toString('base64'),
      'not a key!',
      'é'.repeat(64),
    ]) {
      expect(() => parseUrlSigningKey(bad)).toThrow(UrlSigningKeyError);
      expect(() => parseUrlSigningKey(bad)).toThrow(/openssl rand -hex 32/);
    }
  });

  test('as a config field the problem is reported, not thrown', () => {
    const schema = z.object({ AEX_URL_SIGNING_KEY: envUrlSigningKey });
    expect(schema.safeParse({ AEX_URL_SIGNING_KEY: 'abcd' }).success).toBe(false);
    expect(schema.parse({ AEX_URL_SIGNING_KEY: '11'.repeat(32) }).AEX_URL_SIGNING_KEY).toHaveLength(
      32,
    );
  });

  test('constantTimeEqual compares whole arrays of any length', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1]), new Uint8Array([]))).toBe(false);
  });
});
