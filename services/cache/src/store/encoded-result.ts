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
  readonly expiresAt: Date | undefined;
  readonly computeMs: number;
  #decoded: commonV1.Result | undefined;

  constructor(encoded: Uint8Array) {
    this.encoded = encoded;
    const peek = peekFreshness(encoded);
    this.expiresAt = peek.expiresAtMs === undefined ? undefined : new Date(peek.expiresAtMs);
    this.computeMs = peek.computeMs;
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

// Field numbers of prescient.common.v1.Result and google.protobuf.Timestamp.
const expiresAtField = 5;
const computeMsField = 6;

/**
 * Scans Result bytes for expires_at and compute_ms without decoding the
 * rest. Malformed input throws, like a full decode would.
 */
export function peekFreshness(bytes: Uint8Array): { expiresAtMs: number | undefined; computeMs: number } {
  const r = new Scanner(bytes);
  let expiresAtMs: number | undefined;
  let computeMs = 0;
  while (r.pos < bytes.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === expiresAtField && wire === 2) {
      const length = r.varint();
      const end = r.pos + length;
      let seconds = 0;
      let nanos = 0;
      while (r.pos < end) {
        const t = r.varint();
        if (t === 8) seconds = r.signedVarint();
        else if (t === 16) nanos = r.signedVarint();
        else r.skip(t % 8);
      }
      // As the generated fromTimestamp: seconds and nanos added, the Date truncating sub-milliseconds.
      expiresAtMs = Math.trunc(seconds * 1000 + nanos / 1e6);
    } else if (field === computeMsField && wire === 1) {
      computeMs = r.double();
    } else r.skip(wire);
  }
  return { expiresAtMs, computeMs };
}

class Scanner {
  pos = 0;
  readonly #view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** An unsigned varint as a number (exact below 2^53, which covers every timestamp). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new RangeError("truncated varint in stored result");
      const b = this.bytes[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new RangeError("overlong varint in stored result");
  }

  /** An int64/int32 varint, negative values included (two's complement over 64 bits). */
  signedVarint(): number {
    const start = this.pos;
    const v = this.varint();
    if (v < 2 ** 53) return v;
    // Negative: doubles cannot hold 64-bit two's complement exactly, so redo it in BigInt.
    let big = 0n;
    for (let p = this.pos - 1; p >= start; p--) big = (big << 7n) | BigInt((this.bytes[p] as number) & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  double(): number {
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const length = this.varint(); // read before `pos`, which it advances
      this.pos += length;
    } else if (wire === 5) this.pos += 4;
    else throw new RangeError(`unexpected wire type ${wire} in stored result`);
    if (this.pos > this.bytes.length) throw new RangeError("truncated stored result");
  }
}
