import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '@aex/shared/testing/processes';
import { type ModelsCommandIo, runModels } from './models-command.ts';

// `aex models` against a real HTTP server on localhost acting as AEX_MODEL_MIRROR, serving
// the development copies of the models (../shared/models) as `/<id>/<file>`.
const SHARED_MODELS = resolve(REPO_ROOT, '../shared/models');
const haveShared = await Bun.file(join(SHARED_MODELS, 'SHA256SUMS')).exists();

let server: ReturnType<typeof Bun.serve>;
let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aex-models-cmd-'));
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      const file = Bun.file(join(SHARED_MODELS, decodeURIComponent(new URL(req.url).pathname)));
      return (await file.exists()) ? new Response(file) : new Response('no', { status: 404 });
    },
  });
});
afterAll(async () => {
  server.stop(true);
  await rm(root, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: ModelsCommandIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env: { AEX_DATA_DIR: join(root, 'data'), ...env },
  };
  const code = await runModels(argv, io);
  return { code, stdout, stderr };
}

const mirror = () => `http://127.0.0.1:${server.port}`;

describe.skipIf(!haveShared)(
  haveShared ? 'aex models pull' : `aex models pull (skipped: no ${SHARED_MODELS})`,
  () => {
    test('downloads through the mirror with a progress line, then finds it present', async () => {
      const dir = join(root, 'pulled');
      const first = await run(['pull', 'classify-mobilenetv2', '--dir', dir], {
        AEX_MODEL_MIRROR: mirror(),
      });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(
        `classify-mobilenetv2 12-int8 → ${join(dir, 'classify-mobilenetv2')}`,
      );
      expect(first.stdout).toContain(
        'mobilenetv2-12-int8.onnx: downloaded, 3.7 MB, sha256 cc028fe6cae7',
      );
      // Progress on stderr: bar, amount, rate and ETA, ending at 100%.
      expect(first.stderr).toMatch(
        /classify-mobilenetv2\/mobilenetv2-12-int8\.onnx \[#{20}\] 100% 3\.7 MB of 3\.7 MB, [\d.]+ MB\/s, ETA 0s/,
      );
      const again = await run(['pull', 'classify-mobilenetv2', '--dir', dir], {
        AEX_MODEL_MIRROR: mirror(),
      });
      expect(again.stdout).toContain('mobilenetv2-12-int8.onnx: present');
      expect(again.stderr).toBe('');
    });

    test('a model the mirror does not have: exit 1 with the URL and status', async () => {
      const { code, stderr } = await run(['pull', 'face-embed-sface'], {
        AEX_MODEL_DIR: join(root, 'sface'),
        AEX_MODEL_MIRROR: `${mirror()}/`,
      });
      expect(code).toBe(1);
      expect(stderr).toContain(
        `face-embed-sface/face_recognition_sface_2021dec.onnx: GET ${mirror()}/face-embed-sface/face_recognition_sface_2021dec.onnx answered 404 Not Found`,
      );
      expect(stderr).toContain('1 of 1 failed');
    });
  },
);

describe('aex models list', () => {
  test('shows every model with its status, sums and licence under AEX_MODEL_DIR', async () => {
    const dir = join(root, 'listed');
    // One pinned CLIP file, one wrong-sized MobileNet file, the rest missing.
    await mkdir(join(dir, 'clip-vit-b32-openai-visual'), { recursive: true });
    await writeFile(join(dir, 'clip-vit-b32-openai-visual', 'model.onnx'), 'weights');
    const pin = { sha256: 'a'.repeat(64), bytes: 7, pinnedAt: 'now' };
    await writeFile(
      join(dir, 'clip-vit-b32-openai-visual', 'models.lock.json'),
      JSON.stringify({
        model: 'clip-vit-b32-openai-visual',
        version: 'immich-openai',
        files: { 'model.onnx': pin },
      }),
    );
    await mkdir(join(dir, 'classify-mobilenetv2'));
    await writeFile(join(dir, 'classify-mobilenetv2', 'mobilenetv2-12-int8.onnx'), 'short');

    const { code, stdout } = await run(['list'], { AEX_MODEL_DIR: dir });
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`Models in ${dir}`);
    expect(lines[1]).toMatch(/^ID\s+VERSION\s+TASK\s+SIZE\s+STATUS\s+SHA256\s+LICENCE$/);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))?.split(/\s{2,}/);
    expect(row('clip-vit-b32-openai-visual')).toEqual([
      'clip-vit-b32-openai-visual',
      'immich-openai',
      'clip-image',
      '?',
      'present',
      'pinned',
      'MIT (OpenAI CLIP weights)',
    ]);
    expect(row('clip-vit-b32-openai-textual')?.slice(4, 6)).toEqual(['missing', 'unpinned']);
    expect(row('classify-mobilenetv2')?.slice(3, 6)).toEqual([
      '3.7 MB',
      'wrong size: mobilenetv2-12-int8.onnx',
      'registry',
    ]);
    expect(row('ocr-ppocrv4-det')?.[4]).toBe('present (npm)');
    expect(row('face-embed-mobilefacenet (test only)')?.[6]).toBe('unknown (test fixture only)');
  });

  test('defaults to $AEX_DATA_DIR/models', async () => {
    const { stdout } = await run(['list']);
    expect(stdout.split('\n')[0]).toBe(`Models in ${join(root, 'data', 'models')}`);
  });
});

describe('aex models usage', () => {
  test.each([
    [['pull'], 'give model ids or --all'],
    [['pull', 'x', '--all'], 'give model ids or --all'],
    [
      ['pull', 'no-such-model'],
      'unknown model "no-such-model"; known models: classify-mobilenetv2',
    ],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
  ])('%p exits 2: %s', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  test('a mirror that is not a URL is refused before anything is fetched', async () => {
    const { code, stderr } = await run(['pull', '--all'], { AEX_MODEL_MIRROR: 'mirror.local' });
    expect(code).toBe(2);
    expect(stderr).toContain('AEX_MODEL_MIRROR must be an http(s) URL');
  });

  test('the aex command dispatches to it', async () => {
    const proc = Bun.spawn([process.execPath, 'core/bin/aex.ts', 'models', 'list'], {
      cwd: REPO_ROOT,
      env: { ...process.env, AEX_MODEL_DIR: join(root, 'empty') },
      stdout: 'pipe',
    });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(out).toContain(`Models in ${join(root, 'empty')}`);
    expect(out).toContain('clip-vit-b32-openai-textual');
    const help = Bun.spawnSync([process.execPath, 'core/bin/aex.ts', 'help'], { cwd: REPO_ROOT });
    expect(help.stdout.toString()).toContain('models list|pull');
  });
});
