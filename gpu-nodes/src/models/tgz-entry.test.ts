import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractTgzEntry, TarFormatError } from './tgz-entry.ts';

// The archives are made by GNU tar, an implementation independent of the reader under test,
// in the three ways long paths are written: pax `path` records, GNU long-name entries and the
// ustar prefix field.
const tar = Bun.which('tar');
const LONG = `assets/${'a-rather-long-folder-name/'.repeat(5)}model.onnx`;
const big = new Uint8Array(1_000_003).map((_, i) => (i * 7919) % 251);
let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aex-tgz-'));
  const files: Record<string, Uint8Array | string> = {
    'package/package.json': '{"name":"x","version":"1.0.0"}',
    'package/README.md': 'readme',
    [`package/${LONG}`]: big,
    'package/assets/labels.txt': 'a\nb\n',
    'package/assets/empty.txt': '',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, 'src', dirname(path)), { recursive: true });
    await writeFile(join(root, 'src', path), content);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function* chunks(bytes: Uint8Array, size = 4096) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function extract(tgz: Uint8Array, path: string) {
  const parts: Uint8Array[] = [];
  const found = await extractTgzEntry(chunks(tgz), path, (chunk) => {
    parts.push(chunk.slice());
  });
  return { found, bytes: Buffer.concat(parts) };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!tar)(tar ? 'extractTgzEntry' : 'extractTgzEntry (skipped: no tar binary)', () => {
  test.each(['pax', 'gnu', 'ustar'])('reads entries of a GNU tar %s archive', async (format) => {
    const out = join(root, `${format}.tgz`);
    // ustar holds the 150-character path by splitting it into its prefix and name fields.
    const proc = Bun.spawnSync([tar as string, `--format=${format}`, '-czf', out, 'package'], {
      cwd: join(root, 'src'),
    });
    expect(proc.exitCode).toBe(0);
    const tgz = new Uint8Array(await readFile(out));

    const labels = await extract(tgz, 'assets/labels.txt');
    expect(labels.found).toEqual({ bytes: 4 });
    expect(labels.bytes.toString()).toBe('a\nb\n');
    expect(await extract(tgz, 'assets/empty.txt')).toMatchObject({ found: { bytes: 0 } });
    expect((await extract(tgz, 'no/such/file')).found).toBeNull();
    const model = await extract(tgz, LONG);
    expect(model.found).toEqual({ bytes: big.length });
    expect(sha(model.bytes)).toBe(sha(big));
  });
});

test('bytes that are not gzip, or not tar, or cut short are a TarFormatError', async () => {
  const notGzip = extract(new TextEncoder().encode('<html>not found</html>'), 'x');
  await expect(notGzip).rejects.toBeInstanceOf(TarFormatError);
  const notTar = extract(gzipSync(new Uint8Array(2048).fill(65)), 'x');
  await expect(notTar).rejects.toThrow(/header checksum/);
  const valid = new Uint8Array(await readFile(join(root, 'pax.tgz')).catch(() => Buffer.alloc(0)));
  if (valid.length > 0) {
    // The same archive cut in the middle of the big entry.
    const raw = Bun.gunzipSync(valid);
    const cut = extract(gzipSync(raw.subarray(0, 600_000)), 'no/such/file');
    await expect(cut).rejects.toThrow(/ends inside an entry/);
  }
});
