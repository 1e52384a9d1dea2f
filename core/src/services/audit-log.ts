import {
  AexError,
  type AuditEntry,
  type AuditList,
  type AuditQuery,
  newId,
  type Principal,
} from '@aex/shared';
import type { AuditRepository } from '../db/audit-repository.ts';
import type { AuditLogRow } from '../db/audit-schema.ts';

/** One change to record. */
export interface AuditRecord {
  actor: Principal;
  /** `<noun>.<verb>`: `image.update`, `album.create`, `apikey.revoke`. */
  action: string;
  targetType: string;
  targetId?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown> | null;
}

/** Arrays longer than this are recorded as their length and first items. */
const MAX_LISTED_ITEMS = 20;
/** Strings longer than this are cut (a description can be 10,000 characters). */
const MAX_STRING = 500;
/** Keys whose values are never recorded, whatever route sends them. */
const SECRET_KEY = /pass|secret|token|credential/i;

/**
 * Who changed what (issue 5: "every change records who made it"). Entries are written after
 * the change and read by admins at `GET /api/v1/admin/audit`. Details are bounded and never
 * hold secrets: a password or token sent with a change is recorded as `[redacted]`.
 */
export class AuditLog {
  constructor(private readonly repository: AuditRepository) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.repository.insert({
      id: newId(),
      at: new Date(),
      actorSubject: entry.actor.subject,
      actorName: entry.actor.displayName ?? null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      requestId: entry.requestId ?? null,
      details: entry.details ? (bounded(entry.details) as Record<string, unknown>) : null,
    });
  }

  async list(query: AuditQuery): Promise<AuditList> {
    if (query.targetId !== undefined && query.targetType === undefined) {
      throw new AexError('invalid_input', 'targetId needs targetType (e.g. targetType=image).');
    }
    const rows = await this.repository.list(
      {
        actorSubject: query.actor,
        targetType: query.targetType,
        targetId: query.targetId,
        action: query.action,
      },
      { limit: query.limit + 1, beforeId: query.cursor },
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toAuditEntry),
      nextCursor: rows.length > query.limit && last ? last.id : null,
    };
  }
}

function toAuditEntry(row: AuditLogRow): AuditEntry {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { subject: row.actorSubject, name: row.actorName },
    action: row.action,
    target: { type: row.targetType, id: row.targetId },
    requestId: row.requestId,
    details: row.details ?? null,
  };
}

/** A copy small enough to keep forever, without secrets. */
function bounded(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '[nested]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_LISTED_ITEMS).map((v) => bounded(v, depth + 1));
    return value.length > MAX_LISTED_ITEMS ? { count: value.length, first: items } : items;
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      SECRET_KEY.test(key) ? '[redacted]' : bounded(v, depth + 1),
    ]),
  );
}
