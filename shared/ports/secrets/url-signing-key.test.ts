import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config.ts';
import { resolveUrlSigningKey, urlSigningKeyPath } from './url-signing-key.ts';

describe('resolveUrlSigningKey', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aex-key-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the configured key wins and nothing is written', async () => {
    const configured = new Uint8Array(32).fill(7);
    for (const whenMissing of ['generate', 'existing'] as const) {
      expect(await resolveUrlSigningKey({ configured, dataDir, whenMissing })).toBe(configured);
    }
    expect(await readdir(dataDir)).toEqual([]);
  });

  test('all-in-one: a key is generated once, kept with mode 0600, and reused', async () => {
    const first = await resolveUrlSigningKey({
      configured: undefined,
      dataDir,
      whenMissing: 'generate',
    });
    expect(first).toHaveLength(32);
    const path = urlSigningKeyPath(dataDir);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toBe(Buffer.from(first).toString('hex'));
    const again = await resolveUrlSigningKey({
      configured: undefined,
      dataDir,
      whenMissing: 'generate',
    });
    expect(again).toEqual(first);
    // A separate core or edge on the same data folder uses the same file.
    const split = await resolveUrlSigningKey({
      configured: undefined,
      dataDir,
      whenMissing: 'existing',
    });
    expect(split).toEqual(first);
    expect(await readdir(join(dataDir, 'secrets'))).toEqual(['url-signing.key']);
  });

  test('processes starting together end with one key', async () => {
    const keys = await Promise.all(
      Array.from({ length: 6 }, () =>
        resolveUrlSigningKey({ configured: undefined, dataDir, whenMissing: 'generate' }),
      ),
    );
    for (const key of keys) expect(key).toEqual(keys[0] as Uint8Array);
    expect(await readdir(join(dataDir, 'secrets'))).toEqual(['url-signing.key']);
  });

  test('split deployment without a key: a config error saying to set it on both', async () => {
    const err = await resolveUrlSigningKey({
      configured: undefined,
      dataDir,
      whenMissing: 'existing',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toMatch(/^AEX_URL_SIGNING_KEY: .*same value on both/);
    expect(await readdir(dataDir)).toEqual([]);
  });

  test('a damaged key file is a config error, never silently replaced', async () => {
    await mkdir(join(dataDir, 'secrets'));
    await writeFile(urlSigningKeyPath(dataDir), 'short\n');
    const err = await resolveUrlSigningKey({
      configured: undefined,
      dataDir,
      whenMissing: 'generate',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toContain('delete the file');
    expect(await readFile(urlSigningKeyPath(dataDir), 'utf8')).toBe('short\n');
  });
});
