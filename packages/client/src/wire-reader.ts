import { InternalError } from "@prescient/core";

/** Protobuf wire types. */
export const wire = { varint: 0, i64: 1, len: 2, i32: 5 } as const;

/**
 * The few protobuf wire reads the client's LookupMany decoders need; a
 * malformed message is an InternalError, never a wrong answer.
 */
export class WireReader {
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

  /** The UTF-8 text up to `end`, for text that seldom recurs (keys, task ids). */
  text(end: number): string {
    const start = this.pos;
    this.pos = end;
    return this.#buf.toString("utf8", start, end);
  }

  /** The bytes from `start` to `end`, copied, wherever the reader is: a part to decode later. */
  copy(start: number, end: number): Buffer {
    return Buffer.from(this.#buf.subarray(start, end));
  }

  /** The bytes up to `end`, copied: the caller may keep them past the call's buffer. */
  bytes(end: number): Buffer {
    const b = this.copy(this.pos, end);
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
