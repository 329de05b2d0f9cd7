import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { mulberry32 } from "@prescient/core";
import type { ContractTypes } from "./contract-types.js";

/** Every message type that has a generated codec, in a stable order. */
export function messagesWithCodec(types: ContractTypes): DescMessage[] {
  return [...types.registry]
    .filter((d): d is DescMessage => d.kind === "message" && types.codecOf(d.typeName) !== undefined)
    .sort((a, b) => a.typeName.localeCompare(b.typeName));
}

/** A seeded PRNG, so fast-check shrinks a seed and a failure replays exactly. */
export const prng = mulberry32;

/**
 * Random wire bytes for a message type, generated from its descriptor: any
 * field in any order, repeated occurrences of singular fields, packed and
 * unpacked runs, long packed runs, map entries, unknown fields, nested
 * messages. Both decoders get the same bytes.
 */
export function randomWire(desc: DescMessage, random: () => number, depth = 0): Uint8Array {
  const w = new BinaryWriter();
  const int = (n: number) => Math.floor(random() * n);
  const occurrences = int(depth === 0 ? 12 : 5);
  for (let i = 0; i < occurrences; i++) {
    const field = desc.fields[int(desc.fields.length)];
    if (field === undefined || random() < 0.05) {
      w.tag(900 + int(50), WireType.Varint).uint32(int(1000));
      continue;
    }
    writeField(w, field, random, depth);
  }
  return w.finish();
}

function writeScalar(w: BinaryWriter, scalar: ScalarType, random: () => number): void {
  const int = (n: number) => Math.floor(random() * n);
  switch (scalar) {
    case ScalarType.DOUBLE:
      w.double((random() - 0.5) * 1e6);
      return;
    case ScalarType.FLOAT:
      w.float(random() * 100);
      return;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      w[scalar === ScalarType.INT64 ? "int64" : scalar === ScalarType.SINT64 ? "sint64" : "sfixed64"](
        BigInt(int(2 ** 31)) * (random() < 0.5 ? -1n : 1n) * BigInt(1 + int(2 ** 20)),
      );
      return;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      w[scalar === ScalarType.UINT64 ? "uint64" : "fixed64"](BigInt(int(2 ** 31)) * BigInt(1 + int(2 ** 20)));
      return;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      w[scalar === ScalarType.INT32 ? "int32" : scalar === ScalarType.SINT32 ? "sint32" : "sfixed32"](
        int(2 ** 31) * (random() < 0.5 ? -1 : 1),
      );
      return;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      w[scalar === ScalarType.UINT32 ? "uint32" : "fixed32"](int(2 ** 32));
      return;
    case ScalarType.BOOL:
      w.bool(random() < 0.5);
      return;
    case ScalarType.STRING:
      w.string(Array.from({ length: int(12) }, () => String.fromCodePoint(32 + int(0x2fff))).join(""));
      return;
    case ScalarType.BYTES:
      w.bytes(Uint8Array.from({ length: int(40) }, () => int(256)));
      return;
  }
}

const wireTypeOf = (scalar: ScalarType): WireType =>
  scalar === ScalarType.STRING || scalar === ScalarType.BYTES
    ? WireType.LengthDelimited
    : scalar === ScalarType.DOUBLE || scalar === ScalarType.FIXED64 || scalar === ScalarType.SFIXED64
      ? WireType.Bit64
      : scalar === ScalarType.FLOAT || scalar === ScalarType.FIXED32 || scalar === ScalarType.SFIXED32
        ? WireType.Bit32
        : WireType.Varint;

function writeField(w: BinaryWriter, field: DescField, random: () => number, depth: number): void {
  const nested = (desc: DescMessage) =>
    w
      .tag(field.number, WireType.LengthDelimited)
      .bytes(depth < 4 ? randomWire(desc, random, depth + 1) : new Uint8Array());
  switch (field.fieldKind) {
    case "scalar":
      w.tag(field.number, wireTypeOf(field.scalar));
      writeScalar(w, field.scalar, random);
      return;
    case "enum":
      w.tag(field.number, WireType.Varint).int32(Math.floor(random() * 4));
      return;
    case "message":
      nested(field.message);
      return;
    case "list":
      if (field.listKind === "message") nested(field.message);
      else if (field.listKind === "enum")
        w.tag(field.number, WireType.Varint).int32(Math.floor(random() * 4));
      else if (wireTypeOf(field.scalar) === WireType.LengthDelimited || random() < 0.3) {
        w.tag(field.number, wireTypeOf(field.scalar));
        writeScalar(w, field.scalar, random);
      } else {
        // Packed, sometimes long enough to be cut into runs.
        const run = new BinaryWriter();
        const n = random() < 0.2 ? 200 + Math.floor(random() * 400) : Math.floor(random() * 6);
        for (let i = 0; i < n; i++) writeScalar(run, field.scalar, random);
        w.tag(field.number, WireType.LengthDelimited).bytes(run.finish());
      }
      return;
    case "map": {
      const entry = new BinaryWriter();
      entry.tag(1, wireTypeOf(field.mapKey));
      writeScalar(entry, field.mapKey, random);
      if (field.mapKind === "message")
        entry.tag(2, WireType.LengthDelimited).bytes(randomWire(field.message, random, depth + 1));
      else if (field.mapKind === "enum") entry.tag(2, WireType.Varint).int32(1);
      else {
        entry.tag(2, wireTypeOf(field.scalar));
        writeScalar(entry, field.scalar, random);
      }
      w.tag(field.number, WireType.LengthDelimited).bytes(entry.finish());
      return;
    }
  }
}

/**
 * Whether `bytes` are strictly framed for `desc` at every depth: no zero tag,
 * no group tag, and every sub-message and map entry ending exactly where its
 * length says. Where they are not, the generated decoder stops reading or
 * reads on past the end, misaligned in the message around it; a sliced
 * decode, which cuts on the declared lengths, cannot follow it there.
 */
export function withoutStopTags(
  desc: DescMessage | undefined,
  bytes: Uint8Array,
  mapEntry?: DescField,
): boolean {
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const no = tag >>> 3;
      const wireType = tag & 7;
      if (tag === 0 || wireType === WireType.StartGroup || wireType === WireType.EndGroup) return false;
      if (wireType !== WireType.LengthDelimited) {
        reader.skip(wireType as WireType, no);
        continue;
      }
      const payload = reader.bytes();
      if (mapEntry !== undefined) {
        if (no === 2 && mapEntry.fieldKind === "map" && mapEntry.mapKind === "message")
          if (!withoutStopTags(mapEntry.message, payload)) return false;
        continue;
      }
      const field = desc?.fields.find((f) => f.number === no);
      if (field?.fieldKind === "message" || (field?.fieldKind === "list" && field.listKind === "message")) {
        if (!withoutStopTags(field.message, payload)) return false;
      } else if (field?.fieldKind === "map") {
        if (!withoutStopTags(undefined, payload, field)) return false;
      }
    }
  } catch {
    return false;
  }
  return true;
}
