import {
  create,
  type DescField,
  type DescMessage,
  type MessageInitShape,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import fc, { type Arbitrary } from "fast-check";

/**
 * fast-check arbitraries for any protobuf message, built by walking its
 * descriptor, so every RPC in the descriptor set is covered without a
 * hand-written generator that would drift from the contracts.
 *
 * Two flavours: "wild" values aim at edge cases of each wire type; "valid"
 * values take field-name hints (tenant, task_type, entity_id, ...) so that
 * requests get past first validation and reach the deeper code.
 */
export type Flavour = "wild" | "valid";

/** Field-name hints for the valid flavour: a proto field name to its plausible values. */
export type Hints = Record<string, Arbitrary<unknown>>;

/** Nested messages deeper than this are left empty: Struct/Value recurse without end otherwise. */
const maxDepth = 6;

const int32Edges = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)];
const uint32Edges = [0, 1, 2 ** 31, 2 ** 32 - 1];
const int64Edges = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n];
const uint64Edges = [0n, 1n, 2n ** 63n - 1n, 2n ** 64n - 1n, 2n ** 53n + 1n];
const doubleEdges = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  5e-324,
];

/**
 * Strings a JS client can send. Invalid UTF-8 cannot be: lone surrogates are
 * encoded as U+FFFD; the raw-bytes mutations reach invalid UTF-8 instead.
 */
const stringEdges = [
  "",
  " ",
  "*",
  "/",
  "//",
  "a/b/c/d",
  "acme/*",
  "../../etc/passwd",
  "\u0000",
  "\uD800",
  "\uDFFF\uD800",
  "\u202E",
  "%s%n",
  // Names of Object.prototype members: a lookup in a plain object by a request string finds them.
  "__proto__",
  "constructor",
  "valueOf",
  "toString",
  "x".repeat(70_000),
  "é".repeat(5_000),
  "🙂".repeat(3_000),
];

const scalarArbs = new Map<ScalarType, Arbitrary<unknown>>();

function edgesOr<T>(edges: T[], arb: Arbitrary<T>): Arbitrary<T> {
  return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...edges) }, { weight: 3, arbitrary: arb });
}

