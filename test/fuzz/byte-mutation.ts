import fc, { type Arbitrary } from "fast-check";

/** One edit of an encoding; positions are taken modulo its length, so any edit fits any input. */
type Edit =
  | { op: "flip"; at: number; bit: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "set"; at: number; byte: number }
  | { op: "duplicate"; at: number; length: number };

const edit: Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  // 0x80 keeps a varint going, 0xff/0x0f are tags of deprecated groups and wire type 7.
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.constantFrom(0x00, 0x80, 0xff, 0x0f, 0x0a, 0x7f),
  }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), length: fc.nat(64) }),
);

function apply(input: Uint8Array, e: Edit): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : e.at % n;
  switch (e.op) {
    case "flip": {
      if (n === 0) return input;
      const out = input.slice();
      out[at]! ^= 1 << e.bit;
      return out;
    }
    case "truncate":
      return input.slice(0, at);
    case "insert":
      return concat(input.subarray(0, at), e.bytes, input.subarray(at));
    case "set": {
      if (n === 0) return Uint8Array.of(e.byte);
      const out = input.slice();
      out[at] = e.byte;
      return out;
    }
    case "duplicate":
      return concat(input.subarray(0, at + e.length), input.subarray(at));
  }
}

/** Bit flips, truncations, insertions and splices of a (usually valid) encoding. */
export function mutated(bytes: Arbitrary<Uint8Array>): Arbitrary<Uint8Array> {
  return fc
    .tuple(bytes, fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([input, edits]) => edits.reduce(apply, input));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
