import { connect } from 'node:net';

/**
 * Which real servers the tests can reach. A suite whose server is not reachable is
 * skipped (and says so in its name), never reported as passing.
 */
export const TEST_NATS_URL = process.env.AEX_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const TEST_DATABASE_URL =
  process.env.AEX_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Resolves true when a TCP connection to `url`'s host and port opens within `timeoutMs`. */
export function reachable(url: string, defaultPort: number, timeoutMs = 500): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || defaultPort);
  return new Promise((done) => {
    const socket = connect({ host: u.hostname, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export const natsReachable = await reachable(TEST_NATS_URL, 4222);
export const postgresReachable = await reachable(TEST_DATABASE_URL, 5432);

/** A suite title that says why it is skipped when its server is missing. */
export function suiteName(name: string, available: boolean, server: string): string {
  return available ? name : `${name} (skipped: ${server} not reachable)`;
}

/** A random lowercase token for stream names, subject prefixes and database names. */
export function randomToken(length = 10): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
    out += alphabet[byte % alphabet.length];
  }
  return out;
}
