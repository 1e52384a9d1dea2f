import { STREAM_SUBJECTS } from '../../src/subjects.ts';
import { EventBusError, subjectMatches } from './event-bus.ts';

/**
 * Maps logical subjects (`aex.image.ingested`) onto the wire and back. Tests give each bus a
 * random prefix because JetStream refuses two streams whose subjects overlap, so test runs
 * and a developer's running AEX can share one server.
 */
export interface WireSubjects {
  readonly prefix: string;
  /** The wire subject for a logical subject or filter; throws unless it starts with `aex.`. */
  toWire(logical: string): string;
  /** The logical subject for a wire subject of this prefix. */
  fromWire(wire: string): string;
  /** The stream's subjects (`STREAM_SUBJECTS`) on the wire. */
  readonly streamSubjects: string[];
  /** Throws unless the stream captures `logical`: a publish elsewhere would be lost. */
  assertCaptured(logical: string): void;
}

const PREFIX = /^[A-Za-z0-9_-]+$/;

/** The subject mapping for `prefix` (default `aex`, the identity). */
export function wireSubjects(prefix = 'aex'): WireSubjects {
  if (!PREFIX.test(prefix)) {
    throw new EventBusError(`invalid subject prefix ${JSON.stringify(prefix)}: use [A-Za-z0-9_-]+`);
  }
  const toWire = (logical: string): string => {
    if (!logical.startsWith('aex.') || logical.length < 5) {
      throw new EventBusError(`subject ${JSON.stringify(logical)} is not an AEX subject (aex.…)`);
    }
    return `${prefix}${logical.slice(3)}`;
  };
  return {
    prefix,
    toWire,
    fromWire: (wire) => (wire.startsWith(`${prefix}.`) ? `aex${wire.slice(prefix.length)}` : wire),
    streamSubjects: STREAM_SUBJECTS.map(toWire),
    assertCaptured(logical) {
      if (!STREAM_SUBJECTS.some((filter) => subjectMatches(filter, logical))) {
        throw new EventBusError(
          `subject ${JSON.stringify(logical)} is not stored by the event stream (${STREAM_SUBJECTS.join(', ')})`,
        );
      }
    },
  };
}
