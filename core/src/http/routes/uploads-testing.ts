import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Caller, CoreHarness } from '../../testing/core-harness.ts';

/*
 * Test helpers for the tus routes: core on a real HTTP server, the protocol's requests
 * written out by hand, a large image, and a TCP proxy that drops a connection mid-body.
 */

export const TUS = { 'tus-resumable': '1.0.0' } as const;

/**
 * Core's fetch handler on a real HTTP server on a free port. Requests without a credential are
 * sent on as `as` (default admin), so protocol tests with any HTTP client need no login; pass
 * `as: 'anonymous'` to send them as they come.
 */
export function serveCore(
  h: CoreHarness,
  options: { as?: Caller } = {},
): { url: string; stop(): Promise<void> } {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: async (request) => {
      const init = await h.credentials.sign({ headers: request.headers, as: options.as });
      return h.core.fetch(new Request(request, { headers: init.headers }));
    },
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** An Upload-Metadata value: `key base64(value)` pairs. */
export function tusMetadata(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`)
    .join(',');
}

/** POST /api/v1/uploads. */
export function createUpload(
  base: string,
  length: number,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/api/v1/uploads`, {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(length), ...headers },
  });
}

/** PATCH bytes at `offset`. */
export function patchUpload(
  base: string,
  location: string,
  offset: number,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Response> {
  return fetch(new URL(location, base), {
    method: 'PATCH',
    headers: {
      ...TUS,
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: bytes,
  });
}

export function headUpload(base: string, location: string): Promise<Response> {
  return fetch(new URL(location, base), { method: 'HEAD', headers: TUS });
}

/** A PNG of random pixels, `side` × `side`, stored without compression (≈ 3·side² bytes). */
export async function noisePng(side: number): Promise<Uint8Array<ArrayBuffer>> {
  const raw = randomBytes(side * side * 3);
  const png = await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  return new Uint8Array(png);
}

/** Files in the tus upload directory. */
export function uploadFiles(h: CoreHarness): Promise<string[]> {
  return readdir(join(h.dataDir, 'uploads')).catch(() => []);
}

/** Sends a PATCH by hand on a raw socket and cuts the connection after `sent` bytes of body. */
export async function patchThenDrop(
  base: string,
  location: string,
  offset: number,
  declared: number,
  sent: Uint8Array,
): Promise<void> {
  const { hostname, port } = new URL(base);
  await new Promise<void>((done, fail) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `PATCH ${location} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nTus-Resumable: 1.0.0\r\n` +
          `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\n` +
          `Content-Length: ${declared}\r\n\r\n`,
      );
      socket.write(sent, () => {
        // Let the bytes arrive, then drop the connection with the body unfinished.
        setTimeout(() => {
          socket.destroy();
          done();
        }, 100);
      });
    });
    socket.once('error', fail);
  });
}

/**
 * A TCP proxy in front of `target` that, once, cuts both sides of the connection that
 * carries the `dropAt`-th byte from client to server: a network failure mid-chunk.
 */
export async function flakyProxy(
  target: string,
  dropAt: number,
): Promise<{ url: string; drops(): number; stop(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  let forwarded = 0;
  let drops = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    let cut = false;
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      if (drops === 0 && forwarded + chunk.length >= dropAt) {
        drops++;
        cut = true;
        // The bytes before the cut arrive; then both sides see the connection die.
        upstream.write(chunk.subarray(0, dropAt - forwarded), () =>
          setTimeout(() => upstream.destroy(), 50),
        );
        return;
      }
      forwarded += chunk.length;
      upstream.write(chunk);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    drops: () => drops,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
