import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { fileWithRole } from '../models/model-files.ts';
import { modelSuiteName, mustSkip, testModel } from '../models/testing.ts';
import {
  type ExecutionProvider,
  InferenceError,
  openOnnxSession,
  parseExecutionProviders,
} from './onnx-session.ts';

describe('parseExecutionProviders', () => {
  test('keeps the order given', () => {
    expect(parseExecutionProviders('tensorrt,cuda,cpu')).toEqual(['tensorrt', 'cuda', 'cpu']);
    expect(parseExecutionProviders('cpu,cuda')).toEqual(['cpu', 'cuda']);
  });

  test('trims, lower-cases and drops repeats', () => {
    expect(parseExecutionProviders(' CUDA , cpu,cuda ')).toEqual(['cuda', 'cpu']);
  });

  test('rejects unknown names, listing them and the valid ones', () => {
    expect(() => parseExecutionProviders('cuda,rocm,cpu')).toThrow(InferenceError);
    expect(() => parseExecutionProviders('cuda,rocm,cpu')).toThrow(
      'unknown execution provider "rocm"; valid names: tensorrt, cuda, cpu',
    );
  });

  test('rejects an empty list', () => {
    expect(() => parseExecutionProviders(' , ')).toThrow('no execution provider given');
  });
});

