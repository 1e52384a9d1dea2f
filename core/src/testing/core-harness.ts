import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createBlobStore } from '@aex/shared/ports/blob-store/create';
import { createEventBus } from '@aex/shared/ports/event-bus/create';
import type { Consumer, EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { silentLogger } from '@aex/shared/ports/log';
import { createRpc } from '@aex/shared/ports/rpc/create';
import type { Rpc } from '@aex/shared/ports/rpc/rpc';
import { deleteTestStream } from '@aex/shared/testing/nats-streams';
import { startS3rver } from '@aex/shared/testing/s3rver';
import {
  natsReachable,
  postgresReachable,
  randomToken,
  TEST_NATS_URL,
} from '@aex/shared/testing/servers';
import { createPostgresTestDatabase } from '../db/testing.ts';
import { parseCoreConfig, type RunningCore, startCore } from '../mod.ts';

/** Which adapters a harness runs core on. */
export const ADAPTER_SETS = [
  {
    name: 'embedded adapters (PGlite, disk, embedded bus)',
    kind: 'embedded' as const,
    available: true,
  },
  {
    name: 'servers (Postgres, s3rver, NATS JetStream)',
    kind: 'servers' as const,
    available: postgresReachable && natsReachable,
  },
];

/** Core running in-process on real adapters, with probes to see what it left behind. */
export interface CoreHarness {
  core: RunningCore;
  bus: EventBus;
  blobs: BlobStore;
  /** The request/reply port core asks workers through (NATS on `servers`, in-process else). */
  rpc: Rpc;
  dataDir: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Every blob key in the store. */
  blobKeys(): Promise<string[]>;
  /** Files left in the upload spool. */
  spoolFiles(): Promise<string[]>;
  /** `aex.image.ingested` events published and not yet consumed by the probe. */
  ingestedEvents(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts core on the embedded adapters or on the real servers, with `env` overrides. */
export async function startCoreHarness(
  kind: 'embedded' | 'servers',
  env: Record<string, string> = {},
): Promise<CoreHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aex-core-'));
  const cleanups: Array<() => Promise<void>> = [
    async () => rm(dataDir, { recursive: true, force: true }),
  ];
  const vars: Record<string, string> = { AEX_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env };
  if (kind === 'servers') {
    const db = await createPostgresTestDatabase();
    await db.database.close();
    cleanups.push(() => db.drop());
    const s3 = await startS3rver();
    const bucket = `aex-${randomToken(8)}`;
    await s3.createBucket(bucket);
    cleanups.push(() => s3.stop());
    const stream = `AEX_T_${randomToken(8).toUpperCase()}`;
    cleanups.push(() => deleteTestStream(TEST_NATS_URL, stream));
    Object.assign(vars, {
      DATABASE_URL: db.url ?? '',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      NATS_URL: TEST_NATS_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT_PREFIX: `t${randomToken(8)}`,
    });
  }
  const config = parseCoreConfig(vars);
  const log = silentLogger();
  const blobs = createBlobStore(config, { dataDir });
  const bus = await createEventBus(config, {
    dataDir,
    log,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
  });
  const rpc = await createRpc(config, { log, subjectPrefix: config.NATS_SUBJECT_PREFIX });
  const core = await startCore(config, { log, bus, blobs, rpc });
  let probe: Consumer | undefined;
  return {
    core,
    bus,
    blobs,
    rpc,
    dataDir,
    request: async (path, init) => core.fetch(new Request(`http://aex.test${path}`, init)),
    async blobKeys() {
      const keys: string[] = [];
      for await (const info of blobs.list('')) keys.push(info.key);
      return keys.sort();
    },
    async spoolFiles() {
      return readdir(join(dataDir, 'tmp')).catch(() => []);
    },
    async ingestedEvents() {
      probe ??= await bus.consumer({ durable: 'test-probe', subjects: [Subjects.imageIngested] });
      return probe.pending();
    },
    async stop() {
      await probe?.close();
      await core.stop();
      await rpc.close();
      await bus.close();
      await blobs.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
