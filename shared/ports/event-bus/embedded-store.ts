import type { Database } from 'bun:sqlite';
import { EventBusError, subjectMatches } from './event-bus.ts';

/** A stored message claimed for one consumer: in flight under `lease` until acked or expired. */
export interface ClaimedRow {
  seq: number;
  subject: string;
  payload: Uint8Array;
  msgId: string;
  deliveryCount: number;
  lease: string;
}

interface ConsumerRow {
  durable: string;
  subjects: string;
  max_deliver: number;
  ack_wait_ms: number;
}

/**
 * One row per consumer and stored message it has not finished with: waiting
 * (`lease` null, `available_at` = when it may be delivered, later after a nak with delay) or
 * in flight (`lease` set, `available_at` = when its ack wait runs out). Acking or terminating
 * deletes the row. A message delivered `max_deliver` times whose ack wait ran out is dropped,
 * as JetStream drops it from the consumer's pending set.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  msg_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload BLOB NOT NULL,
  stored_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_msg_id ON messages (msg_id);
CREATE INDEX IF NOT EXISTS messages_stored_at ON messages (stored_at);
CREATE TABLE IF NOT EXISTS consumers (
  durable TEXT PRIMARY KEY,
  subjects TEXT NOT NULL,
  max_deliver INTEGER NOT NULL,
  ack_wait_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  durable TEXT NOT NULL REFERENCES consumers (durable) ON DELETE CASCADE,
  seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
  available_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL DEFAULT 0,
  lease TEXT,
  PRIMARY KEY (durable, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_available ON deliveries (durable, available_at);
CREATE INDEX IF NOT EXISTS deliveries_seq ON deliveries (seq);
`;

/**
 * The embedded bus's durable state in one SQLite file (WAL), shared safely by several
 * processes: every write is a `BEGIN IMMEDIATE` transaction, so two claims never overlap.
 */
export class EmbeddedStore {
  private readonly db: Database;
  private readonly leasePrefix = crypto.randomUUID().slice(0, 8);
  private leaseCounter = 0;

