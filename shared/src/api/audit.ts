import { z } from 'zod';
import { Id } from '../ids.ts';

/** One recorded change: who did what to which thing, when, in which request. */
export const AuditEntry = z
  .object({
    id: Id,
    at: z.iso.datetime({ offset: true }),
    actor: z.object({
      subject: z.string().meta({ description: "A token's `sub`, `apikey:<id>`, or `system`" }),
      name: z.string().nullable(),
    }),
    action: z.string().meta({ example: 'image.update' }),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditList = z
  .object({
    items: z.array(AuditEntry).meta({ description: 'Newest first' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page' }),
  })
  .meta({ id: 'AuditList' });
export type AuditList = z.infer<typeof AuditList>;

/** `GET /api/v1/admin/audit`. */
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: Id.optional().meta({ description: 'The `nextCursor` of the previous page' }),
  actor: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Only changes by this subject' }),
  targetType: z.string().min(1).max(64).optional(),
  targetId: z.string().min(1).max(255).optional().meta({ description: 'Needs targetType' }),
  action: z.string().min(1).max(64).optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;
