import {
  AexError,
  type ApiKey,
  type CreateApiKey,
  type CreatedApiKey,
  hasRole,
  newId,
  type Principal,
} from '@aex/shared';
import type { ApiKeyRepository } from '../db/api-key-repository.ts';
import type { ApiKeyRow } from '../db/identity-schema.ts';
import {
  apiKeySecretHash,
  apiKeySecretMatches,
  formatApiKey,
  newApiKeySecret,
  parseApiKey,
} from './api-key-format.ts';

/** `last_used_at` is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** API keys for scripts and the importer: each with a name and a role, shown once. */
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly now: () => Date,
  ) {}

  /** A new key with a role no stronger than its creator's; the secret is in the answer only. */
  async create(input: CreateApiKey, creator: Principal): Promise<CreatedApiKey> {
    if (!hasRole(creator, input.role)) {
      throw new AexError(
        'forbidden',
        `You cannot create a key with role ${input.role}, stronger than your own (${creator.role ?? 'none'}).`,
      );
    }
    const now = this.now();
    const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
    if (expiresAt && expiresAt <= now) {
      throw new AexError(
        'invalid_input',
        `expiresAt ${input.expiresAt} is in the past: give a future time, or leave it out for a key that does not expire.`,
      );
    }
    const id = newId();
    const secret = newApiKeySecret();
    const row = await this.keys.insert({
      id,
      name: input.name,
      role: input.role,
      secretHash: apiKeySecretHash(secret),
      createdBy: creator.subject,
      createdAt: now,
      expiresAt,
    });
    return { ...toApiKeyDto(row), key: formatApiKey(id, secret) };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.keys.list()).map(toApiKeyDto);
  }

  /** Revokes a key; revoking a revoked key again changes nothing. */
  async revoke(id: string): Promise<ApiKey> {
    const row = await this.keys.revoke(id, this.now());
    if (!row)
      throw new AexError(
        'not_found',
        `No API key ${id}: list them with GET /api/v1/admin/api-keys.`,
      );
    return toApiKeyDto(row);
  }

  /**
   * The principal a presented key proves, or null: malformed, unknown, wrong secret,
   * revoked, expired, or created by a user who has been disabled since.
   */
  async verify(presented: string): Promise<Principal | null> {
    const parsed = parseApiKey(presented);
    if (!parsed) return null;
    const found = await this.keys.findForVerification(parsed.id);
    if (!found || !apiKeySecretMatches(parsed.secret, found.key.secretHash)) return null;
    const { key } = found;
    const now = this.now();
    if (key.revokedAt || (key.expiresAt && key.expiresAt <= now) || found.creatorDisabled) {
      return null;
    }
    // The row just read says when the key was last used: within the resolution, the update
    // would change nothing, so it is not sent (one query less on every request with a key).
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.keys.touch(key.id, now, LAST_USED_RESOLUTION_MS);
    }
    return {
      subject: `apikey:${key.id}`,
      role: key.role,
      method: 'api-key',
      displayName: key.name,
    };
  }
}

export function toApiKeyDto(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
