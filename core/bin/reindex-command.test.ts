import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AexEvent, Image, type ImageTagsComputed, makeEvent, Subjects } from '@aex/shared';
import type { Consumer } from '@aex/shared/ports/event-bus/event-bus';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { silentLogger } from '@aex/shared/ports/log';
import { postgresReachable, randomToken } from '@aex/shared/testing/servers';
import { openDatabase } from '../src/db/database.ts';
import { ImageRepository } from '../src/db/image-repository.ts';
import { OutboxRepository } from '../src/db/outbox-repository.ts';
import { ResultsRepository } from '../src/db/results-repository.ts';
import { TaskModelsRepository } from '../src/db/task-models-repository.ts';
import { createPostgresTestDatabase } from '../src/db/testing.ts';
import { type CoreHarness, startCoreHarness } from '../src/testing/core-harness.ts';
import {
  eventually,
  minimalImageRow,
  resultPublisher,
  uploadImages,
} from '../src/testing/result-events.ts';
import { resolveModel } from './reindex-backends.ts';
import { type ReindexIo, runReindex } from './reindex-command.ts';

/** Runs the command with captured output. */
async function reindex(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const io: ReindexIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env,
    pollMs: 50,
  };
  const code = await runReindex(argv, io);
  return { code, stdout, stderr };
}

