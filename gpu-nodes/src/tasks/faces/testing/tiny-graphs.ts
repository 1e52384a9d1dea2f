import { onnx } from 'onnx-proto';
import {
  type Dim,
  floats,
  seededFloats,
  valueInfo,
} from '../../../inference/onnx-graph-testing.ts';

// Small ONNX graphs for the batching tests: the rewrite's rules on shapes we choose, and face
// embedders that stand in for ones we cannot inspect (SFace), including one that mixes the rows
// of a batch. Weights are fixed pseudo-random numbers, so outputs differ between inputs and are
// the same on every machine.

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

type AttributeValue = number | number[] | onnx.ITensorProto;

/** A node; numbers become INT attributes, arrays INTS, tensors TENSOR. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attributes: Record<string, AttributeValue> = {},
): onnx.INodeProto {
  const attribute = Object.entries(attributes).map(([name, v]): onnx.IAttributeProto => {
    if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
    if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
    return { name, type: AttributeType.TENSOR, t: v };
  });
  return { opType, input, output, attribute, name: `${opType}_${output[0]}` };
}

/** A float32 tensor of `dims` holding pseudo-random values in ±`scale` drawn from `seed`. */
export function randomFloats(name: string, dims: number[], seed: number, scale = 1) {
  const count = dims.reduce((a, b) => a * b, 1);
  return floats(name, dims, seededFloats(seed, count, scale));
}

export function int64s(name: string, values: number[]): onnx.ITensorProto {
  const data = BigInt64Array.from(values, BigInt);
  return {
    name,
    dataType: DataType.INT64,
    dims: [values.length],
    rawData: new Uint8Array(data.buffer),
  };
}

/** A float32 graph from `input` to `output` (opset 13), encoded. */
export function graphBytes(spec: {
  nodes: onnx.INodeProto[];
  initializers?: onnx.ITensorProto[];
  input: [string, Dim[]];
  output: [string, Dim[]];
}): Uint8Array {
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'aex tiny-graphs (test fixture)',
    graph: {
      name: 'tiny',
      node: spec.nodes,
      initializer: spec.initializers ?? [],
      input: [valueInfo(spec.input[0], DataType.FLOAT, spec.input[1])],
      output: [valueInfo(spec.output[0], DataType.FLOAT, spec.output[1])],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** The decoded graph of `bytes`, to look at what a rewrite did. */
export function decodeGraph(bytes: Uint8Array): onnx.IGraphProto {
  return onnx.ModelProto.decode(bytes).graph ?? {};
}

/** The first dims of a graph's input or output, numbers or symbolic names. */
export function dimsOf(value: onnx.IValueInfoProto | undefined): Dim[] {
  return (value?.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : Number(d.dimValue?.toString()),
  );
}

/**
 * A stand-in face embedder taking `inputName` float32 [1,3,112,112] of 0–255 (SFace's input)
 * and answering 16 floats: a 16×16 strided convolution, ReLU, global average pooling, then
 * `tail`. `mixBatch` adds the batch's
 * mean row to every row: right for one face, wrong for several, as a graph can be when its
 * batch dimension was fixed for a reason.
 */
export function tinyEmbedder(options: {
  inputName: string;
  tail: 'flatten' | 'reshape';
  mixBatch?: boolean;
}): Uint8Array {
  const nodes = [
    // Centred, so that its 16 filters see the pattern of each patch rather than its brightness.
    node('Sub', [options.inputName, 'grey'], ['centred']),
    node('Conv', ['centred', 'w', 'b'], ['conv'], { kernel_shape: [16, 16], strides: [16, 16] }),
    node('Relu', ['conv'], ['act']),
    node('GlobalAveragePool', ['act'], ['pooled']),
    options.tail === 'flatten'
      ? node('Flatten', ['pooled'], ['features'], { axis: 1 })
      : node('Reshape', ['pooled', 'shape'], ['features']),
  ];
  if (options.mixBatch) {
    nodes.push(node('ReduceMean', ['features'], ['mean'], { axes: [0], keepdims: 1 }));
    nodes.push(node('Add', ['features', 'mean'], ['embedding']));
  } else {
    nodes.push(node('Identity', ['features'], ['embedding']));
  }
  return graphBytes({
    nodes,
    initializers: [
      floats('grey', [], [127.5]),
      randomFloats('w', [16, 3, 16, 16], 1, 1 / 16),
      randomFloats('b', [16], 2, 0.1),
      int64s('shape', [1, -1]),
    ],
    input: [options.inputName, [1, 3, 112, 112]],
    output: ['embedding', [1, 16]],
  });
}
