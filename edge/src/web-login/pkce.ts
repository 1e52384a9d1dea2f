import { encodeBase64Url } from 'hono/utils/encode';

/**
 * PKCE (RFC 7636) and the other one-time values of a sign-in, from Web Crypto only.
 */

/** `n` random bytes as base64url without padding. 32 bytes: 256 bits, 43 characters. */
export function randomUrlToken(bytes = 32): string {
  return unpadded(encodeBase64Url(crypto.getRandomValues(new Uint8Array(bytes)).buffer));
}

/**
 * A `code_verifier`: RFC 7636 §4.1 asks for 43–128 characters of [A-Za-z0-9-._~] with enough
 * entropy; 32 random bytes in base64url are 43 such characters and 256 bits.
 */
export function newCodeVerifier(): string {
  return randomUrlToken(32);
}

/** The S256 `code_challenge` of a verifier: BASE64URL(SHA256(ASCII(verifier))) (§4.2). */
export async function codeChallengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return unpadded(encodeBase64Url(digest));
}

function unpadded(text: string): string {
  return text.replace(/=+$/, '');
}