describe('aex reindex against a running AEX (--server)', () => {
  let h: CoreHarness;
  let server: ReturnType<typeof Bun.serve>;
  let url: string;
  let img: string[];
  let probe: Consumer;
  /** An admin's API key: the admin API wants one. */
  let apiKey: string;
  const v = (version: string) => ({ id: 'classify-test', version });
  beforeAll(async () => {
    h = await startCoreHarness('embedded');
    apiKey = await h.credentials.apiKey('admin');
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => h.core.fetch(r) });
    url = `http://127.0.0.1:${server.port}`;
    probe = await h.bus.consumer({
      durable: `test-reindex-${randomToken(6)}`,
      subjects: [Subjects.imageReindexRequested],
    });
    img = await uploadImages(h, 3);
    const publish = resultPublisher(h);
    for (const id of img) await publish.tags(id, v('1'), ['a']);
    await publish.tags(img[0] as string, v('2'), ['b']);
    const status = async () =>
      JSON.stringify(await (await h.request('/api/v1/admin/models')).json());
    expect(
      await eventually(async () => (await status()).includes('"images":3,"complete":true')),
    ).toBe(true);
    expect(
      await eventually(async () => (await status()).includes('"version":"2"},"images":1')),
    ).toBe(true);
  }, 30_000);
  afterAll(async () => {
    await probe?.close();
    await server?.stop();
    await h?.stop();
  });

  /** Image ids of the reindex events published since the last call (at least `min`). */
  async function queuedIds(min: number): Promise<string[]> {
    const ids: string[] = [];
    const deadline = Date.now() + 10_000;
    for (;;) {
      const batch = await probe.fetch(100, 300);
      if (batch.length === 0 && (ids.length >= min || Date.now() > deadline)) return ids.sort();
      for (const d of batch) {
        const e = AexEvent.parse(JSON.parse(new TextDecoder().decode(d.data)));
        if (e.type === Subjects.imageReindexRequested && e.task === 'tags') ids.push(e.imageId);
        await d.ack();
      }
    }
  }

  test('queues exactly the images lacking the version, batch by batch, with a progress line', async () => {
    const run = await reindex([
      '--task',
      'tags',
      '--model',
      'classify-test@2',
      '--server',
      url,
      '--api-key',
      apiKey,
      '--batch',
      '1',
    ]);
    expect(run).toMatchObject({
      code: 0,
      stdout: 'queued 2 image(s) for tags with classify-test@2\n',
    });
    expect(run.stderr).toMatch(
      /reindex tags: queued 2\/2 \(100%\) [\d.]+ images\/s, ETA \S+, elapsed \S+\n$/,
    );
    expect(await queuedIds(2)).toEqual([img[1], img[2]].sort() as string[]);
    const json = await reindex([
      '--task',
      'tags',
      '--model',
      'classify-test@1',
      '--server',
      `${url}/`,
      '--api-key',
      apiKey,
      '--json',
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      task: 'tags',
      model: v('1'),
      queued: 0,
      activated: false,
    });
    expect(await queuedIds(0)).toEqual([]);
  });

  test('--activate waits until every image has a result, then serves the version', async () => {
    // A stand-in worker: answers each reindex request with a tags result of version 3.
    const worker = await h.bus.consumer({
      durable: `test-worker-${randomToken(6)}`,
      subjects: [Subjects.imageReindexRequested],
    });
    // A new durable gets every stored request, earlier tests' too: those are dropped first.
    while ((await worker.fetch(100, 300)).map((d) => d.ack()).length > 0) {}
    let running = true;
    const loop = (async () => {
      while (running) {
        const batch = await worker.fetch(10, 100);
        // Slower than the command's first look at the coverage, so it sees results arrive.
        if (batch.length > 0) await Bun.sleep(300);
        for (const d of batch) {
          const e = AexEvent.parse(JSON.parse(new TextDecoder().decode(d.data)));
          await publishEvent(
            h.bus,
            makeEvent<ImageTagsComputed>({
              type: Subjects.imageTagsComputed,
              imageId: e.imageId,
              model: v('3'),
              tags: [{ label: 'new', score: 0.5 }],
            }),
          );
          await d.ack();
        }
      }
    })();
    try {
      const before = Image.parse(await (await h.request(`/api/v1/images/${img[1]}`)).json());
      expect(before.tags.map((t) => t.model.version)).toEqual(['1']);
      const run = await reindex([
        '--task',
        'tags',
        '--model',
        'classify-test@3',
        '--server',
        url,
        '--api-key',
        apiKey,
        '--activate',
      ]);
      expect(run).toMatchObject({
        code: 0,
        stdout:
          'queued 3 image(s) for tags with classify-test@3; classify-test@3 now serves tags\n',
      });
      expect(run.stderr).toMatch(/reindex tags: results 3\/3 \(100%\)/);
      const after = Image.parse(await (await h.request(`/api/v1/images/${img[1]}`)).json());
      expect(after.tags).toEqual([{ label: 'new', score: 0.5, model: v('3') }]);
    } finally {
      running = false;
      await loop;
      await worker.close();
      await queuedIds(0);
    }
  });

  test('bad usage exits 2 and says why; an unreachable server exits 1', async () => {
    for (const [argv, message] of [
      [[], '--task must be one of'],
      [['--task', 'colour'], '--task must be one of'],
      [['--task', 'tags', '--batch', '0'], '--batch must be'],
      [['--task', 'tags', '--batch', '9000'], '--batch must be'],
      [['--task', 'tags', '--what'], "Unknown option '--what'"],
      [
        ['--task', 'tags', '--model', 'no-such-model'],
        'no tags model "no-such-model" in the registry',
      ],
    ] as Array<[string[], string]>) {
      const run = await reindex(argv);
      expect([argv, run.code]).toEqual([argv, 2]);
      expect(run.stderr).toContain(message);
    }
    expect(await reindex(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Usage: aex reindex'),
    });
    const down = await reindex([
      '--task',
      'tags',
      '--model',
      'x@1',
      '--server',
      'http://127.0.0.1:9',
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('does not answer');
  });

  test('without a credential, or with a weak one, it says to pass an admin API key', async () => {
    const args = ['--task', 'tags', '--model', 'classify-test@1', '--server', url];
    const none = await reindex(args);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no valid credential');
    expect(none.stderr).toContain('--api-key');
    const reader = await reindex(args, { AEX_API_KEY: await h.credentials.apiKey('reader') });
    expect(reader.code).toBe(1);
    expect(reader.stderr).toContain('needs the admin role');
    const revoked = await reindex([...args, '--api-key', `aex_${'0'.repeat(20)}_nosuchsecret`]);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('no valid credential');
    // An admin's access token works as well as a key.
    const token = await reindex([...args, '--token', await h.credentials.token('admin')]);
    expect(token.code).toBe(0);
  });

  test('a credential given wrongly is a usage error', async () => {
    const args = ['--task', 'tags', '--model', 'x@1', '--server', url];
    const notAKey = await reindex([...args, '--api-key', 'password123']);
    expect(notAKey).toMatchObject({ code: 2, stderr: expect.stringContaining('aex_') });
    const both = await reindex([...args, '--api-key', apiKey, '--token', 'abc.def.ghi']);
    expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('not both') });
  });

  test('the embedded store a server holds is not opened a second time', async () => {
    const run = await reindex(['--task', 'tags', '--model', 'x@1'], { AEX_DATA_DIR: h.dataDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is in use by a running `aex serve`');
    expect(run.stderr).toContain('--server');
  });
});

