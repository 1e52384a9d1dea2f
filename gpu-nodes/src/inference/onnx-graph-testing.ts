import { onnx } from 'onnx-proto';

// Pieces of the small ONNX graphs tests write (the CLIP-shaped models, the stand-in face
// embedders): the protobuf shapes onnx-proto wants, and reproducible weights.

const { DataType } = onnx.TensorProto;

/** A dimension: a size, or a symbolic name (`batch`) the runtime fills in. */
export type Dim = number | string;

/** A graph input or output of `elemType` (an `onnx.TensorProto.DataType`) and `dims`. */
export function valueInfo(name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/** A float32 initializer of `dims` holding `values`. */
export function floats(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  const data = Float32Array.from(values);
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer) };
}

/**
 * `count` pseudo-random values in ±`scale` (mulberry32): a fixed seed gives the same weights on
 * every machine, so a generated model's outputs are reproducible across runs.
 */
export function seededFloats(seed: number, count: number, scale: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
