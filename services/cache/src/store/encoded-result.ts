import { commonV1 } from "@prescient/contracts";
import type { CachedResult } from "./cache-store.js";

/**
 * A Result as read from Redis: the protobuf bytes, with only what freshness
 * needs (expires_at, compute_ms) parsed up front. Every other field decodes
 * on first access. A Lookup hit never touches them: the service writes the
 * stored bytes straight into its response (see response-encoding.ts), so a
 * Redis hit costs no decode and no re-encode of the result.
 */
export class EncodedResult implements CachedResult {
  readonly encoded: Uint8Array;
  /** expires_at in ms since the epoch, read without building a Date (the hot path compares numbers). */
  readonly expiresAtMs: number | undefined;
  readonly computeMs: number;
  /** The Value's own bytes within `encoded`, for a values-only answer; undefined when absent or repeated. */
  readonly encodedValue: Uint8Array | undefined;
  #decoded: commonV1.Result | undefined;

  constructor(encoded: Uint8Array) {
    this.encoded = encoded;
    const peek = peekFreshness(encoded);
    this.expiresAtMs = peek.expiresAtMs;
    this.computeMs = peek.computeMs;
    this.encodedValue = peek.valueStart < 0 ? undefined : encoded.subarray(peek.valueStart, peek.valueEnd);
  }

  get expiresAt(): Date | undefined {
    return this.expiresAtMs === undefined ? undefined : new Date(this.expiresAtMs);
  }
  get value(): commonV1.Value | undefined {
    return this.#full().value;
  }
  get modelName(): string {
    return this.#full().modelName;
  }
  get modelVersion(): string {
    return this.#full().modelVersion;
  }
  get computedAt(): Date | undefined {
    return this.#full().computedAt;
  }
  get inputDigest(): string {
    return this.#full().inputDigest;
  }
  get tags(): string[] {
    return this.#full().tags;
  }

  #full(): commonV1.Result {
    this.#decoded ??= commonV1.Result.decode(this.encoded);
    return this.#decoded;
  }
}

/**
 * A stored result's Value, as its bytes within the stored Result: a
 * values-only LookupMany writes them out as they are, and a caller in this
 * process that reads a field gets it decoded on first access.
 */
export class EncodedValue implements commonV1.Value {
  readonly encoded: Uint8Array;
  #decoded: commonV1.Value | undefined;

  constructor(encoded: Uint8Array) {
    this.encoded = encoded;
  }

  get tensors(): commonV1.Tensors | undefined {
    return this.#full().tensors;
  }
  get payload(): Buffer | undefined {
    return this.#full().payload;
  }
  get contentType(): string {
    return this.#full().contentType;
  }

  #full(): commonV1.Value {
    this.#decoded ??= commonV1.Value.decode(this.encoded);
    return this.#decoded;
  }
}

/** The stored bytes Redis answered as a result, or undefined for a missing key. */
export function encodedResultOf(bytes: Uint8Array | null | undefined): EncodedResult | undefined {
  return bytes === null || bytes === undefined ? undefined : new EncodedResult(bytes);
}

/** expires_at in ms since the epoch (0 when unset), without a Date for stored bytes. */
export function expiresAtMsOf(result: CachedResult): number {
  if (result instanceof EncodedResult) return result.expiresAtMs ?? 0;
  return result.expiresAt === undefined ? 0 : result.expiresAt.getTime();
}

// Field numbers of prescient.common.v1.Result and google.protobuf.Timestamp.
const valueField = 1;
const expiresAtField = 5;
const computeMsField = 6;

export interface FreshnessPeek {
  expiresAtMs: number | undefined;
  computeMs: number;
  /** Where the value's message bytes lie; -1 when there is no value, or more than one to merge. */
  valueStart: number;
  valueEnd: number;
}

/**
 * Scans Result bytes for expires_at, compute_ms and where the value lies,
 * without decoding the rest. Malformed input throws, like a full decode
 * would. Plain functions over a cursor, not a reader object: this runs for
 * every key a lookup reads from Redis.
 */
export function peekFreshness(bytes: Uint8Array): FreshnessPeek {
  const c: Cursor = { bytes, pos: 0 };
  let expiresAtMs: number | undefined;
  let computeMs = 0;
  let valueStart = -1;
  let valueEnd = -1;
  let values = 0;
  while (c.pos < bytes.length) {
    const tag = varint(c);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === expiresAtField && wire === 2) {
      const length = varint(c);
      const end = c.pos + length;
      let seconds = 0;
      let nanos = 0;
      while (c.pos < end) {
        const t = varint(c);
        if (t === 8) seconds = signedVarint(c);
        else if (t === 16) nanos = signedVarint(c);
        else skip(c, t % 8);
      }
      // As the generated fromTimestamp: seconds and nanos added, the Date truncating sub-milliseconds.
      expiresAtMs = Math.trunc(seconds * 1000 + nanos / 1e6);
    } else if (field === computeMsField && wire === 1) {
      computeMs = double(c);
    } else if (field === valueField && wire === 2) {
      const length = varint(c);
      valueStart = c.pos;
      valueEnd = c.pos + length;
      values++;
      c.pos = valueEnd;
      if (c.pos > bytes.length) throw new RangeError("truncated stored result");
    } else skip(c, wire);
  }
  // Repeated occurrences of a message field merge; only a full decode gets that right.
  if (values !== 1) valueStart = valueEnd = -1;
  return { expiresAtMs, computeMs, valueStart, valueEnd };
}

interface Cursor {
  readonly bytes: Uint8Array;
  pos: number;
}

/** An unsigned varint as a number (exact below 2^53, which covers every timestamp). */
function varint(c: Cursor): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.bytes.length) throw new RangeError("truncated varint in stored result");
    const b = c.bytes[c.pos++] as number;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  throw new RangeError("overlong varint in stored result");
}

/** An int64/int32 varint, negative values included (two's complement over 64 bits). */
function signedVarint(c: Cursor): number {
  const start = c.pos;
  const v = varint(c);
  if (v < 2 ** 53) return v;
  // Negative: doubles cannot hold 64-bit two's complement exactly, so redo it in BigInt.
  let big = 0n;
  for (let p = c.pos - 1; p >= start; p--) big = (big << 7n) | BigInt((c.bytes[p] as number) & 0x7f);
  return Number(BigInt.asIntN(64, big));
}

// One scratch buffer for doubles, instead of a DataView per result.
const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

function double(c: Cursor): number {
  if (c.pos + 8 > c.bytes.length) throw new RangeError("truncated stored result");
  // Float64Array is host-endian; protobuf doubles are little-endian, as on every host Node runs on but s390x.
  for (let i = 0; i < 8; i++) scratchBytes[i] = c.bytes[c.pos + i] as number;
  c.pos += 8;
  return littleEndian ? (scratch[0] as number) : new DataView(scratch.buffer).getFloat64(0, true);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function skip(c: Cursor, wire: number): void {
  if (wire === 0) varint(c);
  else if (wire === 1) c.pos += 8;
  else if (wire === 2) {
    const length = varint(c); // read before `pos`, which it advances
    c.pos += length;
  } else if (wire === 5) c.pos += 4;
  else throw new RangeError(`unexpected wire type ${wire} in stored result`);
  if (c.pos > c.bytes.length) throw new RangeError("truncated stored result");
}