test("the model: ID@VERSION as given, an id at the registry's version, else the task's current one", async () => {
  expect(await resolveModel('faces', 'face-embed-x@7')).toEqual({
    id: 'face-embed-x',
    version: '7',
  });
  expect(await resolveModel('tags')).toEqual({ id: 'classify-mobilenetv2', version: '12-int8' });
  // CLIP's results are keyed by the embedding space both encoders share.
  expect(await resolveModel('clip')).toEqual({
    id: 'clip-vit-b32-openai',
    version: 'immich-openai',
  });
  expect(await resolveModel('clip', 'clip-vit-b32-openai')).toEqual(await resolveModel('clip'));
  // The default is never a test-only model; naming one is allowed.
  expect(await resolveModel('faces')).toEqual({ id: 'face-embed-sface', version: '2021dec' });
  expect(await resolveModel('faces', 'face-embed-mobilefacenet')).toEqual({
    id: 'face-embed-mobilefacenet',
    version: '1',
  });
  expect(await resolveModel('ocr')).toEqual({ id: 'ocr-ppocrv4-rec', version: 'v4' });
  await expect(resolveModel('ocr', 'nope')).rejects.toThrow('no ocr model "nope"');
  await expect(resolveModel('tags', 'face-embed-sface')).rejects.toThrow(
    'known: classify-mobilenetv2@12-int8',
  );
});

describe('aex reindex on the database of the environment', () => {
  test('the embedded store: events wait in the outbox for the next `aex serve`; --activate needs a server', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-reindex-'));
    try {
      const db = await openDatabase({ dataDir: dir, log: silentLogger() });
      const rows = [minimalImageRow(), minimalImageRow()];
      for (const row of rows) await new ImageRepository(db.db).insertWithEvents(row, []);
      await db.close();
      const run = await reindex(['--task', 'ocr', '--model', 'ocr-x@1'], { AEX_DATA_DIR: dir });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('queued 2 image(s)');
      expect(run.stdout).toContain('the next `aex serve` publishes them');
      const again = await openDatabase({ dataDir: dir, log: silentLogger() });
      expect(await new OutboxRepository(again.db).count()).toBe(2);
      await again.close();
      const activate = await reindex(['--task', 'ocr', '--model', 'ocr-x@1', '--activate'], {
        AEX_DATA_DIR: dir,
      });
      expect(activate.code).toBe(1);
      expect(activate.stderr).toContain('--activate waits for the workers');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test.skipIf(!postgresReachable)('Postgres: complete coverage is activated at once', async () => {
    const t = await createPostgresTestDatabase();
    try {
      const model = { id: 'ocr-y', version: '2' };
      const results = new ResultsRepository(t.database.db);
      for (const row of [minimalImageRow(), minimalImageRow()]) {
        await new ImageRepository(t.database.db).insertWithEvents(row, []);
        await results.replaceText(row.id, model, [], new Date());
      }
      await new TaskModelsRepository(t.database.db).activate('ocr', { id: 'ocr-y', version: '1' });
      const run = await reindex(['--task', 'ocr', '--model', 'ocr-y@2', '--activate'], {
        DATABASE_URL: t.url,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        'queued 0 image(s) for ocr with ocr-y@2; ocr-y@2 now serves ocr',
      );
      const [active] = await new TaskModelsRepository(t.database.db).active();
      expect(active).toMatchObject({ task: 'ocr', model });
    } finally {
      await t.drop();
    }
  });
});
