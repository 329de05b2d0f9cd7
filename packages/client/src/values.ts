import type { commonV1 } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";

/** One named output tensor, as a model produced it. Numbers travel as doubles. */
export interface TensorValue {
  /** Open Inference Protocol datatype of the source tensor, e.g. "FP32". */
  datatype: string;
  shape: number[];
  data: number[];
}

/** A prediction's value, decoded: JSON, named tensors, or opaque bytes with their media type. */
export type DecodedValue =
  | { kind: "json"; json: unknown }
  | { kind: "tensors"; tensors: Record<string, TensorValue> }
  | { kind: "bytes"; bytes: Buffer; contentType: string };

/** A JSON value to store: what most backends put. */
export function jsonValue(value: unknown): commonV1.Value {
  const text = JSON.stringify(value);
  if (text === undefined) throw new InvalidArgumentError("value cannot be written as JSON");
  return { payload: Buffer.from(text), contentType: "application/json" };
}

/** Named tensors to store; each shape must hold exactly its data. */
export function tensorValue(tensors: Record<string, TensorValue>): commonV1.Value {
  return {
    tensors: {
      tensors: Object.entries(tensors).map(([name, t]) => {
        const size = t.shape.reduce((a, b) => a * b, 1);
        if (size !== t.data.length)
          throw new InvalidArgumentError(
            `tensor ${name}: shape holds ${size} values, data has ${t.data.length}`,
          );
        return { name, datatype: t.datatype, shape: t.shape.map(BigInt), data: t.data };
      }),
    },
    contentType: "",
  };
}

/** Opaque bytes with their media type. */
export function bytesValue(bytes: Buffer, contentType: string): commonV1.Value {
  return { payload: bytes, contentType };
}

const isJson = (contentType: string): boolean => /^application\/([\w.+-]+\+)?json\b/i.test(contentType);

export function decodeValue(value: commonV1.Value | undefined): DecodedValue | undefined {
  if (value === undefined) return undefined;
  if (value.tensors !== undefined) {
    const tensors: Record<string, TensorValue> = {};
    for (const t of value.tensors.tensors)
      tensors[t.name] = { datatype: t.datatype, shape: t.shape.map(Number), data: [...t.data] };
    return { kind: "tensors", tensors };
  }
  const bytes = value.payload ?? Buffer.alloc(0);
  if (isJson(value.contentType)) {
    try {
      return { kind: "json", json: JSON.parse(bytes.toString("utf8")) };
    } catch {
      // A payload labelled JSON that is not: hand back the bytes rather than fail the lookup.
    }
  }
  return { kind: "bytes", bytes, contentType: value.contentType };
}

/** Accepts a ready Value or anything JSON can hold (stored as JSON). */
export function toValue(value: commonV1.Value | unknown): commonV1.Value {
  return isValue(value) ? value : jsonValue(value);
}

function isValue(v: unknown): v is commonV1.Value {
  if (v === null || typeof v !== "object") return false;
  const o = v as Partial<commonV1.Value>;
  return typeof o.contentType === "string" && (o.payload instanceof Uint8Array || o.tensors !== undefined);
}
