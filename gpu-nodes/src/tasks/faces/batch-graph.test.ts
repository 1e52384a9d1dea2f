import { describe, expect, test } from 'bun:test';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import type { onnx } from 'onnx-proto';
import { floats } from '../../inference/onnx-graph-testing.ts';
import { openOnnxSession } from '../../inference/onnx-session.ts';
import { fileWithRole } from '../../models/model-files.ts';
import { modelSuiteName, mustSkip, testModel } from '../../models/testing.ts';
import { BATCH_DIM, batchCapableGraph } from './batch-graph.ts';
import {
  decodeGraph,
  dimsOf,
  graphBytes,
  int64s,
  node,
  randomFloats,
  tinyEmbedder,
} from './testing/tiny-graphs.ts';

/** The int64 values a node's shape input holds in `bytes`. */
function shapeOf(bytes: Uint8Array, nodeName: string): number[] {
  const graph = decodeGraph(bytes);
  const shapeName = graph.node?.find((n) => n.name === nodeName)?.input?.[1];
  const t = graph.initializer?.find((i) => i.name === shapeName);
  if (!t?.rawData) throw new Error(`${nodeName} has no initializer shape`);
  return Array.from(new BigInt64Array(new Uint8Array(t.rawData).buffer), Number);
}

// Conv → GlobalAveragePool (`m0`) → `middle` → Reshape to [1,-1]: whether the Reshape gets
// rewritten depends only on `middle`, which ends in `m<its length>`.
function convThen(middle: onnx.INodeProto[], constants: onnx.ITensorProto[]): Uint8Array {
  return graphBytes({
    nodes: [
      node('Conv', ['x', 'w'], ['conv'], { kernel_shape: [16, 16], strides: [16, 16] }),
      node('GlobalAveragePool', ['conv'], ['m0']),
      ...middle,
      node('Reshape', [`m${middle.length}`, 'shape'], ['y']),
    ],
    initializers: [randomFloats('w', [4, 3, 16, 16], 1), int64s('shape', [1, -1]), ...constants],
    input: ['x', [1, 3, 112, 112]],
    output: ['y', [1, 4]],
  });
}

