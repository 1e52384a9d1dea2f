import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelEntry } from '@aex/gpu-nodes';
import { AexError, type InferenceTaskName, type ModelRef } from '@aex/shared';
import { silentLogger } from '@aex/shared/ports/log';
import type { Coverage } from '../src/services/results/model-admin.ts';
import { refusal } from './credentials.ts';

/** What `aex reindex` does, against a running server's API or straight on the database. */
export interface ReindexBackend {
  queue(
    task: InferenceTaskName,
    model: ModelRef,
    after: string | undefined,
    limit: number,
  ): Promise<{ queued: number; next: string | null }>;
  coverage(task: InferenceTaskName, model: ModelRef): Promise<Coverage>;
  /** True once activated; false while the server refuses because coverage is incomplete. */
  activate(task: InferenceTaskName, model: ModelRef): Promise<boolean>;
  /** Said after the summary (where the events went). */
  readonly note?: string;
  close(): Promise<void>;
}

/** The registry's tasks whose model names a task's results (the CLIP visual encoder for clip). */
const REGISTRY_TASK: Record<InferenceTaskName, string> = {
  tags: 'tags',
  clip: 'clip-image',
  faces: 'face-embed',
  ocr: 'ocr-rec',
};

/**
 * The model version to reindex with: `id@version` as given; `id` at the registry's version;
 * nothing: the registry's current (non-test) model of the task. Results are keyed by an
 * entry's `resultModel` where it has one (CLIP's two encoders share one embedding space).
 */
export async function resolveModel(task: InferenceTaskName, spec?: string): Promise<ModelRef> {
  const at = spec?.indexOf('@') ?? -1;
  if (spec !== undefined && at > 0 && at < spec.length - 1) {
    return { id: spec.slice(0, at), version: spec.slice(at + 1) };
  }
  // Loaded here, not at the top: gpu-nodes' package is large and only this path needs it.
  const { MODEL_REGISTRY } = await import('@aex/gpu-nodes');
  const entries = MODEL_REGISTRY.filter((e) => e.task === REGISTRY_TASK[task]);
  const named = (e: ModelEntry) => e.resultModel ?? { id: e.id, version: e.version };
  const found =
    spec === undefined
      ? entries.find((e) => !e.testOnly)
      : entries.find((e) => e.id === spec || e.resultModel?.id === spec);
  if (!found) {
    const known = entries.map((e) => `${named(e).id}@${named(e).version}`).join(', ') || 'none';
    throw new Error(
      spec === undefined
        ? `the registry has no ${task} model; give --model ID@VERSION`
        : `no ${task} model "${spec}" in the registry (known: ${known}); give --model ID@VERSION`,
    );
  }
  return named(found);
}

/** The API of a running AEX when `server` is given, else the database of the environment. */
export async function selectBackend(options: {
  server?: string;
  /** The credential (`authorization`) for the server's admin API. */
  headers?: Record<string, string>;
  env: Record<string, string | undefined>;
  activate?: boolean;
}): Promise<ReindexBackend> {
  if (options.server) return apiBackend(options.server.replace(/\/+$/, ''), options.headers ?? {});
  return databaseBackend(options.env, options.activate === true);
}

function apiBackend(server: string, credential: Record<string, string>): ReindexBackend {
  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${server}${path}`, {
        method,
        headers:
          body === undefined ? credential : { ...credential, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`${server} does not answer (${(err as Error).message}); is AEX running?`);
    }
    return res;
  }
  async function json<T>(res: Response, what: string): Promise<T> {
    if (res.ok) return (await res.json()) as T;
    const problem = (await res.json().catch(() => null)) as { detail?: string } | null;
    const refused = refusal(res.status, server, 'admin', problem?.detail);
    if (refused) throw refused;
    throw new Error(`${what} failed (${res.status}): ${problem?.detail ?? res.statusText}`);
  }
  return {
    async queue(task, model, after, limit) {
      const res = await call('POST', '/api/v1/admin/reindex', { task, model, after, limit });
      return json(res, 'queueing a batch');
    },
    async coverage(task, model) {
      const status = await json<{
        images: number;
        tasks: Array<{ task: string; versions: Array<{ model: ModelRef; images: number }> }>;
      }>(await call('GET', '/api/v1/admin/models'), 'reading the coverage');
      const version = status.tasks
        .find((t) => t.task === task)
        ?.versions.find((v) => v.model.id === model.id && v.model.version === model.version);
      const covered = version?.images ?? 0;
      return { images: status.images, covered, complete: covered >= status.images };
    },
    async activate(task, model) {
      const res = await call('POST', '/api/v1/admin/models/activate', { task, model });
      if (res.status === 409) return false;
      // 401 and 403 are thrown by json() with what to pass.
      await json(res, 'activating');
      return true;
    },
    close: async () => {},
  };
}

async function databaseBackend(
  env: Record<string, string | undefined>,
  activate: boolean,
): Promise<ReindexBackend> {
  const { parseCoreConfig } = await import('../src/config.ts');
  const config = parseCoreConfig(env);
  if (!config.DATABASE_URL) {
    // PGlite is one process's: a second opener would corrupt it, and it does not refuse
    // (it only leaves postmaster.pid while open), so look before opening.
    if (existsSync(join(config.AEX_DATA_DIR, 'pg', 'postmaster.pid'))) {
      throw new Error(
        `the embedded store in ${join(config.AEX_DATA_DIR, 'pg')} is in use by a running ` +
          '`aex serve` (or was not closed cleanly). Pass --server URL to reindex through it, ' +
          'or stop the server and try again (if none runs, delete postmaster.pid there).',
      );
    }
    if (activate) {
      throw new Error(
        '--activate waits for the workers, which need a running AEX: start `aex serve` and pass --server URL',
      );
    }
  }
  const { openDatabase } = await import('../src/db/database.ts');
  const { TaskModelsRepository } = await import('../src/db/task-models-repository.ts');
  const { ModelAdminService } = await import('../src/services/results/model-admin.ts');
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.AEX_DATA_DIR,
    log: silentLogger(),
  });
  const models = new ModelAdminService({
    taskModels: new TaskModelsRepository(database.db),
    onQueued: () => {},
  });
  return {
    queue: (task, model, after, limit) => models.queueReindex(task, model, { after, limit }),
    coverage: (task, model) => models.coverage(task, model),
    async activate(task, model) {
      try {
        await models.activate(task, model);
        return true;
      } catch (err) {
        if (err instanceof AexError && err.code === 'conflict') return false;
        throw err;
      }
    },
    note: config.DATABASE_URL
      ? 'The events are in the outbox: a running core publishes them within a second.'
      : 'The events are in the outbox: the next `aex serve` publishes them.',
    close: () => database.close(),
  };
}
