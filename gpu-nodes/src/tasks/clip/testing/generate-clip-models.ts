import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import {
  type Dim,
  floats,
  seededFloats,
  valueInfo,
} from '../../../inference/onnx-graph-testing.ts';
import { sha256File, writeModelPins } from '../../../models/model-files.ts';
import { getModelEntry } from '../../../models/registry.ts';
import { CLIP_VISUAL_MODEL_ID } from '../image-task.ts';
import { CLIP_TEXTUAL_MODEL_ID } from '../text-encoder.ts';

// No CLIP weights are available offline (../shared/models/SOURCES.md), so tests run the whole
// CLIP path on small graphs with the real encoders' interface: the visual one takes 'image'
// float32 [N,3,224,224] (or Immich's newer uint8 [N,224,224,3]), the textual one 'text' int32
// [N,77], and both answer 512 floats per item under Immich's output name. The weights are fixed
// pseudo-random numbers, so the embeddings mean nothing but are deterministic, differ between
// inputs, and depend on every pixel region and every token position.

const DIM = 512;
const SIZE = 224;
const CONTEXT = 77;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Shapes of the generated graphs, to exercise each export the tasks must accept. */
export interface GenerateClipModelsOptions {
  /** Where to write `<id>/` folders; default a new temporary directory. */
  dir?: string;
  /** The visual input: the registry's float graph (default) or Immich's uint8 NHWC one. */
  imageInput?: 'float32-nchw' | 'uint8-nhwc';
  /** A batch size fixed in the graphs, as Immich's older exports fix 1; default free. */
  fixedBatch?: number;
  /** `[N,512]` (default) or `[N,1,512]`. */
  outputRank?: 2 | 3;
  /** Default `embedding`, Immich's exporter's name. */
  outputName?: string;
}

/** A model directory holding the generated CLIP encoders, laid out as the registry expects. */
export interface GeneratedClipModels {
  modelDir: string;
  /** Deletes the directory. */
  remove(): Promise<void>;
}

/**
 * The folder with the OpenAI CLIP tokenizer files (`<AEX_MODEL_DIR>/clip-tokenizer`, else
 * `../shared/models/clip-tokenizer` beside the repository), or null when neither exists.
 */
export function clipTokenizerDir(): string | null {
  const candidates = [
    process.env.AEX_MODEL_DIR && join(process.env.AEX_MODEL_DIR, 'clip-tokenizer'),
    resolve(import.meta.dir, '../../../../../../shared/models/clip-tokenizer'),
  ];
  return candidates.find((dir) => dir && existsSync(join(dir, 'tokenizer.json'))) || null;
}

/**
 * Writes the visual and textual test encoders and the real CLIP tokenizer.json into
 * `<dir>/clip-vit-b32-openai-visual/model.onnx` and `<dir>/clip-vit-b32-openai-textual/`,
 * with each folder's models.lock.json pinning the generated files' sha256, as a first
 * `aex models pull` would: loading them runs the real verification path.
 * @throws Error if the CLIP tokenizer files are not on this machine.
 */
export async function generateClipModels(
  options: GenerateClipModelsOptions = {},
): Promise<GeneratedClipModels> {
  const tokenizerDir = clipTokenizerDir();
  if (!tokenizerDir) throw new Error('the CLIP tokenizer files (clip-tokenizer/) are not here');
  const modelDir = options.dir ?? (await mkdtemp(join(tmpdir(), 'aex-clip-models-')));
  const batch = options.fixedBatch ?? 'batch';
  const graphs = [
    { id: CLIP_VISUAL_MODEL_ID, bytes: visualModel(options, batch) },
    { id: CLIP_TEXTUAL_MODEL_ID, bytes: textualModel(options, batch) },
  ];
  for (const { id, bytes } of graphs) {
    const dir = join(modelDir, id);
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'model.onnx');
    await writeFile(path, bytes);
    const pin = { sha256: await sha256File(path), bytes: bytes.length, pinnedAt: 'generated' };
    await writeModelPins(getModelEntry(id), modelDir, { 'model.onnx': pin });
  }
  await copyFile(
    join(tokenizerDir, 'tokenizer.json'),
    join(modelDir, CLIP_TEXTUAL_MODEL_ID, 'tokenizer.json'),
  );
  return { modelDir, remove: () => rm(modelDir, { recursive: true, force: true }) };
}

