import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseUrlSigningKey, UrlSigningKeyError } from '../../src/auth/signed-url.ts';
import { ConfigError } from '../../src/config.ts';

/** Where the all-in-one process keeps the key it generated: `<AEX_DATA_DIR>/secrets/url-signing.key`. */
export function urlSigningKeyPath(dataDir: string): string {
  return join(dataDir, 'secrets', 'url-signing.key');
}

export interface ResolveUrlSigningKeyOptions {
  /** `AEX_URL_SIGNING_KEY` as parsed, if set. */
  configured: Uint8Array | undefined;
  dataDir: string;
  /**
   * `generate` (the all-in-one process, which is both signer and verifier): make and keep a
   * key when there is none. `existing` (core or edge alone): the two processes must share
   * one key, so a missing one is a configuration error.
   */
  whenMissing: 'generate' | 'existing';
}

/**
 * The HMAC key of signed thumbnail URLs (issue 5): `AEX_URL_SIGNING_KEY` when set, else the
 * key file in the data folder, else (all-in-one only) a new random key written there with
 * mode 0600. Throws ConfigError naming the variable when nothing usable is found.
 */
export async function resolveUrlSigningKey(
  options: ResolveUrlSigningKeyOptions,
): Promise<Uint8Array> {
  if (options.configured) return options.configured;
  const path = urlSigningKeyPath(options.dataDir);
  const stored = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new ConfigError([
      `AEX_URL_SIGNING_KEY: unset, and ${path} cannot be read (${err.code ?? err.message})`,
    ]);
  });
  if (stored !== undefined) {
    try {
      return parseUrlSigningKey(stored);
    } catch (err) {
      if (!(err instanceof UrlSigningKeyError)) throw err;
      throw new ConfigError([
        `AEX_URL_SIGNING_KEY: unset, and the key in ${path} ${err.message}; delete the file to have a new one made, or set the variable`,
      ]);
    }
  }
  if (options.whenMissing === 'existing') {
    throw new ConfigError([
      'AEX_URL_SIGNING_KEY: must be set when core and edge run as separate processes: they share it to sign and check thumbnail URLs. Make one with `openssl rand -hex 32` and set the same value on both.',
    ]);
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  // Written beside and linked into place, so a crash never leaves a half-written key and a
  // second process starting at the same moment adopts the first one's key (EEXIST) instead
  // of replacing it. 0600: it is a secret.
  const temp = `${path}.${crypto.randomUUID()}.part`;
  try {
    const hex = Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');
    await writeFile(temp, `${hex}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return resolveUrlSigningKey({ ...options, whenMissing: 'existing' });
  } finally {
    await rm(temp, { force: true });
  }
  return key;
}
