import {
  AexError,
  type CreateUser,
  newId,
  type Principal,
  type UpdateUser,
  type User,
} from '@aex/shared';
import type { UserRow } from '../db/identity-schema.ts';
import type { UserChanges, UserRepository } from '../db/user-repository.ts';
import { hashPassword } from './passwords.ts';
import type { TokenIssuer } from './token-issuer.ts';

/** The built-in issuer's users, as admins manage them. */
export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly tokens: Pick<TokenIssuer, 'revokeUser'>,
    private readonly now: () => Date,
  ) {}

  async list(): Promise<User[]> {
    return (await this.users.list()).map(toUserDto);
  }

  /** A new user; 409 when the email is taken (in any letter case). */
  async create(input: CreateUser, actor: Principal): Promise<User> {
    const now = this.now();
    const row = await this.users.insert({
      id: newId(),
      email: input.email,
      displayName: input.displayName ?? input.email,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      createdAt: now,
      createdBy: actor.subject,
      updatedAt: now,
      updatedBy: actor.subject,
    });
    if (!row) {
      throw new AexError(
        'conflict',
        `A user with the email ${input.email} exists already: change that user with PATCH /api/v1/admin/users/<id>.`,
      );
    }
    return toUserDto(row);
  }

  /**
   * Changes a user's name, role, disabled flag or password. Disabling a user or setting a
   * password ends the user's sessions (refresh tokens); access tokens already out run out
   * within their 15 minutes. The last enabled admin can be neither demoted nor disabled.
   */
  async update(id: string, input: UpdateUser, actor: Principal): Promise<User> {
    if (Object.keys(input).length === 0) {
      throw new AexError(
        'invalid_input',
        'The body changes nothing: give at least one of displayName, role, disabled, password.',
      );
    }
    const changes: UserChanges = {
      displayName: input.displayName,
      role: input.role,
      disabled: input.disabled,
      passwordHash: input.password === undefined ? undefined : await hashPassword(input.password),
    };
    for (const key of Object.keys(changes) as Array<keyof UserChanges>) {
      if (changes[key] === undefined) delete changes[key];
    }
    const result = await this.users.update(id, changes, actor.subject, this.now());
    if (result.status === 'missing') throw missingUser(id);
    if (result.status === 'last_admin') {
      throw new AexError(
        'conflict',
        'This is the last enabled admin: make another user admin first, then demote or disable this one.',
      );
    }
    if (input.disabled === true || input.password !== undefined) await this.tokens.revokeUser(id);
    return toUserDto(result.user);
  }
}

function missingUser(id: string): AexError {
  return new AexError('not_found', `No user ${id}: list them with GET /api/v1/admin/users.`);
}

export function toUserDto(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    role: row.role,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: row.updatedBy,
  };
}
