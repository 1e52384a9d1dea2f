import type { AexEnv } from '@aex/shared/http';
import type { TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import type { Hono } from 'hono';
import { checkTokens } from './callback-tokens.ts';
import { CookieTooLargeError, deleteChunked, setChunked } from './cookies.ts';
import { problem, providerDown, providerRefused } from './login-problems.ts';
import { CodeExchangeRefusedError } from './oidc-provider.ts';
import { codeChallengeS256, newCodeVerifier, randomUrlToken } from './pkce.ts';
import { safeReturnTo } from './return-to.ts';
import { fromOwnOrigin } from './session-credentials.ts';
import { LOGIN_COOKIE, LOGIN_TTL_SEC, SESSION_COOKIE, type WebLogin } from './web-login.ts';

/** What the login cookie holds, sealed, between `/auth/login` and `/auth/callback`. */
interface LoginState {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** Values from the provider longer than this are refused unread (codes are < 1 KB). */
const MAX_PARAM = 4096;

/**
 * The web login against an external OIDC provider: authorization code with PKCE (RFC 7636,
 * S256), as the OAuth 2.0 Security BCP (RFC 9700) asks of every client.
 *
 * Where the tokens go — a choice a security review asks about: they stay on the server side
 * of the browser. The callback seals the access token into an HttpOnly, SameSite=Lax
 * (`__Host-`, Secure over https) session cookie that the edge turns back into a bearer token
 * on `/api/*` (see `sessionCredentials`). Handing them to the page instead (`/#access_token=`)
 * would put them in reach of any script that runs there, in the history and in extensions;
 * that is the implicit flow's weakness which RFC 9700 §2.1.2 retires. No refresh token is
 * kept: when the access token expires the app sends the user through `/auth/login` again,
 * which the provider answers without a prompt while its own session lasts.
 */
export function registerWebLogin(
  app: Hono<AexEnv>,
  deps: { login: WebLogin; accessTokens: TokenVerifier },
): void {
  const { login } = deps;
  const callbackUrl = `${login.publicUrl}/auth/callback`;

  app.get('/auth/login', async function startWebLogin(c) {
    let metadata: Awaited<ReturnType<typeof login.provider.metadata>>;
    try {
      metadata = await login.provider.metadata();
    } catch (err) {
      return providerDown(c, err);
    }
    const verifier = newCodeVerifier();
    const pending: LoginState = {
      state: randomUrlToken(),
      nonce: randomUrlToken(),
      verifier,
      returnTo: safeReturnTo(c.req.query('returnTo')),
    };
    const expires = Math.floor(Date.now() / 1000) + LOGIN_TTL_SEC;
    login.cookies.set(
      c,
      LOGIN_COOKIE,
      await login.sealer.seal('login', pending, expires),
      LOGIN_TTL_SEC,
    );
    const target = new URL(metadata.authorization_endpoint);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: login.clientId,
      redirect_uri: callbackUrl,
      scope: 'openid profile email',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await codeChallengeS256(verifier),
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
    c.header('cache-control', 'no-store');
    return c.redirect(target.toString(), 302);
  });

  app.get('/auth/callback', async function finishWebLogin(c) {
    c.header('cache-control', 'no-store');
    const sealed = login.cookies.get(c, LOGIN_COOKIE);
    const pending = sealed ? await login.sealer.open<LoginState>('login', sealed) : null;
    if (!pending) {
      return problem(
        c,
        'invalid_input',
        `No sign-in was started in this browser, or it took longer than ${LOGIN_TTL_SEC / 60} minutes (its cookie is missing or expired). Start again at /auth/login.`,
      );
    }
    const query = (name: string) => {
      const value = c.req.query(name);
      return value !== undefined && value.length <= MAX_PARAM ? value : undefined;
    };
    if (query('state') !== pending.state) {
      return problem(
        c,
        'invalid_input',
        'This answer from the sign-in provider does not belong to the sign-in this browser started (the state differs): it may be stale, from another tab, or forged. Start again at /auth/login.',
      );
    }
    // The sign-in is answered, whatever the outcome: its state must not be used twice.
    login.cookies.delete(c, LOGIN_COOKIE);
    // RFC 9207: a provider that names itself in the answer must be the one we asked (mix-up).
    const iss = query('iss');
    if (iss !== undefined && iss !== login.issuer) {
      return problem(
        c,
        'invalid_input',
        'The sign-in answer comes from another provider than the one AEX uses. Start again at /auth/login.',
      );
    }
    const error = query('error');
    if (error !== undefined) return providerRefused(c, error, query('error_description'));
    const code = query('code');
    if (!code) {
      return problem(
        c,
        'invalid_input',
        'The sign-in provider sent neither a code nor an error. Start again at /auth/login.',
      );
    }
    let tokens: Awaited<ReturnType<typeof login.provider.exchangeCode>>;
    try {
      tokens = await login.provider.exchangeCode({
        code,
        codeVerifier: pending.verifier,
        redirectUri: callbackUrl,
        clientId: login.clientId,
      });
    } catch (err) {
      if (err instanceof CodeExchangeRefusedError) {
        c.get('log').warn({ error: err.error, detail: err.description }, 'code exchange refused');
        return problem(
          c,
          'invalid_input',
          `The sign-in provider did not accept the sign-in code (${err.error}): it may have expired or been used already. Start again at /auth/login.`,
        );
      }
      return providerDown(c, err);
    }
    const session = await checkTokens(c, deps, tokens, pending.nonce);
    if (session instanceof Response) return session;
    try {
      setChunked(
        login.cookies,
        c,
        SESSION_COOKIE,
        await login.sealer.seal('session', session.value, session.expiresAtSec),
        session.expiresAtSec - Math.floor(Date.now() / 1000),
      );
    } catch (err) {
      if (!(err instanceof CookieTooLargeError)) throw err;
      c.get('log').error({ tokenLength: session.value.accessToken.length }, err.message);
      return problem(
        c,
        'internal',
        `The provider's access token (${session.value.accessToken.length} characters) is too large to keep in the browser's cookies. An administrator should make the provider put fewer claims (groups, roles) in AEX's tokens.`,
      );
    }
    c.get('log').info({ subject: session.value.subject }, 'signed in through the web login');
    return c.redirect(pending.returnTo, 303);
  });

  app.post('/auth/logout', async function webLogout(c) {
    c.header('cache-control', 'no-store');
    if (!fromOwnOrigin(c, login.publicOrigin)) {
      return problem(
        c,
        'forbidden',
        `Sign-out is only accepted from AEX's own pages (${login.publicOrigin}).`,
      );
    }
    deleteChunked(login.cookies, c, SESSION_COOKIE);
    // OpenID Connect RP-Initiated Logout 1.0: the provider ends its own session too, or the
    // next /auth/login would sign the user straight back in.
    const endSession = await login.provider.metadata().then(
      (m) => m.end_session_endpoint,
      () => undefined,
    );
    let next = `${login.publicUrl}/`;
    if (endSession) {
      const url = new URL(endSession);
      url.searchParams.set('client_id', login.clientId);
      url.searchParams.set('post_logout_redirect_uri', `${login.publicUrl}/`);
      next = url.toString();
    }
    // A fetch from the app gets the address to navigate to (a form's redirect to another
    // origin would be blocked by the app's CSP form-action); a plain form post is redirected.
    if ((c.req.header('accept') ?? '').includes('application/json')) {
      return c.json({ signedOut: true, next });
    }
    return c.redirect(next, 303);
  });
}
