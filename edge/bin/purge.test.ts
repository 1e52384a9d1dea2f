import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ImageDeleted,
  type ImageIngested,
  makeEvent,
  newId,
  parseUrlSigningKey,
  Subjects,
  signThumbnailUrl,
} from '@aex/shared';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { createNatsEventBus } from '@aex/shared/ports/event-bus/nats';
import { encodeEvent } from '@aex/shared/ports/event-bus/run-consumer';
import {
  NATS_SERVER_BIN,
  type NatsTestServer,
  startNatsTestServer,
} from '@aex/shared/testing/nats-server';
import { freePort } from '@aex/shared/testing/processes';
import { randomToken } from '@aex/shared/testing/servers';
import { connect } from '@nats-io/transport-node';
import {
  denoUnavailable,
  type EdgeProcess,
  type EdgeRuntime,
  startEdge,
} from '../testing/edge-process.ts';

// Issue 5: "Cache purge on aex.image.deleted: the edge subscribes over NATS WebSocket, and a
// deleted image's thumbnail is gone everywhere within 2 s." Two edges (on Bun and, when it
// can start, on Deno), a nats-server of the test's own with a WebSocket listener, and the
// event published the way core's outbox relay publishes it: a JetStream publish.
const denoMissing = await denoUnavailable();
const secondRuntime: EdgeRuntime = denoMissing ? 'bun' : 'deno';
const title = (name: string) =>
  NATS_SERVER_BIN
    ? denoMissing
      ? `${name} (second edge on Bun: ${denoMissing})`
      : name
    : `${name} (skipped: nats-server not on the PATH)`;
const it = NATS_SERVER_BIN ? test : test.skip;
const sha = (c: string) => c.repeat(64);
const URL_SIGNING_KEY = 'cd'.repeat(32);

