import { parseArgs } from 'node:util';
import { InferenceTaskName, type ModelRef } from '@aex/shared';
import { Progress } from '@aex/shared/cli/progress';
import { CredentialUsageError, credentialHeaders } from './credentials.ts';
import { type ReindexBackend, resolveModel, selectBackend } from './reindex-backends.ts';

export const REINDEX_USAGE = `Usage: aex reindex --task <tags|clip|faces|ocr> [options]

Queues every image that lacks a model version's result for the workers to compute, while the
active version keeps serving. With --activate it then waits until every image has one and
switches the API to the new version (no downtime, no gap).

Options:
  --task TASK        tags, clip, faces or ocr
  --model ID[@VER]   the model version (default: the registry's current model for the task;
                     without @VER, the registry's version of ID)
  --activate         wait until every image has a result of it, then serve it
  --server URL       ask a running AEX (POST /api/v1/admin/reindex); default: open the
                     database of the environment (DATABASE_URL, or the embedded store in
                     $AEX_DATA_DIR, which a running \`aex serve\` holds: use --server then)
  --api-key KEY      with --server: an API key of role admin (default: $AEX_API_KEY)
  --token TOKEN      with --server: or an admin's access token (default: $AEX_TOKEN)
  --batch N          images per batch (default 1000, at most 5000)
  --json             print the summary as JSON on stdout`;

/** Where the command reads and writes; tests hand in their own. */
export interface ReindexIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** How often --activate looks at the coverage. Default 2 s. */
  pollMs?: number;
}

const processIo: ReindexIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** `aex reindex`: returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function runReindex(argv: string[], io: ReindexIo = processIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    io.stderr.write(`aex reindex: ${(err as Error).message}\n\n${REINDEX_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${REINDEX_USAGE}\n`);
    return 0;
  }
  const task = InferenceTaskName.safeParse(values.task);
  if (!task.success) {
    io.stderr.write(
      `aex reindex: --task must be one of tags, clip, faces, ocr\n\n${REINDEX_USAGE}\n`,
    );
    return 2;
  }
  const batch = Number(values.batch ?? 1000);
  if (!Number.isInteger(batch) || batch < 1 || batch > 5000) {
    io.stderr.write('aex reindex: --batch must be a whole number from 1 to 5000\n');
    return 2;
  }
  let model: ModelRef;
  try {
    model = await resolveModel(task.data, values.model);
  } catch (err) {
    io.stderr.write(`aex reindex: ${(err as Error).message}\n`);
    return 2;
  }
  let headers: Record<string, string>;
  try {
    headers = credentialHeaders({ apiKey: values['api-key'], token: values.token }, io.env);
  } catch (err) {
    if (!(err instanceof CredentialUsageError)) throw err;
    io.stderr.write(`aex reindex: ${err.message}\n\n${REINDEX_USAGE}\n`);
    return 2;
  }
  let backend: ReindexBackend;
  try {
    backend = await selectBackend({
      server: values.server,
      headers,
      env: io.env,
      activate: values.activate,
    });
  } catch (err) {
    io.stderr.write(`aex reindex: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const queued = await queueAll(backend, task.data, model, batch, io);
    const summary = { task: task.data, model, queued, activated: false };
    if (values.activate) {
      await waitAndActivate(backend, task.data, model, io);
      summary.activated = true;
    }
    io.stdout.write(
      values.json
        ? `${JSON.stringify(summary)}\n`
        : `queued ${queued} image(s) for ${task.data} with ${model.id}@${model.version}` +
            `${summary.activated ? `; ${model.id}@${model.version} now serves ${task.data}` : ''}${backend.note ? `\n${backend.note}` : ''}\n`,
    );
    return 0;
  } catch (err) {
    io.stderr.write(`aex reindex: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await backend.close();
  }
}

/** Queues every image lacking the version's result, batch by batch, with a progress line. */
async function queueAll(
  backend: ReindexBackend,
  task: InferenceTaskName,
  model: ModelRef,
  batch: number,
  io: ReindexIo,
): Promise<number> {
  const start = await backend.coverage(task, model);
  const progress = new Progress(`reindex ${task}: queued`, start.images - start.covered, {
    unit: 'images',
    stream: io.stderr as NodeJS.WriteStream,
  });
  let after: string | undefined;
  let queued = 0;
  do {
    const result = await backend.queue(task, model, after, batch);
    queued += result.queued;
    // Images uploaded meanwhile may be found too: the total follows what was found.
    progress.setTotal(Math.max(start.images - start.covered, queued));
    if (result.queued > 0) progress.tick(result.queued);
    after = result.next ?? undefined;
  } while (after !== undefined);
  progress.setTotal(queued);
  progress.done();
  return queued;
}

/**
 * Polls the version's coverage until every image has its result, then activates it. An image
 * uploaded between the last poll and the activation makes the server refuse (409): polling
 * goes on until the workers have caught up with it too.
 */
async function waitAndActivate(
  backend: ReindexBackend,
  task: InferenceTaskName,
  model: ModelRef,
  io: ReindexIo,
): Promise<void> {
  let coverage = await backend.coverage(task, model);
  // Counts the results that arrive while waiting (the rate and ETA are the workers').
  const initial = coverage.covered;
  const progress = new Progress(`reindex ${task}: results`, coverage.images - initial, {
    unit: 'images',
    stream: io.stderr as NodeJS.WriteStream,
  });
  let shown = initial;
  for (;;) {
    progress.setTotal(Math.max(0, coverage.images - initial));
    if (coverage.covered > shown) {
      progress.tick(coverage.covered - shown);
      shown = coverage.covered;
    }
    if (coverage.complete && (await backend.activate(task, model))) break;
    await Bun.sleep(io.pollMs ?? 2000);
    coverage = await backend.coverage(task, model);
  }
  progress.done();
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      task: { type: 'string' },
      model: { type: 'string' },
      activate: { type: 'boolean' },
      server: { type: 'string' },
      'api-key': { type: 'string' },
      token: { type: 'string' },
      batch: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