describe('openOnnxSession with a bad file', () => {
  const log = capturingLogger();

  test('a missing file names the path and how to get the model', async () => {
    const path = join(tmpdir(), 'aex-no-such-dir', 'model.onnx');
    const err = await openOnnxSession({ path, providers: ['cpu'], log }).catch((e) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err.message).toContain(path);
    expect(err.message).toContain('aex models pull');
    expect(err.message).toContain('AEX_MODEL_DIR');
  });

  test('a corrupt file is reported as not a model, without trying other providers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-onnx-'));
    try {
      const path = join(dir, 'corrupt.onnx');
      await writeFile(path, crypto.getRandomValues(new Uint8Array(4096)));
      const quiet = capturingLogger();
      const err = await openOnnxSession({ path, providers: ['cpu', 'cuda'], log: quiet }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(InferenceError);
      expect(err.message).toContain(`${path} is not a valid ONNX model`);
      expect(err.message).toContain('aex models pull');
      expect(quiet.lines).toEqual([]);

      await writeFile(path, '');
      const empty = await openOnnxSession({ path, providers: ['cpu'], log }).catch((e) => e);
      expect(empty.message).toContain(`model file ${path} is empty`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

const mobilenet = await testModel('classify-mobilenetv2');

// The CPU build of onnxruntime-node ships no provider libraries; on a GPU build CUDA may well
// open, and the fallback tests below would then test nothing.
const ortBin = join(
  dirname(fileURLToPath(import.meta.resolve('onnxruntime-node'))),
  `../bin/napi-v6/${process.platform}/${process.arch}`,
);
const gpuBuild = existsSync(join(ortBin, 'libonnxruntime_providers_shared.so'));
const cpuBuildOnly = (name: string) =>
  gpuBuild ? `${name} (skipped: this onnxruntime-node has GPU providers)` : name;

describe.skipIf(mustSkip(mobilenet))(modelSuiteName('openOnnxSession', mobilenet), () => {
  const modelPath = () => (mobilenet.available ? fileWithRole(mobilenet.files, 'model').path : '');

  test('exposes the graph: names, types and shapes with the symbolic batch dim', async () => {
    const session = await openOnnxSession({
      path: modelPath(),
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      expect(session.provider).toBe('cpu');
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['output']);
      expect(session.inputs).toEqual([
        { name: 'input', type: 'float32', shape: ['batch_size', 3, 224, 224] },
      ]);
      expect(session.outputs).toEqual([
        { name: 'output', type: 'float32', shape: ['batch_size', 1000] },
      ]);
    } finally {
      await session.close();
    }
  });

  test('runs a batch: the first dim of the output is the batch', async () => {
    const session = await openOnnxSession({
      path: modelPath(),
      providers: ['cpu'],
      log: capturingLogger(),
      intraOpThreads: 1,
    });
    try {
      const data = new Float32Array(2 * 3 * 224 * 224);
      data.fill(0.5, 0, 3 * 224 * 224); // two different images: row 0 grey, row 1 zero
      const out = await session.run({ input: { type: 'float32', data, dims: [2, 3, 224, 224] } });
      const output = out.output;
      expect(output?.type).toBe('float32');
      expect(output?.dims).toEqual([2, 1000]);
      expect(output?.data).toBeInstanceOf(Float32Array);
      const rows = [output?.data.slice(0, 1000), output?.data.slice(1000)];
      expect(rows[0]).not.toEqual(rows[1]);
      // Each row depends only on its own image: the same image alone gives the same logits.
      const alone = await session.run({
        input: { type: 'float32', data: data.slice(0, 3 * 224 * 224), dims: [1, 3, 224, 224] },
      });
      expect(alone.output?.data).toEqual(rows[0] as Float32Array);
    } finally {
      await session.close();
    }
  });

  test('opens a model from bytes, the path only naming it', async () => {
    const bytes = new Uint8Array(await Bun.file(modelPath()).arrayBuffer());
    // No file at this path: the session can only have come from the bytes.
    const path = join(tmpdir(), 'aex-no-such-dir', 'derived.onnx');
    const log = capturingLogger();
    const fromBytes = await openOnnxSession({ path, bytes, providers: ['cpu'], log });
    const fromFile = await openOnnxSession({ path: modelPath(), providers: ['cpu'], log });
    try {
      expect(fromBytes.inputs).toEqual(fromFile.inputs);
      expect(log.lines[0]?.fields).toEqual({ model: 'derived.onnx', provider: 'cpu' });
      const data = new Float32Array(3 * 224 * 224).fill(0.25);
      const feeds = { input: { type: 'float32' as const, data, dims: [1, 3, 224, 224] } };
      expect((await fromBytes.run(feeds)).output).toEqual((await fromFile.run(feeds)).output);
    } finally {
      await Promise.all([fromBytes.close(), fromFile.close()]);
    }
    const empty = await openOnnxSession({
      path,
      bytes: new Uint8Array(0),
      providers: ['cpu'],
      log,
    }).catch((e) => e);
    expect(empty).toBeInstanceOf(InferenceError);
    expect(empty.message).toBe('derived.onnx: the model bytes are empty');
  });

  test('its threads sleep between runs instead of spinning', async () => {
    // With ORT's default, one of two threads spins through every gap after a run: ~100% of a
    // core while the process waits (measured: 412 ms of CPU over 406 ms of gaps; 6 without).
    const session = await openOnnxSession({
      path: modelPath(),
      providers: ['cpu'],
      log: capturingLogger(),
      intraOpThreads: 2,
    });
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    try {
      const data = new Float32Array(3 * 224 * 224);
      let idleCpu = 0;
      let idleWall = 0;
      for (let i = 0; i < 20; i++) {
        await session.run({ input: { type: 'float32', data, dims: [1, 3, 224, 224] } });
        const cpu0 = cpuMs();
        const wall0 = performance.now();
        await Bun.sleep(10);
        idleCpu += cpuMs() - cpu0;
        idleWall += performance.now() - wall0;
      }
      expect(idleCpu / idleWall).toBeLessThan(0.4);
    } finally {
      await session.close();
    }
  });

  test('rejects feeds that do not fit the graph, naming the input', async () => {
    const session = await openOnnxSession({
      path: modelPath(),
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      const data = new Float32Array(3 * 224 * 224);
      const run = (feeds: Parameters<typeof session.run>[0]) => session.run(feeds).catch((e) => e);
      expect(
        await run({ input: { type: 'float32', data, dims: [1, 3, 112, 448] } }),
      ).toHaveProperty(
        'message',
        'mobilenetv2-12-int8.onnx: input input has dims [1,3,112,448], the model wants [batch_size,3,224,224]',
      );
      expect(
        await run({ input: { type: 'float32', data, dims: [2, 3, 224, 224] } }),
      ).toHaveProperty(
        'message',
        `mobilenetv2-12-int8.onnx: input input has ${data.length} values, dims [2,3,224,224] need ${2 * data.length}`,
      );
    } finally {
      await session.close();
    }
  });

  test.skipIf(gpuBuild)(
    cpuBuildOnly('falls back past unavailable providers and logs the one it got'),
    async () => {
      const log = capturingLogger();
      const session = await openOnnxSession({
        path: modelPath(),
        providers: ['tensorrt', 'cuda', 'cpu'],
        log,
        model: 'mobilenet',
      });
      await session.close();
      expect(session.provider).toBe('cpu');
      const info = log.lines.filter((l) => l.level === 'info');
      expect(info).toHaveLength(1);
      expect(info[0]?.fields).toEqual({ model: 'mobilenet', provider: 'cpu' });
      const warned = log.lines.filter((l) => l.level === 'warn').map((l) => l.fields.provider);
      expect(warned).toEqual(['tensorrt', 'cuda']);
    },
  );

  test('never reaches providers listed after cpu', async () => {
    const log = capturingLogger();
    const session = await openOnnxSession({ path: modelPath(), providers: ['cpu', 'cuda'], log });
    await session.close();
    expect(session.provider).toBe('cpu');
    expect(log.lines.map((l) => [l.level, l.fields.provider])).toEqual([['info', 'cpu']]);
  });

  test.skipIf(gpuBuild)(
    cpuBuildOnly('fails with every attempt when no provider works'),
    async () => {
      const providers: ExecutionProvider[] = ['tensorrt', 'cuda'];
      const err = await openOnnxSession({
        path: modelPath(),
        providers,
        log: capturingLogger(),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(InferenceError);
      expect(err.message).toStartWith('no execution provider could open mobilenetv2-12-int8.onnx');
      expect(err.attempts.map((a: { provider: string }) => a.provider)).toEqual(providers);
      expect(err.message).toContain('tensorrt: ');
      expect(err.message).toContain('cuda: ');
    },
  );
});
