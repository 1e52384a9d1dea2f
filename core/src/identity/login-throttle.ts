import { AexError } from '@aex/shared';
import type { LoginAttemptRepository, ThrottleRule } from '../db/login-attempt-repository.ts';

/**
 * Issue 5: five failures in 15 minutes, then 1 s, 2 s, 4 s … between attempts, at most 15 min.
 * Failures are forgotten after 15 minutes without one, counted from the end of the wait.
 */
export const LOGIN_THROTTLE: ThrottleRule = {
  freeFailures: 5,
  windowMs: 15 * 60_000,
  maxWaitMs: 15 * 60_000,
};

/**
 * Slows password guessing down per account and per client address. The counts live in the
 * metadata store, not in memory: core runs as several replicas behind a load balancer, and
 * a count per replica would let a guesser multiply their rate by the replica count (and lose
 * the count on every restart). One upsert per key per attempt is cheap next to argon2.
 */
export class LoginThrottle {
  constructor(
    private readonly attempts: LoginAttemptRepository,
    private readonly now: () => Date,
    private readonly rule: ThrottleRule = LOGIN_THROTTLE,
  ) {}

  /**
   * Runs `check` (the password check) if neither the email nor the client address must
   * wait, else throws a 429 `rate_limited` with Retry-After. A success (`check` answers a
   * value) resets the email's count; a failure (null) stays counted on both keys.
   */
  async attempt<T>(
    email: string,
    clientAddress: string | null,
    check: () => Promise<T | null>,
  ): Promise<T | null> {
    const emailKey = `email:${email.toLowerCase()}`;
    const keys = clientAddress ? [emailKey, `ip:${clientAddress}`] : [emailKey];
    const now = this.now();
    const claimed: string[] = [];
    for (const key of keys) {
      const outcome = await this.attempts.claim(key, now, this.rule);
      if (!outcome.allowed) {
        await this.forgiveAll(claimed);
        const seconds = Math.max(1, Math.ceil((outcome.retryAt.getTime() - now.getTime()) / 1000));
        throw new AexError(
          'rate_limited',
          `Too many failed logins for this account or from this address: wait ${seconds} s before trying again.`,
          { headers: { 'retry-after': String(seconds) } },
        );
      }
      claimed.push(key);
    }
    let result: T | null;
    try {
      result = await check();
    } catch (err) {
      // Not the client's failure (the store went away): give the attempt back.
      await this.forgiveAll(claimed).catch(() => {});
      throw err;
    }
    if (result === null) {
      await this.attempts.failedAt(claimed, this.now());
    } else {
      await this.attempts.clear(emailKey);
      await this.forgiveAll(claimed.filter((k) => k !== emailKey));
    }
    return result;
  }

  /** Deletes counts that are forgotten anyway: no failure for the longest wait and the window. */
  async sweep(): Promise<number> {
    const quiet = this.rule.maxWaitMs + this.rule.windowMs;
    return this.attempts.deleteOlderThan(new Date(this.now().getTime() - quiet));
  }

  private async forgiveAll(keys: string[]): Promise<void> {
    for (const key of keys) await this.attempts.forgive(key);
  }
}
