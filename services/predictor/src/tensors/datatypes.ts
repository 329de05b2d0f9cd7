import type { Tensor as OrtTensor } from "onnxruntime-node";

/**
 * The OIP datatypes the predictor serves and how each maps to ONNX Runtime's
 * tensor types, typed arrays, element sizes on the wire, and the
 * InferTensorContents field that carries it.
 */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export type ContentsField =
  | "boolContents"
  | "intContents"
  | "int64Contents"
  | "uintContents"
  | "uint64Contents"
  | "fp32Contents"
  | "fp64Contents";

interface DatatypeInfo {
  ort: OrtTensor.Type;
  bytes: number;
  /** Absent: the type travels only as raw bytes (FP16). */
  field?: ContentsField;
  alloc: (n: number) => TypedArray;
}

export const datatypes = {
  BOOL: { ort: "bool", bytes: 1, field: "boolContents", alloc: (n) => new Uint8Array(n) },
  UINT8: { ort: "uint8", bytes: 1, field: "uintContents", alloc: (n) => new Uint8Array(n) },
  UINT16: { ort: "uint16", bytes: 2, field: "uintContents", alloc: (n) => new Uint16Array(n) },
  UINT32: { ort: "uint32", bytes: 4, field: "uintContents", alloc: (n) => new Uint32Array(n) },
  UINT64: { ort: "uint64", bytes: 8, field: "uint64Contents", alloc: (n) => new BigUint64Array(n) },
  INT8: { ort: "int8", bytes: 1, field: "intContents", alloc: (n) => new Int8Array(n) },
  INT16: { ort: "int16", bytes: 2, field: "intContents", alloc: (n) => new Int16Array(n) },
  INT32: { ort: "int32", bytes: 4, field: "intContents", alloc: (n) => new Int32Array(n) },
  INT64: { ort: "int64", bytes: 8, field: "int64Contents", alloc: (n) => new BigInt64Array(n) },
  FP16: { ort: "float16", bytes: 2, alloc: (n) => new Uint16Array(n) },
  FP32: { ort: "float32", bytes: 4, field: "fp32Contents", alloc: (n) => new Float32Array(n) },
  FP64: { ort: "float64", bytes: 8, field: "fp64Contents", alloc: (n) => new Float64Array(n) },
} as const satisfies Record<string, DatatypeInfo>;

export type Datatype = keyof typeof datatypes;

export const isDatatype = (s: string): s is Datatype => Object.hasOwn(datatypes, s);

const byOrtType = new Map<string, Datatype>(
  Object.entries(datatypes).map(([name, info]) => [info.ort, name as Datatype]),
);

/** The OIP datatype of an ONNX Runtime tensor type, or undefined if the predictor cannot serve it (e.g. string). */
export function datatypeOfOrt(type: string): Datatype | undefined {
  return byOrtType.get(type);
}

/** A tensor on its way into or out of a session: OIP datatype, concrete shape and data. */
export interface HostTensor {
  datatype: Datatype;
  shape: number[];
  data: TypedArray;
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
