import { InternalError } from "@prescient/core";
import { type DecodedValue, decodeValue, type TensorValue } from "./values.js";

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

const wire = { varint: 0, i64: 1, len: 2, i32: 5 } as const;

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

/** Value: oneof tensors (1) or payload (2), content_type (3). */
function readValue(r: WireReader, end: number): DecodedValue | undefined {
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
  if (tensors !== undefined) return { kind: "tensors", tensors };
  if (payload === undefined) return undefined;
  return decodeValue({ payload, contentType });
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

/** The few protobuf wire reads a Value needs; a malformed message is an InternalError, never a wrong value. */
class WireReader {
  pos = 0;
  readonly #buf: Buffer;
  readonly #last: Array<{ start: number; end: number; text: string } | undefined> = [];

  constructor(bytes: Uint8Array) {
    this.#buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  done(): boolean {
    return this.pos >= this.#buf.length;
  }

  varint32(): number {
    const v = this.int64();
    if (v < 0 || v > 0xffffffff) throw malformed();
    return v;
  }

  /** A varint as a signed 64-bit integer, as a number (exact to 2^53, as decodeValue's Number(bigint) is). */
  int64(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.#buf.length) throw malformed();
      const b = this.#buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) return (hi | 0) * 0x100000000 + (lo >>> 0);
      shift += 7;
    }
    throw malformed();
  }

  /** A length prefix: answers where the field ends. */
  length(): number {
    const n = this.varint32();
    const end = this.pos + n;
    if (end > this.#buf.length) throw malformed();
    return end;
  }

  double(): number {
    if (this.pos + 8 > this.#buf.length) throw malformed();
    const v = this.#buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * The UTF-8 text up to `end`. The same few names recur in every value (a
   * tensor's name and datatype, a content type): each `slot` remembers its
   * last text and where it was read, and answers it again for the same
   * bytes, so a hundred values do not make three hundred strings.
   */
  string(end: number, slot: number): string {
    const start = this.pos;
    this.pos = end;
    const last = this.#last[slot];
    if (last !== undefined && last.end - last.start === end - start) {
      let same = true;
      for (let i = 0; i < end - start; i++)
        if (this.#buf[start + i] !== this.#buf[last.start + i]) {
          same = false;
          break;
        }
      if (same) return last.text;
    }
    const text = this.#buf.toString("utf8", start, end);
    if (end - start <= 64) this.#last[slot] = { start, end, text };
    return text;
  }

  /** The bytes up to `end`, copied: the caller may keep them past the call's buffer. */
  bytes(end: number): Buffer {
    const b = Buffer.from(this.#buf.subarray(this.pos, end));
    this.pos = end;
    return b;
  }

  skip(type: number): void {
    if (type === wire.varint) this.int64();
    else if (type === wire.i64) this.pos += 8;
    else if (type === wire.len) this.pos = this.length();
    else if (type === wire.i32) this.pos += 4;
    else throw malformed();
    if (this.pos > this.#buf.length) throw malformed();
  }

  expectAt(end: number): void {
    if (this.pos !== end) throw malformed();
  }
}

function malformed(): InternalError {
  return new InternalError("the cache answered a LookupMany the client cannot decode");
}