describe(`cache purge over NATS WebSocket, edges on bun and ${secondRuntime}`, () => {
  let dir: string;
  let nats: NatsTestServer;
  let bus: EventBus;
  let edges: EdgeProcess[] = [];
  const prefix = `t${randomToken(8)}`;
  const stream = `PURGE_${randomToken(6).toUpperCase()}`;
  const blobs = () => createDiskBlobStore({ root: join(dir, 'blobs') });
  const cacheFile = (edge: number, s: string) =>
    join(dir, `cache-${edge}`, s.slice(0, 2), s, 'thumb.webp');
  const putThumb = (s: string) =>
    blobs().put(`derived/${s}/thumb.webp`, new Uint8Array(2000).fill(7), {
      contentType: 'image/webp',
    });
  // Signed URLs, as core hands out for internal images: access is granted by the signature
  // alone (no question to core), so a 404 can only come from the cache having let go.
  const status = async (edge: EdgeProcess, s: string) => {
    const path = await signThumbnailUrl({
      sha256: s,
      variant: 'thumb',
      key: parseUrlSigningKey(URL_SIGNING_KEY),
    });
    return (await fetch(`${edge.url}${path}`)).status;
  };
  const publish = (event: ImageDeleted | ImageIngested) =>
    bus.publish(event.type, encodeEvent(event), { msgId: event.id });
  const deleted = (s: string) =>
    makeEvent<ImageDeleted>({ type: Subjects.imageDeleted, imageId: newId(), sha256: s });
  /** Polls every edge until the thumbnail answers 404; the milliseconds it took for each. */
  const untilGone = async (s: string, since: number, limitMs = 5_000) =>
    Promise.all(
      edges.map(async (edge) => {
        while (performance.now() - since < limitMs) {
          if ((await status(edge, s)) === 404) return performance.now() - since;
          await Bun.sleep(5);
        }
        return Number.POSITIVE_INFINITY;
      }),
    );
  type LogLine = Record<string, unknown>;
  const waitForLine = async (edge: EdgeProcess, match: (l: LogLine) => boolean, count = 1) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const lines = edge.logs().filter(match);
      if (lines.length >= count) return lines[count - 1] as LogLine;
      await Bun.sleep(20);
    }
    throw new Error(`edge on ${edge.runtime} never logged that:\n${edge.output.join('\n')}`);
  };
  const waitForLog = (edge: EdgeProcess, msg: string, count = 1) =>
    waitForLine(edge, (l) => l.msg === msg, count);

  beforeAll(async () => {
    if (!NATS_SERVER_BIN) return;
    dir = await mkdtemp(join(tmpdir(), 'aex-purge-'));
    nats = await startNatsTestServer();
    bus = await createNatsEventBus({
      servers: nats.url,
      stream,
      subjectPrefix: prefix,
    });
    for (const c of 'abcdef') await putThumb(sha(c));
    edges = await Promise.all(
      (['bun', secondRuntime] as const).map(async (runtime, i) =>
        startEdge(runtime, await freePort(), {
          AEX_DATA_DIR: dir,
          AEX_CACHE_DIR: join(dir, `cache-${i}`),
          AEX_NATS_WS_URL: nats.wsUrl,
          NATS_SUBJECT_PREFIX: prefix,
          CORE_URL: `http://127.0.0.1:${await freePort()}`,
          AEX_URL_SIGNING_KEY: URL_SIGNING_KEY,
          // The test polls every few milliseconds; the limiter is tested elsewhere.
          AEX_RATE_LIMIT: 'off',
        }),
      ),
    );
    for (const edge of edges) await waitForLog(edge, 'NATS WebSocket connected; subscribed');
  }, 120_000);
  afterAll(async () => {
    if (!NATS_SERVER_BIN) return;
    const codes = await Promise.all(edges.map((e) => e.stop()));
    await bus?.close();
    await nats?.dispose();
    await rm(dir, { recursive: true, force: true });
    expect(codes).toEqual(edges.map(() => 0));
  });

  it(title('a deleted image is gone from both edges within 2 s'), async () => {
    const s = sha('a');
    for (const edge of edges) expect(await status(edge, s)).toBe(200);
    for (const i of [0, 1]) expect(await stat(cacheFile(i, s))).toBeTruthy();
    // The blob stays at the origin: the event may well arrive before core removed it.
    const since = performance.now();
    await publish(deleted(s));
    const latencies = await untilGone(s, since);
    console.log(
      `purge latency (publish → 404), ${edges.map((e, i) => `${e.runtime}: ${latencies[i]?.toFixed(1)} ms`).join(', ')}`,
    );
    for (const ms of latencies) expect(ms).toBeLessThan(2000);
    for (const i of [0, 1]) expect(await stat(cacheFile(i, s)).catch(() => null)).toBeNull();
    for (const edge of edges) {
      const line = await waitForLine(
        edge,
        (l) => l.msg === 'purged a deleted image' && l.sha256 === s,
      );
      expect(line.imageId).toBeString();
    }
  });

  it(title('the same bytes uploaded again are served again'), async () => {
    const s = sha('b');
    for (const edge of edges) expect(await status(edge, s)).toBe(200);
    await publish(deleted(s));
    expect((await untilGone(s, performance.now())).every((ms) => ms < 2000)).toBe(true);
    await publish(
      makeEvent<ImageIngested>({
        type: Subjects.imageIngested,
        imageId: newId(),
        sha256: s,
        mime: 'image/jpeg',
        width: 10,
        height: 10,
        originalKey: `originals/${s.slice(0, 2)}/${s}`,
        previewKey: `derived/${s}/preview.webp`,
        thumbKey: `derived/${s}/thumb.webp`,
      }),
    );
    for (const edge of edges) {
      const deadline = Date.now() + 2000;
      while ((await status(edge, s)) !== 200 && Date.now() < deadline) await Bun.sleep(10);
      expect(await status(edge, s)).toBe(200);
    }
  });

  it(title('messages that are not AEX events are logged and ignored'), async () => {
    const nc = await connect({ servers: nats.url });
    try {
      nc.publish(`${prefix}.image.deleted`, new TextEncoder().encode('{"not":"an event"}'));
      nc.publish(`${prefix}.image.deleted`, new TextEncoder().encode('\u0000garbage'));
      await nc.flush();
    } finally {
      await nc.close();
    }
    for (const edge of edges)
      await waitForLog(edge, 'ignored a message that is not an AEX event', 2);
    for (const edge of edges) expect(await status(edge, sha('c'))).toBe(200);
  });

  it(title(
    'after NATS comes back, edges reconnect, re-check what they cached, and purge again',
  ), async () => {
    const missed = sha('d');
    const later = sha('e');
    for (const edge of edges) {
      expect(await status(edge, missed)).toBe(200);
      expect(await status(edge, later)).toBe(200);
    }
    await bus.close();
    await nats.stop();
    for (const edge of edges) await waitForLog(edge, 'NATS WebSocket disconnected; reconnecting');
    // Deleted while the edges could hear nothing: core removed the blob, the event is lost
    // to them (core subscriptions do not replay).
    await blobs().delete(`derived/${missed}/thumb.webp`);
    // Still served: nothing told the edges yet.
    for (const edge of edges) expect(await status(edge, missed)).toBe(200);
    await nats.start();
    for (const edge of edges) await waitForLog(edge, 'NATS WebSocket reconnected');
    for (const edge of edges) expect(await status(edge, missed)).toBe(404);
    bus = await createNatsEventBus({
      servers: nats.url,
      stream,
      subjectPrefix: prefix,
    });
    const since = performance.now();
    await publish(deleted(later));
    expect((await untilGone(later, since)).every((ms) => ms < 2000)).toBe(true);
  }, 60_000);
});
