import type { inference } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { TensorSpec } from "../repository/model-version.js";
import {
  type ContentsField,
  datatypes,
  elementCount,
  type HostTensor,
  isDatatype,
  type TypedArray,
} from "./datatypes.js";

/**
 * Turns a ModelInferRequest's inputs into host tensors in the model's input
 * order, checking every name, datatype, shape and byte length against the
 * model's metadata. Every error names the tensor and what was expected.
 */
const contentsFields: ContentsField[] = [
  "boolContents",
  "intContents",
  "int64Contents",
  "uintContents",
  "uint64Contents",
  "fp32Contents",
  "fp64Contents",
];

/** Largest dimension accepted; beyond it the product could not be a real tensor in a gRPC message. */
const MAX_DIM = 2n ** 31n;

const intRanges: Partial<Record<string, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

export interface ModelSignature {
  model: string;
  inputs: TensorSpec[];
  /** >0: the first dimension is the batch and every input must agree on it. */
  maxBatchSize: number;
}

export function decodeInputs(request: inference.ModelInferRequest, sig: ModelSignature): HostTensor[] {
  const raw = request.rawInputContents;
  if (raw.length > 0 && raw.length !== request.inputs.length)
    throw new InvalidArgumentError(
      `raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs: give one entry per input, in input order`,
    );
  const byName = new Map<string, number>();
  for (const [i, input] of request.inputs.entries()) {
    if (byName.has(input.name))
      throw new InvalidArgumentError(`input ${JSON.stringify(input.name.slice(0, 100))} appears twice`);
    if (!sig.inputs.some((s) => s.name === input.name))
      throw new InvalidArgumentError(
        `unknown input ${JSON.stringify(input.name.slice(0, 100))}; model ${sig.model} expects ${describe(sig.inputs)}`,
      );
    byName.set(input.name, i);
  }
  let batch: number | undefined;
  return sig.inputs.map((spec) => {
    const index = byName.get(spec.name);
    if (index === undefined)
      throw new InvalidArgumentError(
        `missing input ${spec.name}; model ${sig.model} expects ${describe(sig.inputs)}`,
      );
    const input = request.inputs[index]!;
    const tensor = decodeOne(input, spec, raw[index], sig.maxBatchSize);
    if (sig.maxBatchSize > 0) {
      const rows = tensor.shape[0]!;
      if (batch !== undefined && rows !== batch)
        throw new InvalidArgumentError(
          `input ${spec.name}: batch size ${rows} differs from the other inputs' ${batch}`,
        );
      batch = rows;
    }
    return tensor;
  });
}

function decodeOne(
  input: inference.ModelInferRequest_InferInputTensor,
  spec: TensorSpec,
  raw: Buffer | undefined,
  maxBatchSize: number,
): HostTensor {
  const name = spec.name;
  if (input.datatype !== spec.datatype)
    throw new InvalidArgumentError(
      `input ${name}: datatype ${JSON.stringify(input.datatype.slice(0, 20))} does not match the model's ${spec.datatype}`,
    );
  const datatype = spec.datatype;
  if (!isDatatype(datatype))
    throw new InvalidArgumentError(`input ${name}: datatype ${datatype} is not supported`);
  const shape = checkShape(input.shape, spec);
  // Before a byte is copied: a request over the batch limit would be refused at the batcher anyway.
  if (maxBatchSize > 0 && (shape[0] ?? 0) > maxBatchSize)
    throw new InvalidArgumentError(
      `input ${name}: request has ${shape[0]} rows; the model's max_batch_size is ${maxBatchSize}`,
    );
  const count = elementCount(shape);
  const info = datatypes[datatype];
  const contents = input.contents;
  const used = contents === undefined ? [] : contentsFields.filter((f) => contents[f].length > 0);
  if (raw !== undefined) {
    if (used.length > 0 || (contents?.bytesContents.length ?? 0) > 0)
      throw new InvalidArgumentError(`input ${name}: has both contents and raw_input_contents; use one`);
    const expected = count * info.bytes;
    if (raw.length !== expected)
      throw new InvalidArgumentError(
        `input ${name}: raw_input_contents holds ${raw.length} bytes; shape ${shapeText(shape)} of ${datatype} needs ${expected}`,
      );
    const data = info.alloc(count);
    // Little-endian on the wire and on every platform onnxruntime-node ships for (x64, arm64): a byte copy suffices.
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(raw);
    return { datatype, shape, data };
  }
  if (!("field" in info))
    throw new InvalidArgumentError(`input ${name}: ${datatype} travels only in raw_input_contents`);
  const field = info.field;
  const wrong = used.filter((f) => f !== field);
  if (wrong.length > 0)
    throw new InvalidArgumentError(
      `input ${name}: ${datatype} values go in ${snake(field)}, not ${wrong.map(snake).join(", ")}`,
    );
  const values = contents?.[field] ?? [];
  if (values.length !== count)
    throw new InvalidArgumentError(
      `input ${name}: ${snake(field)} holds ${values.length} values; shape ${shapeText(shape)} needs ${count}`,
    );
  return { datatype, shape, data: fromValues(values, datatype, name) };
}

function checkShape(shape: readonly bigint[], spec: TensorSpec): number[] {
  const expected = `[${spec.shape.join(", ")}]`;
  if (shape.length !== spec.shape.length)
    throw new InvalidArgumentError(
      `input ${spec.name}: shape ${shapeText(shape)} has ${shape.length} dimensions; the model expects ${expected}`,
    );
  return shape.map((d, i) => {
    const want = spec.shape[i]!;
    if (d < 0n || d >= MAX_DIM || (want >= 0 && d !== BigInt(want)))
      throw new InvalidArgumentError(
        `input ${spec.name}: shape ${shapeText(shape)} does not match the model's ${expected} at dimension ${i}`,
      );
    return Number(d);
  });
}

function fromValues(
  values: readonly (number | bigint | boolean)[],
  datatype: keyof typeof datatypes,
  name: string,
): TypedArray {
  const data = datatypes[datatype].alloc(values.length);
  if (datatype === "BOOL") {
    for (let i = 0; i < values.length; i++) data[i] = values[i] ? 1 : 0;
    return data;
  }
  const range = intRanges[datatype];
  if (range !== undefined) {
    const [lo, hi] = range;
    const bad = values.findIndex((v) => (v as number) < lo || (v as number) > hi);
    if (bad >= 0)
      throw new InvalidArgumentError(
        `input ${name}: value ${String(values[bad])} at ${bad} is out of range for ${datatype}`,
      );
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    (data as BigInt64Array).set(values as bigint[]);
  else (data as Float64Array).set(values as number[]);
  return data;
}

/**
 * A request's shape for an error message: a client may send a million
 * dimensions, and quoting them all made multi-MB details that clients with
 * default limits could not even receive.
 */
const shapeText = (shape: readonly (bigint | number)[]): string =>
  shape.length <= 8 ? `[${shape.join(", ")}]` : `[${shape.slice(0, 8).join(", ")}, …] (rank ${shape.length})`;

/** The proto field name, as clients know it. */
const snake = (field: string): string => field.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

const describe = (specs: TensorSpec[]): string =>
  specs.map((s) => `${s.name} (${s.datatype} [${s.shape.join(", ")}])`).join(", ");
