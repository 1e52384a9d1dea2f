import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode';

/**
 * Seals small JSON values into cookie values that the browser can hold but neither read nor
 * change: AES-256-GCM (confidentiality and integrity), with a key derived by HKDF-SHA256 from
 * the edge's secret, so every edge replica that shares the secret opens every cookie. The
 * purpose is the GCM associated data: a value sealed as a login state cannot be replayed as
 * a session. Each value carries its own expiry, checked on opening, so an old cookie a
 * browser failed to drop (or an attacker kept) is worth nothing after it.
 */
export interface CookieSealer {
  seal(purpose: string, value: unknown, expiresAtSec: number): Promise<string>;
  /** The value, or null when the text was not sealed by us for this purpose, or has expired. */
  open<T>(purpose: string, sealed: string, nowMs?: number): Promise<T | null>;
}

const VERSION = 'v1';
const IV_BYTES = 12;
/** Sealed values longer than this are not opened (a cookie header holds a few KB anyway). */
const MAX_SEALED_LENGTH = 32 * 1024;

/** A sealer keyed by `secret` (≥ 32 bytes). The key is derived on first use. */
export function createCookieSealer(secret: Uint8Array): CookieSealer {
  if (secret.byteLength < 32) {
    throw new TypeError('createCookieSealer: the secret must have at least 32 bytes');
  }
  let key: Promise<CryptoKey> | undefined;
  const keyOf = () => {
    key ??= (async () => {
      const material = await crypto.subtle.importKey(
        'raw',
        secret as Uint8Array<ArrayBuffer>,
        'HKDF',
        false,
        ['deriveKey'],
      );
      const text = new TextEncoder();
      // A key of its own, so a cookie key can never serve as a URL signature key.
      return crypto.subtle.deriveKey(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: text.encode('aex edge'),
          info: text.encode('aex web-login cookies v1'),
        },
        material,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      );
    })();
    return key;
  };
  const aad = (purpose: string) => new TextEncoder().encode(`aex:${purpose}`);

  return {
    async seal(purpose, value, expiresAtSec) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const plain = new TextEncoder().encode(JSON.stringify({ v: value, exp: expiresAtSec }));
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: aad(purpose) },
          await keyOf(),
          plain,
        ),
      );
      const out = new Uint8Array(IV_BYTES + sealed.byteLength);
      out.set(iv);
      out.set(sealed, IV_BYTES);
      return `${VERSION}.${encodeBase64Url(out.buffer).replace(/=+$/, '')}`;
    },
    async open<T>(purpose: string, sealed: string, nowMs = Date.now()): Promise<T | null> {
      if (sealed.length > MAX_SEALED_LENGTH || !sealed.startsWith(`${VERSION}.`)) return null;
      const text = sealed.slice(VERSION.length + 1);
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64Url(text);
      } catch {
        return null;
      }
      // Only the one spelling `seal` writes: base64url's last character has spare bits, and
      // a value that opens under two spellings is a value an attacker can vary at will.
      if (encodeBase64Url(bytes.buffer as ArrayBuffer).replace(/=+$/, '') !== text) return null;
      if (bytes.byteLength <= IV_BYTES + 16) return null;
      let plain: ArrayBuffer;
      try {
        plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: bytes.slice(0, IV_BYTES), additionalData: aad(purpose) },
          await keyOf(),
          bytes.slice(IV_BYTES),
        );
      } catch {
        return null; // altered, or sealed with another key or for another purpose
      }
      const parsed = JSON.parse(new TextDecoder().decode(plain)) as { v: T; exp: number };
      if (typeof parsed.exp !== 'number' || parsed.exp * 1000 <= nowMs) return null;
      return parsed.v;
    },
  };
}