  constructor(path: string) {
    // Loaded on first use, not at import: `mod.ts` re-exports this adapter, and a runtime
    // without bun:sqlite (Deno at the edge) must still be able to import it and use NATS.
    const sqlite: typeof import('bun:sqlite') = require('bun:sqlite');
    this.db = new sqlite.Database(path, { create: true, strict: true });
    this.db.run('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode survives a crash of the process, not of the machine: the same
    // promise as JetStream file storage, which fsyncs every `sync_interval` (2 min).
    this.db.run('PRAGMA synchronous = NORMAL');
    this.db.run('PRAGMA busy_timeout = 5000');
    this.db.run('PRAGMA foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  /** Stores a message and fans it out to every matching consumer; false for a duplicate. */
  publish(subject: string, payload: Uint8Array, msgId: string, dedupSince: number): boolean {
    return this.write(() => {
      const dup = this.db
        .query('SELECT 1 FROM messages WHERE msg_id = ? AND stored_at >= ? LIMIT 1')
        .get(msgId, dedupSince);
      if (dup) return false;
      const now = Date.now();
      const { lastInsertRowid } = this.db
        .query('INSERT INTO messages (msg_id, subject, payload, stored_at) VALUES (?, ?, ?, ?)')
        .run(msgId, subject, payload, now);
      const consumers = this.db
        .query('SELECT durable, subjects FROM consumers')
        .all() as ConsumerRow[];
      for (const c of consumers) {
        if (matchesAny(c.subjects, subject))
          this.addDelivery(c.durable, Number(lastInsertRowid), now);
      }
      return true;
    });
  }

  /**
   * Creates the consumer and gives it every stored matching message (deliver policy all),
   * or binds to it and updates its limits. Throws if it exists with other subjects.
   */
  ensureConsumer(durable: string, subjects: string[], maxDeliver: number, ackWaitMs: number): void {
    const wanted = JSON.stringify([...subjects].sort());
    this.write(() => {
      const row = this.db.query('SELECT * FROM consumers WHERE durable = ?').get(durable) as
        | ConsumerRow
        | undefined;
      if (row) {
        if (row.subjects !== wanted) {
          throw new EventBusError(
            `consumer ${durable} exists with subjects ${row.subjects}; delete it or use another durable name`,
          );
        }
        this.db
          .query('UPDATE consumers SET max_deliver = ?, ack_wait_ms = ? WHERE durable = ?')
          .run(maxDeliver, ackWaitMs, durable);
        return;
      }
      const now = Date.now();
      this.db
        .query(
          'INSERT INTO consumers (durable, subjects, max_deliver, ack_wait_ms, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(durable, wanted, maxDeliver, ackWaitMs, now);
      const stored = this.db.query('SELECT seq, subject FROM messages ORDER BY seq').all() as {
        seq: number;
        subject: string;
      }[];
      for (const m of stored)
        if (matchesAny(wanted, m.subject)) this.addDelivery(durable, m.seq, now);
    });
  }

  /** Atomically takes up to `max` ready messages in flight for `durable`, oldest first. */
  claim(durable: string, max: number): ClaimedRow[] {
    // A read first: idle consumers polling every 250 ms should not queue for the write lock.
    const ready = this.db
      .query(
        `SELECT 1 FROM deliveries d JOIN consumers c ON c.durable = d.durable
         WHERE d.durable = ? AND d.available_at <= ? AND d.delivery_count < c.max_deliver LIMIT 1`,
      )
      .get(durable, Date.now());
    if (!ready) return [];
    return this.write(() => {
      const limits = this.limits(durable);
      const now = Date.now();
      this.db
        .query(
          'DELETE FROM deliveries WHERE durable = ? AND delivery_count >= ? AND available_at <= ?',
        )
        .run(durable, limits.max_deliver, now);
      const rows = this.db
        .query(
          `SELECT d.seq AS seq, m.subject AS subject, m.payload AS payload, m.msg_id AS msgId,
                  d.delivery_count + 1 AS deliveryCount
           FROM deliveries d JOIN messages m ON m.seq = d.seq
           WHERE d.durable = ? AND d.available_at <= ? ORDER BY d.seq LIMIT ?`,
        )
        .all(durable, now, max) as Omit<ClaimedRow, 'lease'>[];
      const lease = this.db.query(
        'UPDATE deliveries SET delivery_count = ?, lease = ?, available_at = ? WHERE durable = ? AND seq = ?',
      );
      return rows.map((row) => {
        const claimed = { ...row, lease: `${this.leasePrefix}.${++this.leaseCounter}` };
        lease.run(row.deliveryCount, claimed.lease, now + limits.ack_wait_ms, durable, row.seq);
        return claimed;
      });
    });
  }

  /** When the next waiting or in-flight message of `durable` may be delivered, if any. */
  nextAvailableAt(durable: string): number | undefined {
    const limits = this.limits(durable);
    const row = this.db
      .query(
        'SELECT MIN(available_at) AS at FROM deliveries WHERE durable = ? AND delivery_count < ?',
      )
      .get(durable, limits.max_deliver) as { at: number | null };
    return row.at ?? undefined;
  }

  /** Messages not yet acked, terminated or out of deliveries. */
  pending(durable: string): number {
    const limits = this.limits(durable);
    const row = this.db
      .query(
        `SELECT COUNT(*) AS n FROM deliveries
         WHERE durable = ? AND NOT (delivery_count >= ? AND available_at <= ?)`,
      )
      .get(durable, limits.max_deliver, Date.now()) as { n: number };
    return row.n;
  }

  /** Ack or term: done for this consumer, whoever holds it now (JetStream accepts a late ack). */
  finish(durable: string, seq: number): void {
    this.write(() =>
      this.db.query('DELETE FROM deliveries WHERE durable = ? AND seq = ?').run(durable, seq),
    );
  }

  /** Nak: back to waiting after `delayMs`, unless it was redelivered meanwhile. */
  release(durable: string, seq: number, lease: string, delayMs: number): void {
    this.write(() =>
      this.db
        .query(
          'UPDATE deliveries SET lease = NULL, available_at = ? WHERE durable = ? AND seq = ? AND lease = ?',
        )
        .run(Date.now() + delayMs, durable, seq, lease),
    );
  }

  /** Working: restart the ack wait, as JetStream's `+WPI` does. */
  extend(durable: string, seq: number, lease: string): void {
    this.write(() => {
      const { ack_wait_ms } = this.limits(durable);
      this.db
        .query('UPDATE deliveries SET available_at = ? WHERE durable = ? AND seq = ? AND lease = ?')
        .run(Date.now() + ack_wait_ms, durable, seq, lease);
    });
  }

  /**
   * Drops deliveries that ran out of attempts, then deletes messages stored before `before`
   * that no consumer still has to process.
   */
  prune(before: number): number {
    return this.write(() => {
      this.db
        .query(
          `DELETE FROM deliveries WHERE available_at <= ? AND delivery_count >=
             (SELECT max_deliver FROM consumers c WHERE c.durable = deliveries.durable)`,
        )
        .run(Date.now());
      return this.db
        .query(
          `DELETE FROM messages WHERE stored_at < ?
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = messages.seq)`,
        )
        .run(before).changes;
    });
  }

  close(): void {
    this.db.close();
  }

  private limits(durable: string): ConsumerRow {
    const row = this.db.query('SELECT * FROM consumers WHERE durable = ?').get(durable) as
      | ConsumerRow
      | undefined;
    if (!row) throw new EventBusError(`consumer ${durable} does not exist (deleted?)`);
    return row;
  }

  private addDelivery(durable: string, seq: number, now: number): void {
    this.db
      .query('INSERT OR IGNORE INTO deliveries (durable, seq, available_at) VALUES (?, ?, ?)')
      .run(durable, seq, now);
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: it takes the write lock up front. */
  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      if (err instanceof EventBusError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new EventBusError(`embedded bus: ${message}`, { cause: err });
    }
  }
}

function matchesAny(subjectsJson: string, subject: string): boolean {
  return (JSON.parse(subjectsJson) as string[]).some((f) => subjectMatches(f, subject));
}