/** The wild arbitrary of one scalar type: its edge values and a uniform spread. */
export function wildScalar(type: ScalarType): Arbitrary<unknown> {
  let arb = scalarArbs.get(type);
  if (arb) return arb;
  switch (type) {
    case ScalarType.STRING:
      arb = edgesOr(stringEdges, fc.string({ unit: "binary", maxLength: 40 }));
      break;
    case ScalarType.BYTES:
      arb = fc.oneof(
        { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
        { weight: 1, arbitrary: fc.constant(new Uint8Array(70_000).fill(0xff)) },
      );
      break;
    case ScalarType.BOOL:
      arb = fc.boolean();
      break;
    case ScalarType.DOUBLE:
      arb = edgesOr(doubleEdges, fc.double());
      break;
    case ScalarType.FLOAT:
      arb = edgesOr(doubleEdges.slice(0, 5), fc.float());
      break;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      arb = edgesOr(int32Edges, fc.integer());
      break;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      arb = edgesOr(uint32Edges, fc.integer({ min: 0, max: 2 ** 32 - 1 }));
      break;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      arb = edgesOr(int64Edges, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
      break;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      arb = edgesOr(uint64Edges, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
      break;
  }
  scalarArbs.set(type, arb);
  return arb;
}

/** Known and unknown enum numbers: proto3 enums are open, so a peer may send any int32. */
function enumArb(values: number[], flavour: Flavour): Arbitrary<number> {
  return fc.oneof(
    { weight: flavour === "valid" ? 20 : 4, arbitrary: fc.constantFrom(...values) },
    { weight: 1, arbitrary: fc.constantFrom(-1, values.length + 7, 2 ** 31 - 1) },
  );
}

export class MessageArbitraries {
  readonly #hints: Hints;
  readonly #cache = new Map<string, Arbitrary<Record<string, unknown>>>();

  constructor(hints: Hints) {
    this.#hints = hints;
  }

  /** Init objects for `create(desc, init)`. */
  init(desc: DescMessage, flavour: Flavour, depth = 0): Arbitrary<Record<string, unknown>> {
    const id = `${desc.typeName}|${flavour}|${depth}`;
    let arb = this.#cache.get(id);
    if (arb) return arb;
    // Built eagerly: depth grows on every nested message, so recursive types (Struct) end.
    arb = depth >= maxDepth ? fc.constant({}) : this.#build(desc, flavour, depth);
    this.#cache.set(id, arb);
    return arb;
  }

  /** Wire bytes of one message of this type. */
  bytes(desc: DescMessage, flavour: Flavour): Arbitrary<Uint8Array> {
    return this.init(desc, flavour).map((init) => encode(desc, init));
  }

  #build(desc: DescMessage, flavour: Flavour, depth: number): Arbitrary<Record<string, unknown>> {
    const valid = flavour === "valid";
    const plain: Record<string, Arbitrary<unknown>> = {};
    for (const field of desc.fields) {
      if (field.oneof) continue;
      const arb = this.#field(field, flavour, depth);
      // Valid requests carry most fields, so that each one's validation is passed and the next reached.
      plain[field.localName] = valid ? fc.option(arb, { nil: undefined, freq: 30 }) : arb;
    }
    // Each oneof: unset or one member, valid ones mostly the first (entity_id in a Key);
    // "several set" is reached by concatenating encodings.
    const oneofs: Record<string, Arbitrary<unknown>> = {};
    for (const oneof of desc.oneofs) {
      const members = oneof.fields.map((f) =>
        this.#field(f, flavour, depth).map((value) => ({ case: f.localName, value })),
      );
      const first = valid ? [{ weight: 16, arbitrary: members[0]! }] : [];
      oneofs[oneof.localName] = fc.oneof(
        { weight: valid ? 1 : 2, arbitrary: fc.constant(undefined) },
        ...first,
        {
          weight: 4,
          arbitrary: fc.oneof(...members),
        },
      );
    }
    const model = { ...plain, ...oneofs };
    return (valid ? fc.record(model) : fc.record(model, { requiredKeys: [] })).map(dropUndefined);
  }

  /**
   * Hints name scalar fields by field name (a repeated field's hint gives its
   * elements) and messages by type name (google.protobuf.Timestamp).
   */
  #hint(name: string, flavour: Flavour): Arbitrary<unknown> | undefined {
    return flavour === "valid" ? this.#hints[name] : undefined;
  }

  #message(desc: DescMessage, flavour: Flavour, depth: number): Arbitrary<unknown> {
    return this.#hint(desc.typeName, flavour) ?? this.init(desc, flavour, depth + 1);
  }

  #field(field: DescField, flavour: Flavour, depth: number): Arbitrary<unknown> {
    // A hint named "Type.field" gives the whole field (a list, say), where one value does not do.
    const whole = this.#hint(`${field.parent.typeName}.${field.name}`, flavour);
    if (whole) return whole;
    switch (field.fieldKind) {
      case "scalar":
        return this.#hint(field.name, flavour) ?? wildScalar(field.scalar);
      case "enum":
        return enumArb(
          field.enum.values.map((v) => v.number),
          flavour,
        );
      case "message":
        return this.#message(field.message, flavour, depth);
      case "list": {
        const elem =
          field.listKind === "scalar"
            ? (this.#hint(field.name, flavour) ?? wildScalar(field.scalar))
            : field.listKind === "enum"
              ? enumArb(
                  field.enum.values.map((v) => v.number),
                  flavour,
                )
              : this.#message(field.message, flavour, depth);
        // Valid lists mostly hold one element: a second often repeats the first, which is refused.
        const few =
          flavour === "valid"
            ? fc.oneof(
                { weight: 3, arbitrary: fc.array(elem, { minLength: 1, maxLength: 1 }) },
                fc.array(elem, { maxLength: 5 }),
              )
            : fc.array(elem, { maxLength: 5 });
        // Top-level lists also get long ones: batch limits are where off-by-ones live.
        if (depth > 0 || field.listKind === "message") return few;
        return fc.oneof(
          { weight: 12, arbitrary: few },
          { weight: 1, arbitrary: fc.array(elem, { maxLength: 1_500 }) },
        );
      }
      case "map": {
        const key = this.#hint(`${field.name}.key`, flavour) ?? mapKey(field.mapKey);
        const value =
          field.mapKind === "scalar"
            ? wildScalar(field.scalar)
            : field.mapKind === "enum"
              ? enumArb(
                  field.enum.values.map((v) => v.number),
                  flavour,
                )
              : this.#message(field.message, flavour, depth);
        return fc.dictionary(key as Arbitrary<string>, value, { maxKeys: 6 });
      }
    }
  }
}

/** Map keys are object keys in the init shape: integer keys go as their decimal text. */
function mapKey(type: ScalarType): Arbitrary<string> {
  if (type === ScalarType.STRING) return wildScalar(type) as Arbitrary<string>;
  if (type === ScalarType.BOOL) return fc.constantFrom("true", "false");
  return (wildScalar(type) as Arbitrary<number | bigint>).map(String);
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

export function encode(desc: DescMessage, init: Record<string, unknown>): Uint8Array {
  return toBinary(desc, create(desc, init as MessageInitShape<DescMessage>));
}
