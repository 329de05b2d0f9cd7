import { type DecodedValue, decodeValue, type TensorValue } from "./values.js";
import { WireReader, wire } from "./wire-reader.js";

/**
 * The answer of a values-only LookupMany, decoded from the wire straight
 * into the values a caller ranks with. The generated decoder builds a Value,
 * its Tensors, each Tensor and a BigInt per shape dimension, which
 * decodeValue then copies into a DecodedValue: for an ad server that reads
 * 200 one-number predictions a request, that is most of the client's cost
 * (issue 16's bench: 0.61x of the MGET service through lookupValues, 0.92x
 * keeping the bytes). This reads each Value once, into its DecodedValue,
 * and agrees with decodeValue(LookupManyResponse.decode(bytes)) on every
 * input (values-decoder.test.ts checks it against the generated decoder).
 */
export interface LookupValuesAnswer {
  /** One per value the cache answered; undefined where it had none (a miss). */
  values: (DecodedValue | undefined)[];
  /** Full results the cache answered (a cache that ignored values_only). */
  results: number;
}

export function decodeLookupValues(bytes: Uint8Array): LookupValuesAnswer {
  const r = new WireReader(bytes);
  const values: (DecodedValue | undefined)[] = [];
  let results = 0;
  while (!r.done()) {
    const tag = r.varint32();
    const field = tag >>> 3;
    if (field === 2 && (tag & 7) === wire.len) values.push(readValue(r, r.length()));
    else {
      if (field === 1) results++;
      r.skip(tag & 7);
    }
  }
  return { values, results };
}

/** A Value's fields as read from the wire: tensors or payload (a miss sets neither) and content_type. */
export interface ValueParts {
  tensors: Record<string, TensorValue> | undefined;
  payload: Buffer | undefined;
  contentType: string;
}

/** Value: oneof tensors (1) or payload (2), content_type (3). */
export function readValueParts(r: WireReader, end: number): ValueParts {
  let tensors: Record<string, TensorValue> | undefined;
  let payload: Buffer | undefined;
  let contentType = "";
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 && type === wire.len) tensors = readTensors(r, r.length());
    else if (field === 2 && type === wire.len) payload = r.bytes(r.length());
    else if (field === 3 && type === wire.len) contentType = r.string(r.length(), 2);
    else r.skip(type);
  }
  r.expectAt(end);
  return { tensors, payload, contentType };
}

/** A Value read from the wire, as decodeValue answers for the generated Value with the same fields. */
export function decodeValueParts({ tensors, payload, contentType }: ValueParts): DecodedValue | undefined {
  if (tensors !== undefined) return { kind: "tensors", tensors };
  return decodeValue(payload === undefined ? { contentType } : { payload, contentType });
}

/** A values-only answer's Value: undefined for a miss (neither tensors nor payload). */
function readValue(r: WireReader, end: number): DecodedValue | undefined {
  const parts = readValueParts(r, end);
  return parts.tensors === undefined && parts.payload === undefined ? undefined : decodeValueParts(parts);
}

/** Tensors: repeated Tensor (1). */
function readTensors(r: WireReader, end: number): Record<string, TensorValue> {
  const out: Record<string, TensorValue> = {};
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag >>> 3 === 1 && (tag & 7) === wire.len) {
      const [name, tensor] = readTensor(r, r.length());
      out[name] = tensor;
    } else r.skip(tag & 7);
  }
  r.expectAt(end);
  return out;
}

/** Tensor: name (1), datatype (2), shape (3, int64, packed or not), data (4, double, packed or not). */
function readTensor(r: WireReader, end: number): [string, TensorValue] {
  let name = "";
  const t: TensorValue = { datatype: "", shape: [], data: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 && type === wire.len) name = r.string(r.length(), 0);
    else if (field === 2 && type === wire.len) t.datatype = r.string(r.length(), 1);
    else if (field === 3 && type === wire.len) {
      const stop = r.length();
      while (r.pos < stop) t.shape.push(r.int64());
      r.expectAt(stop);
    } else if (field === 3 && type === wire.varint) t.shape.push(r.int64());
    else if (field === 4 && type === wire.len) {
      const stop = r.length();
      while (r.pos < stop) t.data.push(r.double());
      r.expectAt(stop);
    } else if (field === 4 && type === wire.i64) t.data.push(r.double());
    else r.skip(type);
  }
  r.expectAt(end);
  return [name, t];
}
