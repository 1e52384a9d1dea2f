import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Image, UploadResult } from '@aex/shared';
import { deleteTestStream } from '@aex/shared/testing/nats-streams';
import { type AexProcess, freePort, spawnAex } from '@aex/shared/testing/processes';
import { startS3rver } from '@aex/shared/testing/s3rver';
import {
  natsReachable,
  postgresReachable,
  randomToken,
  suiteName,
  TEST_NATS_URL,
} from '@aex/shared/testing/servers';
import { createPostgresTestDatabase } from '../src/db/testing.ts';

// The walking skeleton's proof: one photo through every real part, in real processes.
const OBJECTS = resolve(import.meta.dir, '../../../shared/fixtures/images/objects');
const CAT = join(OBJECTS, 'cat.jpg');
const TENCH = join(OBJECTS, 'tench_n01440764.png');
const modelsPresent =
  Boolean(process.env.AEX_MODEL_DIR) &&
  (await Bun.file(
    join(process.env.AEX_MODEL_DIR ?? '', 'classify-mobilenetv2/mobilenetv2-12-int8.onnx'),
  ).exists());

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aex-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The first admin of every AEX started here (AEX_ADMIN_EMAIL / AEX_ADMIN_PASSWORD). */
const ADMIN = { AEX_ADMIN_EMAIL: 'e2e-admin@aex.test', AEX_ADMIN_PASSWORD: 'e2e-admin-password' };
const sessions = new Map<string, Promise<string>>();

/** The admin's Authorization header for the AEX at `base`: logged in once, through the edge. */
async function auth(base: string): Promise<Record<string, string>> {
  let token = sessions.get(base);
  if (!token) {
    token = fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.AEX_ADMIN_EMAIL, password: ADMIN.AEX_ADMIN_PASSWORD }),
    }).then(async (res) => {
      if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { accessToken: string }).accessToken;
    });
    sessions.set(base, token);
  }
  return { authorization: `Bearer ${await token}` };
}

function started(p: AexProcess): AexProcess {
  cleanups.push(() => p.stop('SIGKILL'));
  return p;
}

async function upload(
  base: string,
  file = CAT,
): Promise<{ status: number; body: UploadResult; requestId: string | null }> {
  const res = await fetch(`${base}/api/v1/images`, {
    method: 'POST',
    headers: await auth(base),
    body: await readFile(file),
  });
  return {
    status: res.status,
    body: UploadResult.parse(await res.json()),
    requestId: res.headers.get('x-request-id'),
  };
}

async function waitForTag(
  base: string,
  id: string,
  label: string,
  timeoutMs = 60_000,
): Promise<Image> {
  const deadline = Date.now() + timeoutMs;
  let image: Image | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/api/v1/images/${id}`, { headers: await auth(base) });
    image = Image.parse(await res.json());
    if (image.tags.some((t) => t.label === label)) return image;
    await Bun.sleep(200);
  }
  throw new Error(
    `image ${id} never got the tag "${label}"; last tags: ${JSON.stringify(image?.tags)}`,
  );
}

/** Upload through the edge → tags from the worker → thumbnail with 200 then 304 → dedup. */
async function walkingSkeleton(base: string): Promise<string> {
  const first = await upload(base);
  expect(first.status).toBe(201);
  const { image } = first.body;
  const tagged = await waitForTag(base, image.id, 'tabby cat');
  const tag = tagged.tags.find((t) => t.label === 'tabby cat');
  expect(tag?.score).toBeGreaterThan(0.5);
  expect(tag?.model).toEqual({ id: 'classify-mobilenetv2', version: '12-int8' });
  expect(tagged.tags[0]?.label).toBe('tabby cat');

  const thumb = await fetch(`${base}${image.urls.thumb}`);
  expect(thumb.status).toBe(200);
  expect(thumb.headers.get('content-type')).toBe('image/webp');
  // A new image is internal: its DTO carries a signed URL, which the edge serves privately.
  expect(image.urls.thumb).toMatch(/\?exp=\d+&sig=/);
  expect(thumb.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
  // Without the signature it is not found: internal images never reach an anonymous client.
  const unsigned = await fetch(`${base}${image.urls.thumb.split('?')[0]}`);
  expect(unsigned.status).toBe(404);
  const etag = thumb.headers.get('etag') ?? '';
  expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(100);
  const again = await fetch(`${base}${image.urls.thumb}`, { headers: { 'if-none-match': etag } });
  expect(again.status).toBe(304);

  const second = await upload(base);
  expect(second.status).toBe(200);
  expect(second.body.created).toBe(false);
  expect(second.body.image.id).toBe(image.id);
  return first.requestId ?? '';
}

describe.skipIf(!modelsPresent)(
  suiteName(
    'end to end: `aex serve all` on embedded adapters',
    modelsPresent,
    'AEX_MODEL_DIR models',
  ),
  () => {
    test('a photo travels upload → event → tagger → tags → thumbnail → dedup', async () => {
      const dataDir = await tempDir();
      const port = await freePort();
      const aex = started(
        spawnAex(['serve', 'all'], { ...ADMIN, AEX_DATA_DIR: dataDir, PORT: String(port) }),
      );
      const base = `http://127.0.0.1:${port}`;
      await aex.waitHealthy(`${base}/healthz`);
      const requestId = await walkingSkeleton(base);
      // Edge and core log the same request id for the upload: one JSON line each.
      const lines = aex.logs().filter((l) => l.requestId === requestId && l.msg === 'request');
      expect(lines.map((l) => l.service).sort()).toEqual(['core', 'edge']);
      expect(new Set(lines.map((l) => l.traceId)).size).toBe(1);
      expect(await aex.stop('SIGTERM')).toBe(0);
    }, 120_000);

    test('tags still arrive after the process is killed before its worker ran', async () => {
      const dataDir = await tempDir();
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const env = { ...ADMIN, AEX_DATA_DIR: dataDir, PORT: String(port) };
      const first = started(spawnAex(['serve', 'all'], { ...env, AEX_WORKER_TASKS: 'none' }));
      await first.waitHealthy(`${base}/healthz`);
      const { body } = await upload(base);
      await Bun.sleep(500);
      expect(
        Image.parse(
          await (
            await fetch(`${base}/api/v1/images/${body.image.id}`, { headers: await auth(base) })
          ).json(),
        ).tags,
      ).toEqual([]);
      await first.stop('SIGKILL');

      const second = started(spawnAex(['serve', 'all'], env));
      await second.waitHealthy(`${base}/healthz`);
      await waitForTag(base, body.image.id, 'tabby cat');
      expect(await second.stop('SIGTERM')).toBe(0);
    }, 120_000);
  },
);

