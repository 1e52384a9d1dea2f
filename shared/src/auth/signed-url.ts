import { z } from 'zod';
import type { DerivedVariant } from '../blob-keys.ts';

/**
 * Signed thumbnail and preview URLs (issue 5): core puts
 * `/t/<sha256>/<variant>?exp=<unix seconds>&sig=<base64url HMAC-SHA256 of "<sha256>/<variant>/<exp>">`
 * in the DTO of an internal image, and the edge serves the file to whoever holds the URL until
 * `exp`, without a token (an `<img>` cannot send one). Only Web Crypto is used, so the edge
 * verifies the same way on Bun and on Deno.
 */

/** Shortest HMAC-SHA256 key AEX accepts: the hash's own output size (RFC 2104 §3). */
export const MIN_URL_SIGNING_KEY_BYTES = 32;
/** Default lifetime of a signed URL. */
export const DEFAULT_SIGNED_URL_TTL_SEC = 3600;
/**
 * Expiries are rounded up to a multiple of this, so every page load within the same ten
 * minutes gets the same URL and the browser's cache answers instead of the edge.
 */
export const SIGNED_URL_EXPIRY_BUCKET_SEC = 600;

/** An `AEX_URL_SIGNING_KEY` (or key file) that is not a usable secret. */
export class UrlSigningKeyError extends Error {
  override name = 'UrlSigningKeyError';
}

/**
 * The raw bytes of a signing key written as hex (64+ hex digits) or base64/base64url, at least
 * 32 bytes. Throws `UrlSigningKeyError` saying how to make a good one.
 */
export function parseUrlSigningKey(text: string): Uint8Array {
  const value = text.trim();
  let bytes: Uint8Array | undefined;
  // 64+ hex digits could also be read as base64; hex is what `openssl rand -hex` prints.
  if (/^(?:[0-9a-fA-F]{2})+$/.test(value)) {
    bytes = Uint8Array.from(value.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    bytes = fromBase64Url(value);
  }
  if (!bytes) {
    throw new UrlSigningKeyError('must be hex or base64 (make one with `openssl rand -hex 32`)');
  }
  if (bytes.length < MIN_URL_SIGNING_KEY_BYTES) {
    throw new UrlSigningKeyError(
      `must hold at least ${MIN_URL_SIGNING_KEY_BYTES} bytes, got ${bytes.length} (make one with \`openssl rand -hex 32\`)`,
    );
  }
  return bytes;
}

/** `AEX_URL_SIGNING_KEY` as a config field: the key's bytes. */
export const envUrlSigningKey = z.string().transform((value, ctx) => {
  try {
    return parseUrlSigningKey(value);
  } catch (err) {
    if (!(err instanceof UrlSigningKeyError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

/** The signing key: its bytes, or a CryptoKey imported from them for HMAC-SHA256. */
export type UrlSigningKey = Uint8Array | CryptoKey;

// Importing costs more than signing; a process keeps one key, so the import is kept with it.
const imported = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function hmacKey(key: UrlSigningKey): Promise<CryptoKey> {
  if (!(key instanceof Uint8Array)) return Promise.resolve(key);
  let pending = imported.get(key);
  if (!pending) {
    pending = crypto.subtle.importKey(
      'raw',
      key as Uint8Array<ArrayBuffer>,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    imported.set(key, pending);
  }
  return pending;
}

async function mac(key: UrlSigningKey, sha256: string, variant: string, exp: number) {
  const message = new TextEncoder().encode(`${sha256}/${variant}/${exp}`);
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(key), message));
}

export interface SignThumbnailUrlOptions {
  sha256: string;
  variant: DerivedVariant;
  key: UrlSigningKey;
  /** Now, in milliseconds since the epoch. Default `Date.now()`. */
  now?: number;
  /** At least this long valid; up to one bucket longer. Default 1 h. */
  ttlSec?: number;
  /** Expiries are rounded up to a multiple of this. Default 10 min. */
  bucketSec?: number;
}

/** The expiry (unix seconds) a URL signed at `now` gets: `now + ttl`, rounded up to a bucket. */
export function signedUrlExpiry(now: number, ttlSec: number, bucketSec: number): number {
  const earliest = Math.floor(now / 1000) + ttlSec;
  return Math.ceil(earliest / bucketSec) * bucketSec;
}

/** `/t/<sha256>/<variant>?exp=…&sig=…`, valid until the returned URL's `exp`. */
export async function signThumbnailUrl(options: SignThumbnailUrlOptions): Promise<string> {
  const exp = signedUrlExpiry(
    options.now ?? Date.now(),
    options.ttlSec ?? DEFAULT_SIGNED_URL_TTL_SEC,
    options.bucketSec ?? SIGNED_URL_EXPIRY_BUCKET_SEC,
  );
  const sig = toBase64Url(await mac(options.key, options.sha256, options.variant, exp));
  return `/t/${options.sha256}/${options.variant}?exp=${exp}&sig=${sig}`;
}

export interface VerifyThumbnailSignatureOptions {
  sha256: string;
  variant: string;
  /** The `exp` query parameter as given. */
  exp: string | undefined;
  /** The `sig` query parameter as given. */
  sig: string | undefined;
  key: UrlSigningKey;
  /** Now, in milliseconds since the epoch. Default `Date.now()`. */
  now?: number;
}

/** Why a signed URL does not grant access; `missing` when the URL carries no signature. */
export type SignatureRejection = 'missing' | 'malformed' | 'expired' | 'mismatch';

export type SignatureCheck =
  | { valid: true; expiresAt: number; remainingSec: number }
  | { valid: false; reason: SignatureRejection };

const EXP = /^[1-9][0-9]{0,11}$/;
const SIG = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether `sig` signs this sha256, variant and `exp`, and `exp` is still ahead. The HMAC is
 * recomputed and compared in constant time, so response timing says nothing about how much
 * of a forged signature was right.
 */
export async function verifyThumbnailSignature(
  options: VerifyThumbnailSignatureOptions,
): Promise<SignatureCheck> {
  const { exp, sig } = options;
  if (exp === undefined && sig === undefined) return { valid: false, reason: 'missing' };
  if (exp === undefined || sig === undefined || !EXP.test(exp) || !SIG.test(sig)) {
    return { valid: false, reason: 'malformed' };
  }
  const expected = await mac(options.key, options.sha256, options.variant, Number(exp));
  // Compared as text: base64url's last character carries 2 spare bits, so comparing decoded
  // bytes would accept four spellings of one signature (four cache keys for one URL).
  const text = new TextEncoder();
  if (!constantTimeEqual(text.encode(toBase64Url(expected)), text.encode(sig))) {
    return { valid: false, reason: 'mismatch' };
  }
  const remainingSec = Number(exp) - Math.floor((options.now ?? Date.now()) / 1000);
  if (remainingSec <= 0) return { valid: false, reason: 'expired' };
  return { valid: true, expiresAt: Number(exp), remainingSec };
}

/** Byte-wise equality whose time depends only on the lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i % (b.length || 1)] ?? 0);
  return diff === 0;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | undefined {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (base64.length % 4 === 1) return undefined;
  try {
    return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (ch) =>
      ch.charCodeAt(0),
    );
  } catch {
    return undefined;
  }
}
