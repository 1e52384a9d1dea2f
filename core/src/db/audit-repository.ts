import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { type AuditLogRow, auditLog, type NewAuditLogRow } from './audit-schema.ts';
import type { Db } from './database.ts';

export interface AuditFilter {
  actorSubject?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
}

/** The audit log table: append and read back, newest first. Rows are never changed. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  async insert(row: NewAuditLogRow): Promise<void> {
    await this.db.insert(auditLog).values(row);
  }

  /** Newest first; ids are UUID v7, so id order is time order and `beforeId` a stable cursor. */
  async list(
    filter: AuditFilter,
    page: { limit: number; beforeId?: string },
  ): Promise<AuditLogRow[]> {
    const where: SQL[] = [];
    if (filter.actorSubject !== undefined)
      where.push(eq(auditLog.actorSubject, filter.actorSubject));
    if (filter.targetType !== undefined) where.push(eq(auditLog.targetType, filter.targetType));
    if (filter.targetId !== undefined) where.push(eq(auditLog.targetId, filter.targetId));
    if (filter.action !== undefined) where.push(eq(auditLog.action, filter.action));
    if (page.beforeId !== undefined) where.push(lt(auditLog.id, page.beforeId));
    return this.db
      .select()
      .from(auditLog)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(page.limit);
  }
}