describe('batchCapableGraph', () => {
  test('frees the batch of a stand-in embedder, and the result batches', async () => {
    const derived = batchCapableGraph(tinyEmbedder({ inputName: 'data', tail: 'reshape' }), 'data');
    if (!derived) throw new Error('expected a batch-capable graph');
    expect(derived.reshapes).toEqual(['Reshape_features']);
    expect(shapeOf(derived.bytes, 'Reshape_features')).toEqual([0, -1]);
    const graph = decodeGraph(derived.bytes);
    expect(dimsOf(graph.input?.[0])).toEqual([BATCH_DIM, 3, 112, 112]);
    expect(dimsOf(graph.output?.[0])).toEqual([BATCH_DIM, 16]);

    const session = await openOnnxSession({
      path: 'tiny.onnx',
      bytes: derived.bytes,
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      // Three images of 0–255 stripes, each of its own frequency.
      const size = 3 * 112 * 112;
      const data = Float32Array.from(
        { length: 3 * size },
        (_, i) => 128 + 100 * Math.sin((i % size) / (20 + 30 * Math.floor(i / size))),
      );
      const run = async (from: number, n: number) => {
        const slice = data.slice(from * size, (from + n) * size);
        const out = await session.run({
          data: { type: 'float32', data: slice, dims: [n, 3, 112, 112] },
        });
        expect(out.embedding?.dims).toEqual([n, 16]);
        return Array.from(out.embedding?.data as Float32Array);
      };
      const batch = await run(0, 3);
      for (let i = 0; i < 3; i++) {
        const alone = await run(i, 1);
        const row = batch.slice(i * 16, i * 16 + 16);
        // Measured: identical. The rows' values reach 77 and each lies 20–41 from the rows'
        // mean in one value, so a row mixed with the others would be far off.
        const diff = Math.max(...alone.map((v, j) => Math.abs(v - (row[j] as number))));
        expect(diff).toBeLessThan(1e-3);
      }
    } finally {
      await session.close();
    }
  });

  const add = (c: ReturnType<typeof floats>) => ({
    middle: [node('Add', ['m0', 'c'], ['m1'])],
    constants: [c],
  });
  test.each([
    [
      'rewritten after adding a per-channel constant',
      true,
      add(floats('c', [1, 4, 1, 1], [1, 2, 3, 4])),
    ],
    [
      'rewritten after adding a constant of lower rank',
      true,
      add(floats('c', [4, 1, 1], [1, 2, 3, 4])),
    ],
    [
      'left after adding a constant broadcast along axis 0',
      false,
      add(floats('c', [2, 4, 1, 1], Array(8).fill(1))),
    ],
    [
      'left after Flatten from axis 0',
      false,
      { middle: [node('Flatten', ['m0'], ['m1'], { axis: 0 })], constants: [] },
    ],
    [
      'left after an operator not listed',
      false,
      { middle: [node('ReduceMean', ['m0'], ['m1'], { axes: [1] })], constants: [] },
    ],
    [
      'left after adding a tensor computed from the batch',
      false,
      {
        middle: [
          node('Shape', ['m0'], ['s']),
          node('Cast', ['s'], ['f'], { to: 1 }),
          node('Add', ['m0', 'f'], ['m1']),
        ],
        constants: [],
      },
    ],
  ])('a later Reshape to [1,-1] is %s', (_, rewritten, { middle, constants }) => {
    const derived = batchCapableGraph(convThen(middle, constants), 'x');
    expect(derived?.reshapes).toEqual(rewritten ? ['Reshape_y'] : []);
    expect(shapeOf(derived?.bytes as Uint8Array, 'Reshape_y')).toEqual(
      rewritten ? [0, -1] : [1, -1],
    );
    // The batch is freed either way; whether the graph batches is then for a probe to show.
    expect(dimsOf(decodeGraph(derived?.bytes as Uint8Array).input?.[0])[0]).toBe(BATCH_DIM);
  });

  test('a constant reshaped on its own keeps its 1, even sharing the shape with the batch', () => {
    const shape = node('Constant', [], ['shape'], { value: int64s('shape_value', [1, -1]) });
    const bytes = graphBytes({
      nodes: [
        shape,
        node('Reshape', ['w', 'shape'], ['w_flat']),
        node('Conv', ['x', 'w'], ['conv'], { kernel_shape: [16, 16], strides: [16, 16] }),
        node('GlobalAveragePool', ['conv'], ['pooled']),
        node('Reshape', ['pooled', 'shape'], ['y']),
      ],
      initializers: [randomFloats('w', [4, 3, 16, 16], 1)],
      input: ['x', [1, 3, 112, 112]],
      output: ['y', [1, 4]],
    });
    const derived = batchCapableGraph(bytes, 'x');
    expect(derived?.reshapes).toEqual(['Reshape_y']);
    const graph = decodeGraph(derived?.bytes as Uint8Array);
    expect(graph.node?.find((n) => n.name === 'Reshape_w_flat')?.input).toEqual(['w', 'shape']);
    expect(shapeOf(derived?.bytes as Uint8Array, 'Reshape_y')).toEqual([0, -1]);
  });

  test.each([
    ['another input name', 'input', [1, 3, 112, 112]],
    ['a batch already free', 'x', ['N', 3, 112, 112]],
    ['a batch fixed at 4', 'x', [4, 3, 112, 112]],
  ])('gives null for %s', (_, inputName, dims) => {
    const bytes = graphBytes({
      nodes: [node('Relu', ['x'], ['y'])],
      input: ['x', dims],
      output: ['y', dims],
    });
    expect(batchCapableGraph(bytes, inputName)).toBeNull();
  });
});

const mobilefacenet = await testModel('face-embed-mobilefacenet');

describe.skipIf(mustSkip(mobilefacenet))(
  modelSuiteName('batchCapableGraph on MobileFaceNet', mobilefacenet),
  () => {
    test('rewrites its one Reshape and changes nothing else', async () => {
      if (!mobilefacenet.available) throw new Error('unreachable: suite is skipped');
      const path = fileWithRole(mobilefacenet.files, 'model').path;
      const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
      const derived = batchCapableGraph(bytes, 'input');
      expect(derived?.reshapes).toEqual(['Reshape_161']);
      expect(shapeOf(derived?.bytes as Uint8Array, 'Reshape_161')).toEqual([0, -1]);
      const [before, after] = [decodeGraph(bytes), decodeGraph(derived?.bytes as Uint8Array)];
      expect(dimsOf(after.input?.[0])).toEqual([BATCH_DIM, 3, 112, 112]);
      expect(dimsOf(after.output?.[0])).toEqual([BATCH_DIM, 128]);
      const ops = (g: typeof before) => g.node?.map((n) => `${n.opType}:${n.input?.join(',')}`);
      expect(ops(after)).toEqual(
        ops(before)?.map((op) => (op === 'Reshape:625,630' ? 'Reshape:625,630_batch' : op)),
      );
    });
  },
);
