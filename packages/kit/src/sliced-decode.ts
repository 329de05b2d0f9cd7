import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TimeSlicer } from "@prescient/core";

/** A generated message codec: ts-proto's `decode` of a whole message. */
export interface MessageCodec {
  decode(input: Uint8Array): unknown;
}

export interface SlicedDecoderOptions {
  /**
   * Messages (and sub-messages, and packed runs) of at most this many bytes
   * are decoded by the generated code in one synchronous call. Default 64 KiB:
   * about half a millisecond of decoding, and every request a healthy client
   * sends fits, so only large requests take the sliced path.
   */
  inlineBytes: number;
  /**
   * The longest stretch of decoding between two yields to the event loop.
   * Default 8 ms, so health checks and small calls are answered while a
   * 16 MB request decodes.
   */
  sliceMs: number;
}

const defaults: SlicedDecoderOptions = { inlineBytes: 64 * 1024, sliceMs: 8 };

/** The generated code's own nesting limit, kept so both paths refuse the same messages. */
const maxDepth = 100;

/** Byte width of packed scalars of fixed size; varints are found by scanning. */
const fixedWidth: Partial<Record<ScalarType, number>> = {
  [ScalarType.DOUBLE]: 8,
  [ScalarType.FIXED64]: 8,
  [ScalarType.SFIXED64]: 8,
  [ScalarType.FLOAT]: 4,
  [ScalarType.FIXED32]: 4,
  [ScalarType.SFIXED32]: 4,
};

/**
 * Decodes a protobuf message in slices with yields between them, so that one
 * large request does not hold the event loop for the whole of its decoding.
 *
 * The generated code stays the only decoder of values: a large message is cut
 * on its wire format into field occurrences, each small occurrence is decoded
 * by the message's own codec, and large parts are descended into (sub-messages)
 * or cut further (packed numbers split into shorter packed runs). The result
 * is what the codec alone would return; a property test holds the two equal.
 */
export class SlicedDecoder {
  readonly options: SlicedDecoderOptions;

  constructor(
    readonly codecOf: (typeName: string) => MessageCodec | undefined,
    options?: Partial<SlicedDecoderOptions>,
  ) {
    this.options = { ...defaults, ...options };
  }

  /** Whether `bytes` would be decoded in one synchronous call anyway. */
  isInline(bytes: Uint8Array): boolean {
    return bytes.length <= this.options.inlineBytes;
  }

  async decode(desc: DescMessage, bytes: Uint8Array): Promise<unknown> {
    const codec = this.codecOf(desc.typeName);
    if (codec === undefined) throw new Error(`no codec for ${desc.typeName}`);
    return this.#message(desc, codec, bytes, new TimeSlicer(this.options.sliceMs), 0);
  }

