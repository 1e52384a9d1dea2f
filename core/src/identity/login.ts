import { AexError, type LoginRequest, type TokenResponse } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { UserRepository } from '../db/user-repository.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { verifyAgainstNothing, verifyPassword } from './passwords.ts';
import type { TokenIssuer } from './token-issuer.ts';

/** The one answer to every failed login: it never says which of email or password was wrong. */
export const LOGIN_FAILED =
  'The email or the password is wrong, or the account is disabled. Check both and try again.';

/** `POST /api/v1/auth/login`: email and password in, tokens out. */
export class LoginService {
  constructor(
    private readonly users: UserRepository,
    private readonly throttle: LoginThrottle,
    private readonly tokens: Pick<TokenIssuer, 'issueTokens'>,
  ) {}

  /**
   * Tokens for the user with this email and password. An unknown email costs the same
   * argon2 verification as a known one, and every failure (unknown email, wrong password,
   * disabled account) is the same 401, so neither the answer nor its timing tells whether
   * an account exists.
   */
  async login(
    input: LoginRequest,
    clientAddress: string | null,
    log?: Logger,
  ): Promise<TokenResponse> {
    // The log (the operator's, never the client's) says why, for spotting attacks.
    let refused = 'wrong password';
    const user = await this.throttle
      .attempt(input.email, clientAddress, async () => {
        const found = await this.users.findByEmail(input.email);
        const matches = found
          ? await verifyPassword(input.password, found.passwordHash)
          : await verifyAgainstNothing(input.password);
        if (!found) refused = 'unknown email';
        else if (matches && found.disabled) refused = 'account disabled';
        return found && matches && !found.disabled ? found : null;
      })
      .catch((err: unknown) => {
        if (err instanceof AexError && err.code === 'rate_limited') {
          log?.warn(
            { email: input.email, clientAddress, retryAfter: err.headers['retry-after'] },
            'login slowed down after repeated failures',
          );
        }
        throw err;
      });
    if (!user) {
      log?.info({ email: input.email, clientAddress, reason: refused }, 'login refused');
      throw new AexError('unauthenticated', LOGIN_FAILED);
    }
    log?.info({ userId: user.id, clientAddress }, 'logged in');
    return this.tokens.issueTokens(user);
  }
}
