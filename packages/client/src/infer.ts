import type { inference } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { TensorValue } from "./values.js";

/** An input tensor: its OIP datatype, shape and values in row-major order. */
export interface TensorInput {
  datatype: "FP32" | "FP64" | "INT32" | "INT64";
  shape: number[];
  data: number[];
}

export interface InferResult {
  model: string;
  version: string;
  id: string;
  outputs: Record<string, TensorValue>;
}

/** Most values one request may carry; the predictor bounds its own batches too. */
const maxValues = 4_000_000;

export function inferRequest(
  model: string,
  inputs: Record<string, TensorInput>,
  options: { version?: string; outputs?: string[]; id?: string },
): inference.ModelInferRequest {
  if (model === "") throw new InvalidArgumentError("model is empty");
  let total = 0;
  const tensors = Object.entries(inputs).map(([name, t]) => {
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new InvalidArgumentError(`input ${name}: shape must be non-negative integers`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length)
      throw new InvalidArgumentError(`input ${name}: shape holds ${size} values, data has ${t.data.length}`);
    total += size;
    if (total > maxValues) throw new InvalidArgumentError(`inputs hold more than ${maxValues} values`);
    return {
      name,
      datatype: t.datatype,
      shape: t.shape.map(BigInt),
      parameters: {},
      contents: contentsOf(t),
    };
  });
  return {
    modelName: model,
    modelVersion: options.version ?? "",
    id: options.id ?? "",
    parameters: {},
    inputs: tensors,
    outputs: (options.outputs ?? []).map((name) => ({ name, parameters: {} })),
    rawInputContents: [],
  };
}

function contentsOf(t: TensorInput): inference.InferTensorContents {
  const c: inference.InferTensorContents = {
    boolContents: [],
    intContents: [],
    int64Contents: [],
    uintContents: [],
    uint64Contents: [],
    fp32Contents: [],
    fp64Contents: [],
    bytesContents: [],
  };
  if (t.datatype === "FP32") c.fp32Contents = t.data;
  else if (t.datatype === "FP64") c.fp64Contents = t.data;
  else if (t.datatype === "INT32") c.intContents = t.data;
  else c.int64Contents = t.data.map((v) => BigInt(Math.trunc(v)));
  return c;
}

/** Outputs come typed or raw (little-endian, as OIP specifies); both decode to numbers. */
export function inferResult(r: inference.ModelInferResponse): InferResult {
  const outputs: Record<string, TensorValue> = {};
  r.outputs.forEach((o, i) => {
    const raw = r.rawOutputContents[i];
    outputs[o.name] = {
      datatype: o.datatype,
      shape: o.shape.map(Number),
      data: raw !== undefined ? decodeRaw(o.datatype, raw) : typedData(o.contents),
    };
  });
  return { model: r.modelName, version: r.modelVersion, id: r.id, outputs };
}

function typedData(c: inference.InferTensorContents | undefined): number[] {
  if (c === undefined) return [];
  for (const list of [c.fp32Contents, c.fp64Contents, c.intContents, c.uintContents])
    if (list.length > 0) return [...list];
  if (c.int64Contents.length > 0) return c.int64Contents.map(Number);
  if (c.uint64Contents.length > 0) return c.uint64Contents.map(Number);
  return c.boolContents.map((b) => (b ? 1 : 0));
}

function decodeRaw(datatype: string, raw: Buffer): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read: Record<string, [number, (o: number) => number]> = {
    FP32: [4, (o) => view.getFloat32(o, true)],
    FP64: [8, (o) => view.getFloat64(o, true)],
    INT32: [4, (o) => view.getInt32(o, true)],
    INT64: [8, (o) => Number(view.getBigInt64(o, true))],
    UINT8: [1, (o) => view.getUint8(o)],
    BOOL: [1, (o) => view.getUint8(o)],
  };
  const r = read[datatype];
  if (r === undefined) throw new InvalidArgumentError(`cannot decode raw ${datatype} output`);
  const [width, at] = r;
  return Array.from({ length: Math.floor(raw.byteLength / width) }, (_, i) => at(i * width));
}
