/**
 * The parts of an OpenID Connect provider the web login talks to: its discovery document
 * (OpenID Connect Discovery 1.0) and its token endpoint (RFC 6749 §4.1.3 with PKCE's
 * `code_verifier`, RFC 7636 §4.5). Plain `fetch`, so it runs on Bun and Deno.
 */

export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
  code_challenge_methods_supported?: string[];
}

export interface TokenResponse {
  access_token: string;
  id_token: string;
  token_type: string;
  expires_in?: number;
}

/** The provider could not be reached, or answered what no provider should: retry later (503). */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** The provider refused the code exchange (RFC 6749 §5.2): the sign-in must start again. */
export class CodeExchangeRefusedError extends Error {
  override name = 'CodeExchangeRefusedError';
  constructor(
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super(`the provider refused the code: ${error}${description ? ` (${description})` : ''}`);
  }
}

export interface OidcProviderOptions {
  issuer: string;
  /** How long one request to the provider may take. Default 10 s. */
  timeoutMs?: number;
  /** How long discovery is kept. Default 1 h. */
  metadataTtlMs?: number;
}

/** Answers bigger than this are refused: discovery and token answers are a few KB. */
const MAX_ANSWER_BYTES = 256 * 1024;
/** After a failed discovery, requests within this time get the same failure at once. */
const RETRY_AFTER_FAILURE_MS = 5_000;

export interface OidcProvider {
  metadata(): Promise<ProviderMetadata>;
  exchangeCode(input: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
    clientId: string;
  }): Promise<TokenResponse>;
}

export function createOidcProvider(options: OidcProviderOptions): OidcProvider {
  const issuer = options.issuer;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const ttlMs = options.metadataTtlMs ?? 3_600_000;
  const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let cached: { at: number; metadata: ProviderMetadata } | undefined;
  let failed: { at: number; error: Error } | undefined;
  let pending: Promise<ProviderMetadata> | undefined;

  const discover = async (): Promise<ProviderMetadata> => {
    const doc = await getJson(discoveryUrl, timeoutMs);
    const metadata = doc as Partial<ProviderMetadata>;
    // Discovery §4.3: the document's issuer must be exactly the configured one, or nothing
    // it names (endpoints, keys) may be trusted.
    if (metadata.issuer !== issuer) {
      throw new ProviderUnavailableError(
        `OIDC discovery at ${discoveryUrl} names the issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}: set AEX_OIDC_ISSUER to exactly the provider's issuer.`,
      );
    }
    for (const field of ['authorization_endpoint', 'token_endpoint'] as const) {
      if (!isHttpUrl(metadata[field])) {
        throw new ProviderUnavailableError(
          `OIDC discovery at ${discoveryUrl} has no usable ${field}.`,
        );
      }
    }
    if (metadata.end_session_endpoint !== undefined && !isHttpUrl(metadata.end_session_endpoint)) {
      delete metadata.end_session_endpoint;
    }
    const methods = metadata.code_challenge_methods_supported;
    // RFC 8414 §2: absent means "not advertised", which many providers that support S256 do.
    if (Array.isArray(methods) && !methods.includes('S256')) {
      throw new ProviderUnavailableError(
        `The provider ${issuer} does not support PKCE with S256 (it lists ${methods.join(', ')}); AEX's web login needs it.`,
      );
    }
    return metadata as ProviderMetadata;
  };

  return {
    async metadata() {
      const now = Date.now();
      if (cached && now - cached.at < ttlMs) return cached.metadata;
      if (failed && now - failed.at < RETRY_AFTER_FAILURE_MS) throw failed.error;
      pending ??= discover()
        .then((metadata) => {
          cached = { at: Date.now(), metadata };
          failed = undefined;
          return metadata;
        })
        .catch((err: Error) => {
          // A provider briefly down keeps the last good document rather than failing logins.
          if (cached) return cached.metadata;
          failed = { at: Date.now(), error: err };
          throw err;
        })
        .finally(() => {
          pending = undefined;
        });
      return pending;
    },

    async exchangeCode(input) {
      const { token_endpoint } = await this.metadata();
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        client_id: input.clientId,
        code_verifier: input.codeVerifier,
      });
      let res: Response;
      try {
        res = await fetch(token_endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new ProviderUnavailableError(
          `the token endpoint ${token_endpoint} did not answer: ${(err as Error).message}`,
        );
      }
      const answer = await readJson(res, token_endpoint);
      if (res.status === 400 || res.status === 401) {
        const error = typeof answer?.error === 'string' ? answer.error : `http_${res.status}`;
        const description =
          typeof answer?.error_description === 'string' ? answer.error_description : undefined;
        throw new CodeExchangeRefusedError(error, description);
      }
      if (!res.ok || !answer) {
        throw new ProviderUnavailableError(
          `the token endpoint ${token_endpoint} answered ${res.status}`,
        );
      }
      const tokens = answer as Partial<TokenResponse>;
      if (
        typeof tokens.access_token !== 'string' ||
        typeof tokens.id_token !== 'string' ||
        typeof tokens.token_type !== 'string' ||
        tokens.token_type.toLowerCase() !== 'bearer'
      ) {
        throw new ProviderUnavailableError(
          `the token endpoint ${token_endpoint} answered without a Bearer access_token and an id_token`,
        );
      }
      return tokens as TokenResponse;
    },
  };
}

async function getJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ProviderUnavailableError(
      `OIDC discovery at ${url} failed: ${(err as Error).message}. Check AEX_OIDC_ISSUER and that the provider is reachable from the edge.`,
    );
  }
  const doc = res.ok ? await readJson(res, url) : null;
  if (!doc) {
    throw new ProviderUnavailableError(
      `OIDC discovery at ${url} answered ${res.status} without a JSON document.`,
    );
  }
  return doc;
}

/** The body as a JSON object, or null; refuses bodies past MAX_ANSWER_BYTES. */
async function readJson(res: Response, url: string): Promise<Record<string, unknown> | null> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw new ProviderUnavailableError(`${url} answered ${declared} bytes, more than expected`);
  }
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) {
    throw new ProviderUnavailableError(`${url} answered more than ${MAX_ANSWER_BYTES} bytes`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
