import { onnx } from 'onnx-proto';

// The registry's face embedders declare their input as [1,3,112,112]: one face per run. Their
// layers do not need that. MobileFaceNet (../shared/models) is 51 Conv (batch norm folded in),
// 32 Clip (ReLU6), 2 Relu and 12 Add, every one of them computed per sample, then one Reshape
// to the constant [1,-1], which for a batch of N would make one row of N·128 values. Freeing
// the batch dimension and writing that 1 as 0 ("copy the input's dim") gives the same graph
// for one face and an [N,128] output for N.
//
// A 1 is rewritten only where the Reshape's data is known to hold the batch on axis 0, row by
// row: a tensor reached from the input through operators that keep it there (the lists below).
// Past any other operator nothing is rewritten, and whether the graph batches is left to the
// probe that openFaceEmbedder runs on the result.

/** The name given to the freed batch dimension. */
export const BATCH_DIM = 'batch';

/** A copy of a model with its batch dimension freed. */
export interface BatchCapableGraph {
  bytes: Uint8Array;
  /** The Reshape nodes whose constant shape had its leading 1 rewritten to 0. */
  reshapes: string[];
}

// Per sample, whatever their parameters: the output keeps the input's rank and batch.
// biome-ignore format: one list, not 26 lines
const PER_SAMPLE = new Set([
  'Abs', 'AveragePool', 'BatchNormalization', 'Cast', 'Clip', 'Conv', 'Dropout', 'Elu', 'Erf',
  'Exp', 'GlobalAveragePool', 'GlobalMaxPool', 'HardSigmoid', 'HardSwish', 'Identity',
  'InstanceNormalization', 'LeakyRelu', 'Log', 'MaxPool', 'Neg', 'Relu', 'Selu', 'Sigmoid',
  'Softplus', 'Sqrt', 'Tanh',
]);

// Elementwise with numpy broadcasting: per sample as long as no constant operand broadcasts
// along axis 0 (a constant of lower rank, or one whose leading dim is 1).
const ELEMENTWISE = new Set(['Add', 'Div', 'Max', 'Min', 'Mul', 'Pow', 'PRelu', 'Sub', 'Sum']);

/**
 * `model` with the first dim of `inputName` and of every output changed from 1 to
 * {@link BATCH_DIM}, and each constant Reshape shape `[1, …]` applied to a batch-major tensor
 * made `[0, …]`. For one sample the result computes exactly what `model` does; for N it is
 * correct when every path from the input goes through the operators this file lists, and
 * otherwise only maybe — callers must check it.
 * @returns null when the input is not there or its first dim is not a fixed 1.
 */
export function batchCapableGraph(model: Uint8Array, inputName: string): BatchCapableGraph | null {
  const proto = onnx.ModelProto.decode(model);
  const graph = proto.graph;
  const dims = graph?.input?.find((i) => i.name === inputName)?.type?.tensorType?.shape?.dim;
  if (!graph || !dims?.length || dimValue(dims[0]) !== 1) return null;
  dims[0] = { dimParam: BATCH_DIM };
  for (const output of graph.output ?? []) {
    const out = output.type?.tensorType?.shape?.dim;
    if (out?.length && dimValue(out[0]) === 1) out[0] = { dimParam: BATCH_DIM };
  }
  // Shapes recorded for intermediate tensors still say batch 1; ONNX Runtime infers them anew.
  graph.valueInfo = [];
  const reshapes = freeReshapes(graph, inputName, dims.length);
  return { bytes: onnx.ModelProto.encode(proto).finish(), reshapes };
}

function freeReshapes(graph: onnx.IGraphProto, inputName: string, inputRank: number): string[] {
  const constants = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) {
    if (t.name && t.name !== inputName) constants.set(t.name, t);
  }
  // Every name in use, so that a rewritten shape gets a new one.
  const names = new Set([
    ...[...(graph.input ?? []), ...(graph.initializer ?? [])].map((v) => v.name ?? ''),
    ...(graph.node ?? []).flatMap((n) => n.output ?? []),
  ]);
  // Tensors computed from the input, and among them those that hold it batch-major, by rank.
  const dependent = new Set([inputName]);
  const batched = new Map([[inputName, inputRank]]);
  const reshapes: string[] = [];

  // ONNX lists nodes in topological order (IR spec, "Graphs").
  for (const node of graph.node ?? []) {
    const inputs = node.input ?? [];
    const outputs = node.output ?? [];
    if (!inputs.some((name) => dependent.has(name))) {
      const value = node.opType === 'Constant' ? attribute(node, 'value')?.t : undefined;
      if (value && outputs[0]) constants.set(outputs[0], value);
      continue;
    }
    for (const name of outputs) dependent.add(name);
    const rank = batchedRank(node, { batched, dependent, constants });
    if (rank === null || !outputs[0]) continue;
    batched.set(outputs[0], rank);
    if (node.opType === 'Reshape' && leadingShapeValue(node, constants) === 1) {
      const shape = readInt64s(constants.get(inputs[1] as string) as onnx.ITensorProto);
      let name = `${inputs[1]}_${BATCH_DIM}`;
      while (names.has(name)) name += '_';
      names.add(name);
      const tensor = int64Tensor(name, [0, ...shape.slice(1)]);
      graph.initializer = [...(graph.initializer ?? []), tensor];
      constants.set(name, tensor);
      node.input = [inputs[0] as string, name];
      reshapes.push(node.name || outputs[0]);
    }
  }
  return reshapes;
}

