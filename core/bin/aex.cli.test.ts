import { describe, expect, test } from 'bun:test';
import { REPO_ROOT } from '@aex/shared/testing/processes';

async function aex(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, 'core/bin/aex.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe('aex command', () => {
  test('bad configuration: every bad variable of every service is listed, exit 2, nothing started', async () => {
    const { stderr, code } = await aex(['serve', 'all'], {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db/aex',
      AEX_MAX_UPLOAD_BYTES: 'lots',
      AEX_EXECUTION_PROVIDERS: 'cuda,rocm',
      NATS_URL: 'http://nats:4222',
      S3_FORCE_PATH_STYLE: 'maybe',
    });
    expect(code).toBe(2);
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'AEX_MAX_UPLOAD_BYTES',
      'AEX_EXECUTION_PROVIDERS',
      'NATS_URL',
      'S3_FORCE_PATH_STYLE',
    ]) {
      expect(stderr).toContain(`${name}:`);
    }
    expect(stderr).toContain('AEX cannot start');
    // Listed once even though several services read it.
    expect(stderr.match(/S3_FORCE_PATH_STYLE:/g)).toHaveLength(1);
  });

  test('a role checks only its own variables', async () => {
    // The edge does not read DATABASE_URL, so a bad one does not stop it from validating
    // its own config: the only problem reported is the edge's.
    const { stderr, code } = await aex(['serve', 'edge'], {
      DATABASE_URL: 'mysql://x',
      PORT: '-1',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('PORT:');
    expect(stderr).not.toContain('DATABASE_URL');
  });

  test('an unreachable Postgres fails the start with what to do', async () => {
    const { stderr, code } = await aex(['serve', 'core'], {
      DATABASE_URL: 'postgres://aex:secret@127.0.0.1:9/aex',
      AEX_DATA_DIR: `/tmp/aex-cli-${Date.now()}`,
      AEX_URL_SIGNING_KEY: '11'.repeat(32),
    });
    expect(code).toBe(1);
    expect(stderr).toContain('not reachable');
    expect(stderr).toContain('unset it to use the embedded PGlite store');
    expect(stderr).not.toContain('secret');
  });

  test('core or edge alone without a URL signing key: told to set the same one on both', async () => {
    for (const role of ['core', 'edge']) {
      const { stderr, code } = await aex(['serve', role], {
        AEX_DATA_DIR: `/tmp/aex-cli-nokey-${Date.now()}`,
      });
      expect({ role, code }).toEqual({ role, code: 2 });
      expect(stderr).toContain(
        'AEX_URL_SIGNING_KEY: must be set when core and edge run as separate processes',
      );
      expect(stderr).toContain('openssl rand -hex 32');
    }
    const short = await aex(['serve', 'edge'], { AEX_URL_SIGNING_KEY: 'abcd' });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('AEX_URL_SIGNING_KEY: must hold at least 32 bytes');
  });

  test('usage, help and unknown commands', async () => {
    expect((await aex(['help'])).code).toBe(0);
    expect((await aex(['help'])).stdout).toContain('serve [all|core|edge|worker]');
    expect((await aex([])).code).toBe(2);
    const unknown = await aex(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const role = await aex(['serve', 'database']);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('unknown role "database"');
  });
});
