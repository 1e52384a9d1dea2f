import { newId } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { UserRow } from '../db/identity-schema.ts';
import type { UserRepository } from '../db/user-repository.ts';
import { generatePassword, hashPassword } from './passwords.ts';

export const DEFAULT_ADMIN_EMAIL = 'admin@localhost';

export interface FirstAdminOptions {
  /** AEX_ADMIN_EMAIL; default `admin@localhost`. */
  email?: string;
  /** AEX_ADMIN_PASSWORD (already checked for length by the config); unset: generated. */
  password?: string;
  /** Where a generated password is shown, once: stdout, never the log. */
  announce: (text: string) => void;
  log: Logger;
}

/**
 * Issue 5: "The first start creates an admin from AEX_ADMIN_EMAIL / AEX_ADMIN_PASSWORD, or
 * generates a password and prints it once." Nothing happens once any user exists, so a
 * restart neither prints the password again nor resets a changed one.
 */
export async function ensureFirstAdmin(
  users: UserRepository,
  options: FirstAdminOptions,
): Promise<void> {
  const email = options.email ?? DEFAULT_ADMIN_EMAIL;
  // The usual restart: users exist, so no argon2 hash is spent on a password never stored.
  const created = (await users.any()) ? null : await createAdmin(users, email, options.password);
  if (!created) {
    if (options.password) {
      options.log.info(
        'AEX_ADMIN_PASSWORD is only read on the first start: users exist, so it was not applied',
      );
    }
    return;
  }
  options.log.info({ userId: created.user.id, email }, 'first admin created');
  if (!options.password) options.announce(generatedPasswordBanner(email, created.password));
}

/** The admin, unless another replica made the first user meanwhile (then null). */
async function createAdmin(
  users: UserRepository,
  email: string,
  given: string | undefined,
): Promise<{ user: UserRow; password: string } | null> {
  const password = given ?? generatePassword();
  const user = await users.createFirstUser({
    id: newId(),
    email,
    displayName: 'Administrator',
    role: 'admin',
    passwordHash: await hashPassword(password),
    createdBy: 'system',
    updatedBy: 'system',
  });
  return user ? { user, password } : null;
}

/** The one-time message with a generated password, boxed so it stands out among log lines. */
export function generatedPasswordBanner(email: string, password: string): string {
  const lines = [
    'AEX created the first admin of its built-in login:',
    '',
    `    email:     ${email}`,
    `    password:  ${password}`,
    '',
    'This password is shown only this once. Store it now, then log in and',
    'change it (PATCH /api/v1/admin/users/<id> with a new password).',
    'To choose them yourself, set AEX_ADMIN_EMAIL and AEX_ADMIN_PASSWORD',
    'before the first start.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const rule = `+${'-'.repeat(width + 2)}+`;
  return [rule, ...lines.map((l) => `| ${l.padEnd(width)} |`), rule, ''].join('\n');
}