const serversUp = postgresReachable && natsReachable && modelsPresent;
describe.skipIf(!serversUp)(
  suiteName(
    'end to end: core, edge and worker processes on Postgres + JetStream + s3rver',
    serversUp,
    'Postgres, NATS or the models',
  ),
  () => {
    test('a photo travels through three processes; a worker started later catches up', async () => {
      const db = await createPostgresTestDatabase();
      await db.database.close();
      cleanups.push(() => db.drop());
      const s3 = await startS3rver();
      cleanups.push(() => s3.stop());
      const bucket = `aex-${randomToken(8)}`;
      await s3.createBucket(bucket);
      const stream = `AEX_E2E_${randomToken(8).toUpperCase()}`;
      cleanups.push(() => deleteTestStream(TEST_NATS_URL, stream));
      const [edgePort, corePort, workerPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const env = {
        ...ADMIN,
        AEX_DATA_DIR: await tempDir(),
        DATABASE_URL: db.url ?? '',
        NATS_URL: TEST_NATS_URL,
        NATS_STREAM: stream,
        NATS_SUBJECT_PREFIX: `e2e${randomToken(6)}`,
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        PORT: String(edgePort),
        CORE_PORT: String(corePort),
        CORE_URL: `http://127.0.0.1:${corePort}`,
        WORKER_PORT: String(workerPort),
        // Separate core and edge share the key of signed thumbnail URLs, as in production.
        AEX_URL_SIGNING_KEY: '7e'.repeat(32),
      };
      const core = started(spawnAex(['serve', 'core'], env));
      const edge = started(spawnAex(['serve', 'edge'], env));
      await core.waitHealthy(`http://127.0.0.1:${corePort}/readyz`);
      const base = `http://127.0.0.1:${edgePort}`;
      await edge.waitHealthy(`${base}/healthz`);

      // Uploaded while no worker runs: the job waits in JetStream, nothing is lost.
      const early = await upload(base, TENCH);
      expect(early.status).toBe(201);
      const worker = started(spawnAex(['serve', 'worker'], env));
      await worker.waitHealthy(`http://127.0.0.1:${workerPort}/`);
      await waitForTag(base, early.body.image.id, 'tench');

      const requestId = await walkingSkeleton(base);
      expect(core.logs().some((l) => l.requestId === requestId && l.msg === 'request')).toBe(true);
      expect(edge.logs().some((l) => l.requestId === requestId && l.msg === 'request')).toBe(true);
      for (const p of [edge, worker, core]) expect(await p.stop('SIGTERM')).toBe(0);
    }, 180_000);
  },
);

describe('end to end: oversize uploads through the real server', () => {
  test('declared and streamed bodies over AEX_MAX_UPLOAD_BYTES get a problem+json 413 from AEX', async () => {
    const port = await freePort();
    const aex = started(
      spawnAex(['serve', 'all'], {
        ...ADMIN,
        AEX_DATA_DIR: await tempDir(),
        PORT: String(port),
        AEX_MAX_UPLOAD_BYTES: '64k',
        AEX_WORKER_TASKS: 'none',
      }),
    );
    const base = `http://127.0.0.1:${port}`;
    await aex.waitHealthy(`${base}/healthz`);
    const big = new Uint8Array(1024 * 1024).fill(1);
    const headers = await auth(base);
    const declared = await fetch(`${base}/api/v1/images`, { method: 'POST', headers, body: big });
    const streamed = await fetch(`${base}/api/v1/images`, {
      method: 'POST',
      headers,
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    for (const res of [declared, streamed]) {
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toContain('AEX_MAX_UPLOAD_BYTES');
    }
    // Another route's body is capped too, with the same kind of answer.
    const json = await fetch(`${base}/api/v1/images/01a20f27-a5e9-71fd-8ce1-04888aa28a6d`, {
      method: 'PATCH',
      headers,
      body: new Uint8Array(2 * 1024 * 1024),
    });
    expect(json.status).toBe(413);
    expect(json.headers.get('content-type')).toBe('application/problem+json');
    // Without a credential the upload is refused before a byte of it is read.
    const anonymous = await fetch(`${base}/api/v1/images`, { method: 'POST', body: big });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="aex"');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await aex.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
