import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Who changed what (issue 5: "every change records who made it"). One row per change, written
 * by the service that made it; never updated. `id` is a UUID v7, so id order is time order and
 * the admin listing pages by id.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** The principal's subject: a token's `sub`, `apikey:<id>`, or `system`. */
    actorSubject: text('actor_subject').notNull(),
    /** Its display name at the time (email, key name), for people reading the log. */
    actorName: text('actor_name'),
    /** What was done, `<noun>.<verb>`: `image.upload`, `album.update`, `apikey.create`. */
    action: text('action').notNull(),
    /** What it was done to: `image`, `album`, `model`, `user`, `apikey`. */
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    requestId: text('request_id'),
    /** What changed, in the action's words (fields sent, ids affected); never a secret. */
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('audit_log_actor_idx').on(t.actorSubject, t.id),
    index('audit_log_target_idx').on(t.targetType, t.targetId, t.id),
  ],
);
export type AuditLogRow = typeof auditLog.$inferSelect;
export type NewAuditLogRow = typeof auditLog.$inferInsert;
