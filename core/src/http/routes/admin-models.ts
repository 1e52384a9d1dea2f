import { Id, InferenceTaskName, Problem } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { MAX_REINDEX_BATCH, type ModelAdminService } from '../../services/results/model-admin.ts';
import { problems } from '../problems.ts';

// These routes change what every user sees: once roles exist they are for admins only.

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

const Model = z.object({ id: z.string().min(1).max(128), version: z.string().min(1).max(64) });

export const ModelsStatus = z
  .object({
    images: z.number().int().meta({ description: 'Images stored' }),
    tasks: z.array(
      z.object({
        task: InferenceTaskName,
        active: Model.extend({ activatedAt: z.iso.datetime({ offset: true }) })
          .nullable()
          .meta({ description: 'The version the API serves; null until one produced a result' }),
        versions: z.array(
          z.object({
            model: Model,
            images: z.number().int().meta({ description: 'Images with a result of it' }),
            complete: z.boolean(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'ModelsStatus' });
export type ModelsStatus = z.infer<typeof ModelsStatus>;

export const ActivateModel = z
  .object({
    task: InferenceTaskName,
    model: Model,
    force: z
      .boolean()
      .default(false)
      .meta({ description: 'Switch even though some images lack results of this version' }),
  })
  .strict()
  .meta({ id: 'ActivateModel' });

const Coverage = z.object({
  images: z.number().int(),
  covered: z.number().int(),
  complete: z.boolean(),
});

export const ActivatedModel = z
  .object({
    task: InferenceTaskName,
    model: Model,
    activatedAt: z.iso.datetime({ offset: true }),
    coverage: Coverage,
  })
  .meta({ id: 'ActivatedModel' });

export const ReindexRequest = z
  .object({
    task: InferenceTaskName,
    model: Model.optional().meta({ description: 'Default: the active version (fills its gaps)' }),
    after: Id.optional().meta({ description: 'The `next` of the previous batch' }),
    limit: z.number().int().min(1).max(MAX_REINDEX_BATCH).default(1000),
  })
  .strict()
  .meta({ id: 'ReindexRequest' });

export const ReindexBatch = z
  .object({
    task: InferenceTaskName,
    model: Model,
    queued: z.number().int(),
    next: Id.nullable().meta({ description: 'Pass as `after` for the next batch; null: done' }),
  })
  .meta({ id: 'ReindexBatch' });
export type ReindexBatch = z.infer<typeof ReindexBatch>;

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const modelsStatusRoute = createRoute({
  method: 'get',
  path: '/api/v1/admin/models',
  summary: "Each task's active model version and how far every version's results cover the images",
  responses: {
    200: { description: 'The tasks', content: { 'application/json': { schema: ModelsStatus } } },
  },
});

export const activateModelRoute = createRoute({
  method: 'post',
  path: '/api/v1/admin/models/activate',
  summary: 'Serve another model version for a task',
  description:
    'Tags, faces, text and search switch to the version at once. Refused with 409 while it ' +
    'lacks results for some images, unless `force`.',
  request: { body: json(ActivateModel) },
  responses: {
    200: { description: 'Activated', content: { 'application/json': { schema: ActivatedModel } } },
    400: problems[400],
    409: problem('The version does not cover every image yet (`conflict`).'),
  },
});

export const reindexRoute = createRoute({
  method: 'post',
  path: '/api/v1/admin/reindex',
  summary: "Queue a batch of images lacking a model version's results",
  description:
    'Publishes `aex.image.reindex.requested` (through the outbox) for up to `limit` images ' +
    'that have no result of the version, in id order after `after`. Call again with `next` ' +
    'until it is null. The active version keeps serving meanwhile.',
  request: { body: json(ReindexRequest) },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: ReindexBatch } } },
    400: problems[400],
  },
});

/** `GET /api/v1/admin/models`, `POST /api/v1/admin/models/activate`, `POST /api/v1/admin/reindex`. */
export function registerAdminModels(
  app: OpenAPIHono<AexEnv>,
  deps: { models: ModelAdminService },
): void {
  app.openapi(modelsStatusRoute, async (c) => c.json(await deps.models.status(), 200));
  app.openapi(activateModelRoute, async (c) => {
    const body = c.req.valid('json');
    return c.json(await deps.models.activate(body.task, body.model, { force: body.force }), 200);
  });
  app.openapi(reindexRoute, async (c) => {
    const body = c.req.valid('json');
    const batch = await deps.models.queueReindex(body.task, body.model, {
      after: body.after,
      limit: body.limit,
    });
    return c.json(batch, 202);
  });
}
