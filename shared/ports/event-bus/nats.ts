import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { STREAM_NAME } from '../../src/subjects.ts';
import type { Logger } from '../log.ts';
import {
  type Consumer,
  type ConsumerOptions,
  type EventBus,
  EventBusError,
  resolveConsumerOptions,
} from './event-bus.ts';
import {
  messageOf,
  NatsConsumer,
  type NatsConsumerContext,
  serverAtLeast,
} from './nats-consumer.ts';
import { type WireSubjects, wireSubjects } from './wire-subjects.ts';

export interface NatsEventBusOptions {
  /** `nats://host:port`, or several for a cluster. */
  servers: string | string[];
  /** JetStream stream name. Default `AEX`. */
  stream?: string;
  /** Wire prefix replacing the logical `aex.` (tests use a random one). Default `aex`. */
  subjectPrefix?: string;
  /** JetStream `duplicate_window` for a stream this call creates. Default 2 minutes. */
  duplicateWindowMs?: number;
  /** Connection name shown by the server (`nats server report connections`). */
  name?: string;
  log?: Logger;
}

const HINT = 'start nats-server with -js or unset NATS_URL to use the embedded bus';

/**
 * Connects to NATS JetStream and makes sure the stream exists (file storage, the AEX
 * subjects under `subjectPrefix`). Throws `EventBusError` naming the server when it cannot be
 * reached or has no JetStream.
 */
export async function createNatsEventBus(options: NatsEventBusOptions): Promise<EventBus> {
  const subjects = wireSubjects(options.subjectPrefix);
  const stream = options.stream ?? STREAM_NAME;
  const where = [options.servers].flat().join(', ');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name,
      // A worker outlives server restarts: keep reconnecting rather than give up after 10 tries.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
    });
  } catch (err) {
    throw new EventBusError(`NATS at ${where} is not reachable: ${messageOf(err)} — ${HINT}`, {
      cause: err,
    });
  }
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, stream, subjects, options.duplicateWindowMs ?? 120_000, options.log);
    if (options.log) logStatus(nc, where, options.log);
    return new NatsEventBus(nc, jsm, jetstream(nc), stream, subjects, options.log);
  } catch (err) {
    await nc.close().catch(() => undefined);
    if (err instanceof EventBusError) throw err;
    throw new EventBusError(
      `NATS at ${where} has no usable JetStream: ${messageOf(err)} — ${HINT}`,
      {
        cause: err,
      },
    );
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: WireSubjects,
  duplicateWindowMs: number,
  log: Logger | undefined,
): Promise<void> {
  const wanted = subjects.streamSubjects;
  try {
    const info = await jsm.streams.info(name);
    const have = info.config.subjects ?? [];
    const missing = wanted.filter((s) => !have.includes(s));
    if (missing.length > 0) {
      await jsm.streams.update(name, { subjects: [...have, ...missing] });
      log?.info({ stream: name, added: missing }, 'event stream now captures more subjects');
    }
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    // Adding a stream with the same config is idempotent, so racing processes both succeed.
    await jsm.streams.add({
      name,
      subjects: wanted,
      storage: StorageType.File,
      duplicate_window: nanos(duplicateWindowMs),
    });
    log?.info({ stream: name, subjects: wanted }, 'event stream created');
  }
}

function logStatus(nc: NatsConnection, where: string, log: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        log.warn({ nats: where, event: s.type }, `NATS connection: ${s.type}`);
      }
    }
  })().catch(() => undefined);
}

class NatsEventBus implements EventBus {
  readonly kind = 'nats' as const;
  private readonly consumers = new Set<NatsConsumer>();
  private readonly ctx: NatsConsumerContext;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly subjects: WireSubjects,
    private readonly log: Logger | undefined,
  ) {
    this.ctx = { nc, jsm, stream, subjects, termWithReason: serverAtLeast(nc, '2.10.4') };
  }

  async publish(subject: string, payload: Uint8Array, options: { msgId: string }): Promise<void> {
    this.subjects.assertCaptured(subject);
    const wire = this.subjects.toWire(subject);
    try {
      // Nats-Msg-Id: the stream drops a second message with the same id within its
      // duplicate_window and acks it with `duplicate: true`, which is success for us.
      await this.js.publish(wire, payload, { msgID: options.msgId });
    } catch (err) {
      throw new EventBusError(`publish to ${subject} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const { durable, subjects, maxDeliver, ackWaitMs } = resolveConsumerOptions(options);
    const filters = subjects.map((s) => this.subjects.toWire(s));
    if (filters.length > 1 && !serverAtLeast(this.nc, '2.10.0')) {
      throw new EventBusError(
        `consumer ${durable} filters ${filters.length} subjects, which needs nats-server 2.10+ (connected to ${this.nc.info?.version})`,
      );
    }
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: maxDeliver,
      ack_wait: nanos(ackWaitMs),
      ...(filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: filters }),
    };
    try {
      await this.ensureConsumer(durable, config, filters);
    } catch (err) {
      if (err instanceof EventBusError) throw err;
      throw new EventBusError(`consumer ${durable}: ${messageOf(err)}`, { cause: err });
    }
    const consumer = new NatsConsumer(durable, this.ctx);
    this.consumers.add(consumer);
    return consumer;
  }

  /** Creates the durable, or binds to it, updating its limits when they changed. */
  private async ensureConsumer(
    durable: string,
    config: Partial<ConsumerConfig>,
    filters: string[],
  ): Promise<void> {
    let info: ConsumerInfo;
    try {
      info = await this.jsm.consumers.info(this.stream, durable);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      // The same config again is idempotent on the server, so racing workers both succeed.
      await this.jsm.consumers.add(this.stream, config);
      return;
    }
    const have = info.config.filter_subjects ?? [info.config.filter_subject ?? ''];
    if ([...have].sort().join(' ') !== [...filters].sort().join(' ')) {
      // Changing the filter of a consumer in use would silently skip or replay messages.
      throw new EventBusError(
        `consumer ${durable} exists with subjects ${have.join(', ')}; delete it or use another durable name`,
      );
    }
    if (
      info.config.max_deliver !== config.max_deliver ||
      info.config.ack_wait !== config.ack_wait
    ) {
      await this.jsm.consumers.update(this.stream, durable, {
        max_deliver: config.max_deliver,
        ack_wait: config.ack_wait,
      });
      this.log?.info(
        { consumer: durable, maxDeliver: config.max_deliver, ackWaitNs: config.ack_wait },
        'consumer limits updated',
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.close()));
    this.consumers.clear();
    if (this.nc.isClosed()) return;
    // drain(): pending publishes and acks are flushed before the connection closes.
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