interface Tracking {
  batched: ReadonlyMap<string, number>;
  dependent: ReadonlySet<string>;
  constants: ReadonlyMap<string, onnx.ITensorProto>;
}

// The rank of `node`'s first output when it holds the batch on axis 0 with each row computed
// from the same row of its batch-major inputs alone; null when that cannot be shown.
function batchedRank(node: onnx.INodeProto, t: Tracking): number | null {
  const [x = '', ...rest] = node.input ?? [];
  const rank = t.batched.get(x);
  const restFree = rest.every((name) => name === '' || !t.dependent.has(name));
  const op = node.opType ?? '';
  if (PER_SAMPLE.has(op)) {
    const training = op === 'BatchNormalization' && attributeInt(node, 'training_mode') === 1;
    return rank !== undefined && restFree && !training ? rank : null;
  }
  if (ELEMENTWISE.has(op)) return elementwiseRank(node.input ?? [], t);
  if (rank === undefined || !restFree) return null;
  switch (op) {
    case 'Reshape': {
      if (attributeInt(node, 'allowzero') === 1) return null;
      const lead = leadingShapeValue(node, t.constants);
      const shape = t.constants.get(rest[0] ?? '');
      return (lead === 0 || lead === 1) && shape ? readInt64s(shape).length : null;
    }
    case 'Flatten': {
      const axis = attributeInt(node, 'axis') ?? 1;
      return (axis < 0 ? axis + rank : axis) >= 1 ? 2 : null;
    }
    case 'Gemm': {
      const c = t.constants.get(rest[1] ?? '');
      const cFree = rest[1] === undefined || (c !== undefined && broadcastsPerRow(c, 2));
      return rank === 2 && attributeInt(node, 'transA') !== 1 && cFree ? 2 : null;
    }
    case 'MatMul': {
      const b = t.constants.get(rest[0] ?? '');
      return rank >= 2 && b?.dims?.length === 2 ? rank : null;
    }
    default:
      return null;
  }
}

function elementwiseRank(inputs: readonly string[], t: Tracking): number | null {
  const ranks = inputs.flatMap((name) => t.batched.get(name) ?? []);
  const rank = ranks[0];
  if (rank === undefined || ranks.some((r) => r !== rank)) return null;
  for (const name of inputs) {
    if (t.batched.has(name)) continue;
    const c = t.constants.get(name);
    if (!c || !broadcastsPerRow(c, rank)) return null;
  }
  return rank;
}

// Whether constant `c` broadcast against a batch-major tensor of rank `rank` leaves axis 0 alone.
function broadcastsPerRow(c: onnx.ITensorProto, rank: number): boolean {
  const dims = c.dims ?? [];
  return dims.length < rank || (dims.length === rank && dimValue({ dimValue: dims[0] }) === 1);
}

function leadingShapeValue(
  node: onnx.INodeProto,
  constants: ReadonlyMap<string, onnx.ITensorProto>,
): number | undefined {
  const shape = constants.get(node.input?.[1] ?? '');
  return shape ? readInt64s(shape)[0] : undefined;
}

function attribute(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function attributeInt(node: onnx.INodeProto, name: string): number | undefined {
  const a = attribute(node, name);
  return a ? toNumber(a.i) : undefined;
}

function dimValue(dim: onnx.TensorShapeProto.IDimension | undefined): number | undefined {
  return dim?.dimParam ? undefined : toNumber(dim?.dimValue);
}

// protobufjs decodes int64 fields as Long objects (or numbers where Long is absent).
function toNumber(v: number | Long | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'number' ? v : v.toNumber();
}

function readInt64s(t: onnx.ITensorProto): number[] {
  if (t.dataType !== onnx.TensorProto.DataType.INT64) return [];
  const raw = t.rawData;
  if (raw?.length) {
    // rawData may be a Buffer over a shared pool, at any offset: read it through a view.
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.byteLength / 8 }, (_, i) =>
      Number(view.getBigInt64(i * 8, true)),
    );
  }
  return (t.int64Data ?? []).map((v) => toNumber(v) as number);
}

function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  return {
    name,
    dataType: onnx.TensorProto.DataType.INT64,
    dims: [values.length],
    rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
  };
}