function visualModel(options: GenerateClipModelsOptions, batch: Dim): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  let x = 'image';
  const uint8 = options.imageInput === 'uint8-nhwc';
  if (uint8) {
    // What Immich's uint8 graph does first: to float, NHWC → NCHW, 0–255 → about ±1.
    nodes.push(node('Cast', ['image'], ['pixels'], [int('to', DataType.FLOAT)]));
    nodes.push(node('Transpose', ['pixels'], ['planar'], [ints('perm', [0, 3, 1, 2])]));
    nodes.push(node('Sub', ['planar', 'half'], ['centred']));
    nodes.push(node('Div', ['centred', 'half'], ['scaled']));
    x = 'scaled';
  }
  // 32×32 average pooling keeps a 7×7 grid per channel: every region of the crop counts.
  nodes.push(
    node('AveragePool', [x], ['grid'], [ints('kernel_shape', [32, 32]), ints('strides', [32, 32])]),
  );
  nodes.push(node('Flatten', ['grid'], ['features'], [int('axis', 1)]));
  const inputs = 3 * 7 * 7;
  const initializers = [
    floats('w', [inputs, DIM], seededFloats(1, inputs * DIM, 1 / Math.sqrt(inputs))),
    floats('b', [DIM], seededFloats(2, DIM, 0.1)),
    ...(uint8 ? [floats('half', [], [127.5])] : []),
  ];
  const image = uint8
    ? valueInfo('image', DataType.UINT8, [batch, SIZE, SIZE, 3])
    : valueInfo('image', DataType.FLOAT, [batch, 3, SIZE, SIZE]);
  return model('clip-visual-test', image, 'features', nodes, initializers, options, batch);
}

function textualModel(options: GenerateClipModelsOptions, batch: Dim): Uint8Array {
  // sin(id / 100) per position: neighbouring ids give different features, and padding (0)
  // adds nothing, as in the real encoder.
  const nodes = [
    node('Cast', ['text'], ['ids'], [int('to', DataType.FLOAT)]),
    node('Mul', ['ids', 'scale'], ['angles']),
    node('Sin', ['angles'], ['features']),
  ];
  const initializers = [
    floats('scale', [], [0.01]),
    floats('w', [CONTEXT, DIM], seededFloats(3, CONTEXT * DIM, 2 / Math.sqrt(CONTEXT))),
    floats('b', [DIM], seededFloats(4, DIM, 0.1)),
  ];
  const text = valueInfo('text', DataType.INT32, [batch, CONTEXT]);
  return model('clip-textual-test', text, 'features', nodes, initializers, options, batch);
}

// The common head: features → MatMul → + bias → tanh → [N,512] (or [N,1,512]).
function model(
  name: string,
  input: onnx.IValueInfoProto,
  features: string,
  nodes: onnx.INodeProto[],
  initializer: onnx.ITensorProto[],
  options: GenerateClipModelsOptions,
  batch: Dim,
): Uint8Array {
  const output = options.outputName ?? 'embedding';
  const rank3 = options.outputRank === 3;
  nodes.push(node('MatMul', [features, 'w'], ['projected']));
  nodes.push(node('Add', ['projected', 'b'], ['biased']));
  nodes.push(node('Tanh', ['biased'], [rank3 ? 'flat' : output]));
  if (rank3) {
    nodes.push(node('Reshape', ['flat', 'shape3'], [output]));
    initializer.push({
      name: 'shape3',
      dataType: DataType.INT64,
      dims: [3],
      rawData: new Uint8Array(BigInt64Array.from([0n, 1n, BigInt(DIM)]).buffer),
    });
  }
  const outDims: Dim[] = rank3 ? [batch, 1, DIM] : [batch, DIM];
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'aex generate-clip-models (test fixture)',
    graph: {
      name,
      node: nodes,
      initializer,
      input: [input],
      output: [valueInfo(output, DataType.FLOAT, outDims)],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { opType, input, output, attribute, name: `${opType}_${output[0]}` };
}

function int(name: string, i: number): onnx.IAttributeProto {
  return { name, type: AttributeType.INT, i };
}

function ints(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: AttributeType.INTS, ints: values };
}