  async #message(
    desc: DescMessage,
    codec: MessageCodec,
    bytes: Uint8Array,
    slicer: TimeSlicer,
    depth: number,
  ): Promise<unknown> {
    if (depth >= maxDepth) throw new Error("protobuf decode recursion limit exceeded");
    if (this.isInline(bytes)) {
      const message = codec.decode(bytes);
      await slicer.tick();
      return message;
    }
    const rest: Uint8Array[] = [];
    const lists = new Map<DescField, unknown[]>();
    const maps = new Map<DescField, Record<string, unknown>>();
    // A singular sub-message, string or bytes that occurs more than once: the generated code keeps the last.
    const lastMessage = new Map<DescField, Uint8Array>();
    const lastText = new Map<DescField, Uint8Array>();
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const tag = reader.uint32();
      // Where the generated code stops reading (a zero tag, an end-group), so does this.
      if (tag === 0 || (tag & 7) === WireType.EndGroup) break;
      const no = tag >>> 3;
      const wireType = (tag & 7) as WireType;
      reader.skip(wireType, no);
      const occurrence = bytes.subarray(start, reader.pos);
      const field = desc.fields.find((f) => f.number === no);
      if (field?.fieldKind === "list") {
        const items = lists.get(field) ?? [];
        lists.set(field, items);
        await this.#listOccurrence(field, codec, occurrence, wireType, items, slicer, depth);
      } else if (field?.fieldKind === "map") {
        const entries = maps.get(field) ?? {};
        maps.set(field, entries);
        Object.assign(
          entries,
          (codec.decode(occurrence) as Record<string, Record<string, unknown>>)[field.localName],
        );
      } else if (
        field?.fieldKind === "message" &&
        wireType === WireType.LengthDelimited &&
        this.codecOf(field.message.typeName) !== undefined
      ) {
        lastMessage.set(field, occurrence);
      } else if (
        field?.fieldKind === "scalar" &&
        wireType === WireType.LengthDelimited &&
        (field.scalar === ScalarType.BYTES || field.scalar === ScalarType.STRING)
      ) {
        lastText.set(field, occurrence);
      } else {
        rest.push(occurrence);
      }
      await slicer.tick();
    }
    const large: [DescField & { fieldKind: "message" }, Uint8Array][] = [];
    for (const [field, occurrence] of lastMessage) {
      if (field.fieldKind !== "message") continue;
      if (this.isInline(occurrence)) rest.push(occurrence);
      else large.push([field, occurrence]);
    }
    // A large string or bytes is decoded alone: joined with the rest it would be copied once more.
    const largeText: [DescField, Uint8Array][] = [];
    for (const [field, occurrence] of lastText) {
      if (this.isInline(occurrence)) rest.push(occurrence);
      else largeText.push([field, occurrence]);
    }
    const message = codec.decode(rest.length === 1 ? (rest[0] as Uint8Array) : Buffer.concat(rest)) as Record<
      string,
      unknown
    >;
    for (const [field, occurrence] of largeText)
      message[field.localName] = (codec.decode(occurrence) as Record<string, unknown>)[field.localName];
    for (const [field, items] of lists) message[field.localName] = items;
    for (const [field, entries] of maps) message[field.localName] = entries;
    for (const [field, occurrence] of large) {
      const payload = lengthDelimitedPayload(occurrence);
      const child = this.codecOf(field.message.typeName) as MessageCodec;
      message[field.localName] = await this.#message(field.message, child, payload, slicer, depth + 1);
    }
    return message;
  }

  async #listOccurrence(
    field: DescField & { fieldKind: "list" },
    codec: MessageCodec,
    occurrence: Uint8Array,
    wireType: WireType,
    items: unknown[],
    slicer: TimeSlicer,
    depth: number,
  ): Promise<void> {
    const listOf = (o: Uint8Array) => (codec.decode(o) as Record<string, unknown[]>)[field.localName] ?? [];
    if (this.isInline(occurrence) || wireType !== WireType.LengthDelimited) {
      append(items, listOf(occurrence));
      return;
    }
    if (field.listKind === "message") {
      const child = this.codecOf(field.message.typeName);
      if (child !== undefined) {
        items.push(
          await this.#message(field.message, child, lengthDelimitedPayload(occurrence), slicer, depth + 1),
        );
        return;
      }
    }
    if (
      field.listKind === "scalar" &&
      field.scalar !== ScalarType.STRING &&
      field.scalar !== ScalarType.BYTES
    ) {
      // A long packed run: re-framed as shorter packed runs of the same field, each decoded by the codec.
      for (const run of packedRuns(field, lengthDelimitedPayload(occurrence), this.options.inlineBytes)) {
        append(items, listOf(run));
        await slicer.tick();
      }
      return;
    }
    append(items, listOf(occurrence));
  }
}

/** `items.push(...more)` without spreading: a packed run can hold more elements than a call takes arguments. */
function append(items: unknown[], more: readonly unknown[]): void {
  for (let i = 0; i < more.length; i++) items.push(more[i]);
}

/** The payload of one length-delimited field occurrence (tag and length stripped). */
function lengthDelimitedPayload(occurrence: Uint8Array): Uint8Array {
  const reader = new BinaryReader(occurrence);
  reader.tag();
  const length = reader.uint32();
  return occurrence.subarray(reader.pos, reader.pos + length);
}

/** Cuts a packed payload on element boundaries into framed occurrences of about `size` bytes. */
function* packedRuns(field: DescField, payload: Uint8Array, size: number): Generator<Uint8Array> {
  const width = field.scalar === undefined ? undefined : fixedWidth[field.scalar];
  let start = 0;
  while (start < payload.length) {
    let end = Math.min(payload.length, start + size);
    if (width !== undefined) end -= (end - start) % width || 0;
    else while (end < payload.length && (payload[end - 1] as number) & 0x80) end++;
    if (end <= start) end = payload.length;
    yield new BinaryWriter()
      .tag(field.number, WireType.LengthDelimited)
      .bytes(payload.subarray(start, end))
      .finish();
    start = end;
  }
}
