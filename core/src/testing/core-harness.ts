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
import type { TestIssuer } from '@aex/shared/testing/oidc-issuer';
import { startS3rver } from '@aex/shared/testing/s3rver';
import {
  natsReachable,
  postgresReachable,
  randomToken,
  TEST_NATS_URL,
} from '@aex/shared/testing/servers';
import { createPostgresTestDatabase } from '../db/testing.ts';
import { parseCoreConfig, type RunningCore, startCore } from '../mod.ts';
import {
  type Caller,
  HARNESS_ADMIN,
  HarnessCredentials,
  type HarnessRequestInit,
} from './harness-credentials.ts';

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

// The first admin every harness core starts with (AEX_ADMIN_EMAIL / AEX_ADMIN_PASSWORD), so
// no test run prints a generated password; log in with it at POST /api/v1/auth/login.
export { type Caller, HARNESS_ADMIN, type HarnessRequestInit } from './harness-credentials.ts';

/** The key a harness core signs internal images' thumbnail URLs with (hex). */
export const HARNESS_URL_SIGNING_KEY = '5a'.repeat(32);

/** Core running in-process on real adapters, with probes to see what it left behind. */
export interface CoreHarness {
  core: RunningCore;
  bus: EventBus;
  blobs: BlobStore;
  /** The request/reply port core asks workers through (NATS on `servers`, in-process else). */
  rpc: Rpc;
  dataDir: string;
  /**
   * A request to core, sent as `init.as` (default `admin`): the harness adds that role's
   * `Authorization: Bearer <access token>` unless `init.headers` carries a credential already;
   * `as: 'anonymous'` sends none.
   */
  request(path: string, init?: HarnessRequestInit): Promise<Response>;
  /** `request` as one caller: `h.as('reader').request('/api/v1/images')`. */
  as(caller: Caller): { request(path: string, init?: RequestInit): Promise<Response> };
  /** Credentials per role: access tokens and API keys (made through the API, once). */
  credentials: HarnessCredentials;
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
  options: {
    /**
     * An external OIDC issuer to trust instead of the built-in one (AEX_OIDC_ISSUER): the
     * harness's role tokens then come from it.
     */
    issuer?: TestIssuer;
  } = {},
): Promise<CoreHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aex-core-'));
  const cleanups: Array<() => Promise<void>> = [
    async () => rm(dataDir, { recursive: true, force: true }),
  ];
  const vars: Record<string, string> = {
    AEX_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    AEX_ADMIN_EMAIL: HARNESS_ADMIN.email,
    AEX_ADMIN_PASSWORD: HARNESS_ADMIN.password,
    AEX_URL_SIGNING_KEY: HARNESS_URL_SIGNING_KEY,
    ...(options.issuer
      ? { AEX_OIDC_ISSUER: options.issuer.issuer, AEX_OIDC_JWKS_URL: options.issuer.jwksUrl }
      : {}),
    ...env,
  };
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
  const send = async (request: Request) => core.fetch(request);
  const credentials = new HarnessCredentials(send, options.issuer);
  const request = async (path: string, init?: HarnessRequestInit) =>
    send(new Request(`http://aex.test${path}`, await credentials.sign(init)));
  return {
    core,
    bus,
    blobs,
    rpc,
    dataDir,
    request,
    as: (caller) => ({ request: (path, init) => request(path, { ...init, as: caller }) }),
    credentials,
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
