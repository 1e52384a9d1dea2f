import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { SigningKeyRow } from '../db/identity-schema.ts';
import type { NewSigningKey, SigningKeyRepository } from '../db/signing-key-repository.ts';

export const SIGNING_ALGORITHM = 'ES256';

/**
 * How long a new key is published before it signs: longer than the JWKS may sit in a cache
 * (`max-age=300`) plus a verifier's wait before it re-reads keys for an unknown kid (30 s)
 * plus a replica's own cache. Every verifier then knows the key before it sees a token of it.
 */
export const KEY_PUBLISHED_AHEAD_MS = 10 * 60_000;

/** A key ready to sign with. */
export interface ActiveSigningKey {
  kid: string;
  key: CryptoKey;
}

export interface SigningKeysOptions {
  /** How long a retired key stays published: at least the lifetime of the tokens it signed. */
  retiredKeyLifetimeMs: number;
  /** How long this process trusts the keys it read before reading them again. */
  cacheMs: number;
  now: () => Date;
}

/**
 * The built-in issuer's ES256 keys, kept in the metadata store so every core replica signs
 * with the same key and publishes the same JWKS. A rotation publishes the new key first and
 * switches to it `KEY_PUBLISHED_AHEAD_MS` later, on every replica at the same moment; the
 * old key stays published until every token it signed has expired.
 */
export class SigningKeys {
  private read: { at: number; rows: Promise<SigningKeyRow[]> } | undefined;
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly options: SigningKeysOptions,
  ) {}

  /** Makes the first key when the store has none. */
  async ensure(): Promise<void> {
    await this.repo.ensureOne(() => newSigningKey(this.options.now()));
  }

  /** The key that signs now: of those active (activated, not retired), the last activated. */
  async current(): Promise<ActiveSigningKey> {
    const now = this.options.now();
    const rows = await this.rows();
    const active =
      rows.filter((r) => r.activatesAt <= now && !(r.retiredAt && r.retiredAt <= now)).at(-1) ??
      rows.at(-1);
    if (!active) throw new Error('the built-in issuer has no signing key');
    let key = this.imported.get(active.kid);
    if (!key) {
      key = importJWK(active.privateJwk as JWK, SIGNING_ALGORITHM) as Promise<CryptoKey>;
      this.imported.set(active.kid, key);
    }
    return { kid: active.kid, key: await key };
  }

  /** The public keys whose tokens may be valid now or soon, newest first: the JWKS. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const since = this.options.now().getTime() - this.options.retiredKeyLifetimeMs;
    const rows = (await this.rows()).filter((r) => !r.retiredAt || r.retiredAt.getTime() > since);
    return { keys: rows.reverse().map((row) => row.publicJwk as JWK) };
  }

  /**
   * Adds a new key that signs from `activateInMs` on (default `KEY_PUBLISHED_AHEAD_MS`;
   * 0 switches at once, for a key that leaked). Returns its kid.
   */
  async rotate(activateInMs = KEY_PUBLISHED_AHEAD_MS): Promise<string> {
    const now = this.options.now();
    const key = await newSigningKey(new Date(now.getTime() + activateInMs));
    await this.repo.rotate(key);
    this.read = undefined;
    return key.kid;
  }

  /** Every live key, oldest activation first; read again every `cacheMs`. */
  private rows(): Promise<SigningKeyRow[]> {
    const at = this.options.now().getTime();
    if (!this.read || at - this.read.at >= this.options.cacheMs) {
      const rows = this.repo.live(new Date(at - this.options.retiredKeyLifetimeMs));
      this.read = { at, rows };
      rows.catch(() => {
        if (this.read?.rows === rows) this.read = undefined;
      });
    }
    return this.read.rows;
  }
}

/** A fresh ES256 key pair as stored: the kid is the RFC 7638 thumbprint of the public key. */
async function newSigningKey(activatesAt: Date): Promise<NewSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, {
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg: SIGNING_ALGORITHM, use: 'sig' };
  return {
    kid,
    alg: SIGNING_ALGORITHM,
    privateJwk: { ...(await exportJWK(privateKey)), ...meta },
    publicJwk: { ...publicJwk, ...meta },
    createdAt: new Date(),
    activatesAt,
  };
}
