import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './processes.ts';

export interface S3TestServer {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a bucket (s3rver needs it to exist before use); an existing one is fine. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves once `endpoint` answers HTTP, or rejects when the child exits or time runs out. */
async function waitUntilServing(endpoint: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(endpoint);
      return;
    } catch {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`s3rver did not start on ${endpoint}: ${log() || 'no output'}`);
      }
      await sleep(50);
    }
  }
}

/**
 * Starts s3rver (a real S3-protocol server) in a Node child process with its own temp
 * directory. Node rather than Bun: s3rver is a Koa app written for Node. Credentials are
 * s3rver's fixed `S3RVER`/`S3RVER`; it checks SigV4 signatures made with them.
 */
export async function startS3rver(): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aex-s3rver-'));
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  // The free port can be taken between probing and binding: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = ['--address', '127.0.0.1', '--port', String(port), '--directory', dir, '--silent'];
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+)
    // keeps in its legacy provider; without it every truncated listing is a 500.
    const node = ['--openssl-legacy-provider', bin, ...args];
    const child = spawn('node', node, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // A test run that dies without calling stop() must not leave the server running.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(endpoint, child, () => output);
    } catch (error) {
      process.off('exit', killOnExit);
      if (attempt < 3 && output.includes('EADDRINUSE')) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      endpoint,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      async createBucket(name) {
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
          throw new Error(
            `createBucket: ${JSON.stringify(name)} is no bucket name (3-63 of a-z 0-9 . -)`,
          );
        }
        const res = await fetch(`${endpoint}/${name}`, { method: 'PUT' });
        if (!res.ok && res.status !== 409) {
          throw new Error(`createBucket ${name}: ${res.status} ${await res.text()}`);
        }
      },
      async stop() {
        process.off('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((done) => child.once('exit', done));
          child.kill('SIGTERM');
          // s3rver waits for open requests (an aborted upload can hang one): do not wait long.
          const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
