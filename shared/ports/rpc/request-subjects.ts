import { STREAM_SUBJECTS } from '../../src/subjects.ts';
import { subjectMatches } from '../event-bus/event-bus.ts';

const PREFIX = /^[A-Za-z0-9_-]+$/;

/**
 * Throws unless `logical` can carry requests: an `aex.` subject without wildcards that the
 * event stream does not store. A stored subject would be answered by JetStream itself with a
 * publish ack before any responder could reply (see `STREAM_SUBJECTS`).
 */
export function assertRequestSubject(logical: string): void {
  if (!logical.startsWith('aex.') || logical.length < 5 || /[\s*>]/.test(logical)) {
    throw new RangeError(
      `${JSON.stringify(logical)} is not a request subject (aex.…, no wildcards)`,
    );
  }
  if (STREAM_SUBJECTS.some((filter) => subjectMatches(filter, logical))) {
    throw new RangeError(
      `${logical} is stored by the event stream (${STREAM_SUBJECTS.join(', ')}); requests need a subject outside it`,
    );
  }
}

/** Maps a logical request subject onto the wire prefix, as the event bus does (`aex.` → `<prefix>.`). */
export function requestWireSubject(prefix: string, logical: string): string {
  if (!PREFIX.test(prefix)) {
    throw new RangeError(`invalid subject prefix ${JSON.stringify(prefix)}: use [A-Za-z0-9_-]+`);
  }
  assertRequestSubject(logical);
  return `${prefix}${logical.slice(3)}`;
}
