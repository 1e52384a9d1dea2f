import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { KeySourceUnavailableError } from './errors.ts';

/** Where the issuer's public keys come from. */
export type KeySourceOptions =
  | { kind: 'url'; jwksUrl: string }
  /** Read `<issuer>/.well-known/openid-configuration` on first use for its `jwks_uri`. */
  | { kind: 'discovery'; issuer: string }
  /** Keys held by this process (the built-in issuer): no HTTP round trip. */
  | { kind: 'in-process'; keys: () => Promise<JSONWebKeySet> };

export interface KeySourceTiming {
  /** Least time between two re-reads caused by an unknown `kid`. */
  cooldownMs: number;
  /** How long one JWKS or discovery request may take. */
  fetchTimeoutMs: number;
}

/** How long a failed discovery is remembered, so an outage does not fan out one request per token. */
const DISCOVERY_RETRY_MS = 5_000;

// Errors that mean "this token names no key we have", as opposed to "we could not get keys".
const KEY_MISMATCH_CODES = new Set([
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSENotSupported.code,
  errors.JWKInvalid.code,
]);

/**
 * A jose key resolver for `options`. Keys are cached and read again when a token names a
 * `kid` not in the cache (key rotation), at most once per `cooldownMs`, so tokens with made-up
 * `kid`s cannot make AEX hammer the issuer. Failing to get keys at all throws
 * `KeySourceUnavailableError`; a token naming no known key gets jose's own key-mismatch error.
 */
export function createKeyResolver(
  options: KeySourceOptions,
  timing: KeySourceTiming,
): JWTVerifyGetKey {
  const resolve = rawResolver(options, timing);
  return async function resolveVerificationKey(header, token) {
    try {
      return await resolve(header, token);
    } catch (err) {
      if (err instanceof KeySourceUnavailableError) throw err;
      if (err instanceof errors.JOSEError && KEY_MISMATCH_CODES.has(err.code)) throw err;
      throw new KeySourceUnavailableError(
        `Could not read the issuer's keys from ${describe(options)}: ${(err as Error).message}. Check that it is reachable from this server.`,
        { cause: err },
      );
    }
  };
}

function rawResolver(options: KeySourceOptions, timing: KeySourceTiming): JWTVerifyGetKey {
  switch (options.kind) {
    case 'url':
      return remote(options.jwksUrl, timing);
    case 'in-process':
      return inProcess(options.keys, timing.cooldownMs);
    case 'discovery':
      return discovered(options.issuer, timing);
  }
}

function remote(jwksUrl: string, timing: KeySourceTiming): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUrl), {
    cooldownDuration: timing.cooldownMs,
    timeoutDuration: timing.fetchTimeoutMs,
  });
}

/** The key set of this process, re-read on an unknown `kid` as a remote one would be. */
function inProcess(keys: () => Promise<JSONWebKeySet>, cooldownMs: number): JWTVerifyGetKey {
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;
  const read = async () => {
    reading ??= keys()
      .then((set) => {
        local = createLocalJWKSet(set);
        readAt = Date.now();
      })
      .finally(() => {
        reading = undefined;
      });
    await reading;
  };
  return async function inProcessKey(header, token) {
    if (!local) await read();
    try {
      return await (local as NonNullable<typeof local>)(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - readAt < cooldownMs) throw err;
      await read();
      return (local as NonNullable<typeof local>)(header, token);
    }
  };
}

/**
 * OpenID Connect Discovery 1.0: the issuer's metadata names its `jwks_uri`. Read once, on the
 * first token, so a service starts even while its issuer is down. §4.3: the metadata's
 * `issuer` must be exactly the configured one, or its keys must not be trusted.
 */
function discovered(issuer: string, timing: KeySourceTiming): JWTVerifyGetKey {
  const metadataUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let resolver: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let failure: unknown;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const res = await fetch(metadataUrl, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timing.fetchTimeoutMs),
    }).catch((err: Error) => {
      throw new KeySourceUnavailableError(
        `OIDC discovery at ${metadataUrl} failed: ${err.message}. Check AEX_OIDC_ISSUER, or set AEX_OIDC_JWKS_URL.`,
        { cause: err },
      );
    });
    const metadata = res.ok
      ? ((await res.json().catch(() => null)) as Record<string, unknown> | null)
      : null;
    if (!metadata || typeof metadata.jwks_uri !== 'string') {
      throw new KeySourceUnavailableError(
        `OIDC discovery at ${metadataUrl} answered ${res.status} without a jwks_uri. Check AEX_OIDC_ISSUER, or set AEX_OIDC_JWKS_URL.`,
      );
    }
    if (metadata.issuer !== issuer) {
      throw new KeySourceUnavailableError(
        `OIDC discovery at ${metadataUrl} names the issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}: set AEX_OIDC_ISSUER to exactly the issuer its tokens carry.`,
      );
    }
    return remote(metadata.jwks_uri, timing);
  };
  return async function discoveredKey(header, token) {
    if (!resolver && Date.now() - failedAt >= DISCOVERY_RETRY_MS) {
      resolver = discover();
      resolver.catch((err) => {
        resolver = undefined;
        failedAt = Date.now();
        failure = err;
      });
    }
    // Within DISCOVERY_RETRY_MS of a failure every token gets that failure again.
    if (!resolver) throw failure;
    return (await resolver)(header, token);
  };
}

function describe(options: KeySourceOptions): string {
  switch (options.kind) {
    case 'url':
      return options.jwksUrl;
    case 'discovery':
      return `the JWKS of ${options.issuer}`;
    case 'in-process':
      return "this server's own key store";
  }
}
