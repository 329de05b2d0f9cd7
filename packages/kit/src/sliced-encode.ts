import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TimeSlicer } from "@prescient/core";

/** A generated message codec: ts-proto's `encode` (into a given writer, or a new one) and `fromPartial`. */
export interface EncodingCodec {
  encode(message: never, writer?: BinaryWriter): { finish(): Uint8Array };
  fromPartial(init: never): unknown;
}

/** A writer that grew past this is dropped after use rather than kept with its buffer. */
const maxRetainedBytes = 64 * 1024;
let shared = new BinaryWriter();

/**
 * `codec.encode(message).finish()`, through one writer reused by every call
 * on this thread. A new BinaryWriter starts at 128 bytes and doubles, so a
 * stored result of a few hundred bytes cost two or three allocations and
 * copies before `finish` copied it out once more; reused, only that last
 * copy is left (less than half the CPU per result, measured). Encoding is
 * synchronous, so no two calls share the writer at once. A throw mid-way
 * (a Date the generated code cannot write) leaves it half-written, and one
 * that grew for a large message would hold its buffer: either way it is
 * replaced.
 */
export function encodeMessage(codec: EncodingCodec, message: unknown): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = codec.encode(message as never, shared).finish();
  } catch (e) {
    shared = new BinaryWriter();
    throw e;
  }
  if (bytes.length > maxRetainedBytes) shared = new BinaryWriter();
  return bytes;
}

export interface SlicedEncoderOptions {
  /**
   * Lists of up to this many elements are encoded by the generated code with
   * their message. Default 4,096: a message under it encodes in well under a
   * millisecond, so only large results take the sliced path.
   */
  inlineElements: number;
  /** The longest stretch of encoding between two yields to the event loop. Default 8 ms. */
  sliceMs: number;
}

const defaults: SlicedEncoderOptions = { inlineElements: 4096, sliceMs: 8 };

type Fields = Record<string, unknown>;

/**
 * Encodes a message in slices with yields between them, the counterpart of
 * SlicedDecoder: a stored result with a tensor of two million values would
 * otherwise encode in one stretch of about 100 ms.
 *
 * The generated code stays the only encoder of values. A message with no
 * long list anywhere is encoded whole; otherwise its long lists are taken
 * out and written as separate occurrences after the rest of the message:
 * a long packed list as several shorter packed runs of the same field, a
 * long list of messages element by element. Protobuf readers merge repeated
 * occurrences, so the bytes decode to the same message.
 */
export class SlicedEncoder {
  readonly options: SlicedEncoderOptions;

  constructor(
    readonly codecOf: (typeName: string) => EncodingCodec | undefined,
    options?: Partial<SlicedEncoderOptions>,
  ) {
    this.options = { ...defaults, ...options };
  }

  /** @param slicer shared with the caller's loop, when it encodes many messages. */
  async encode(
    desc: DescMessage,
    message: unknown,
    slicer: TimeSlicer = new TimeSlicer(this.options.sliceMs),
  ): Promise<Uint8Array> {
    const codec = this.codecOf(desc.typeName);
    if (codec === undefined) throw new Error(`no codec for ${desc.typeName}`);
    const parts: Uint8Array[] = [];
    await this.#message(desc, codec, message as Fields, parts, slicer);
    if (parts.length === 1) return parts[0] as Uint8Array;
    // Joining copies every byte once more: in a slice of its own.
    if (slicer.due()) await slicer.pause();
    return Buffer.concat(parts);
  }

  /**
   * The message's bytes at once, when no list or bytes field in it is long
   * enough to be cut; undefined when it must go through `encode`. For
   * callers that encode many small messages in a loop of their own, where
   * an await per message would cost more than the encode.
   */
  encodeWhole(desc: DescMessage, message: unknown): Uint8Array | undefined {
    const codec = this.codecOf(desc.typeName);
    if (codec === undefined) throw new Error(`no codec for ${desc.typeName}`);
    return this.#hasLongList(desc, message as Fields, 0) ? undefined : encodeMessage(codec, message);
  }

  /** Whether some list within `message` is long enough to be cut, or some bytes field large enough to be kept out of the writer. */
  #hasLongList(desc: DescMessage, message: Fields, depth: number): boolean {
    if (depth > 32) return false;
    for (const field of desc.fields) {
      const v = message[field.localName];
      if (v === undefined || v === null) continue;
      if (this.#isLargeBytes(field, v)) return true;
      if (field.fieldKind === "list") {
        const list = v as unknown[];
        if (list.length > this.options.inlineElements) return true;
        if (field.listKind === "message" && this.codecOf(field.message.typeName) !== undefined)
          for (const item of list)
            if (this.#hasLongList(field.message, item as Fields, depth + 1)) return true;
      } else if (field.fieldKind === "message" && this.codecOf(field.message.typeName) !== undefined) {
        if (this.#hasLongList(field.message, v as Fields, depth + 1)) return true;
      }
    }
    return false;
  }

  #isLargeBytes(field: DescField, v: unknown): v is Uint8Array {
    return (
      field.fieldKind === "scalar" &&
      field.scalar === ScalarType.BYTES &&
      (v as Uint8Array).length > this.options.inlineElements * 16
    );
  }

  async #message(
    desc: DescMessage,
    codec: EncodingCodec,
    message: Fields,
    parts: Uint8Array[],
    slicer: TimeSlicer,
  ): Promise<void> {
    if (!this.#hasLongList(desc, message, 0)) {
      parts.push(encodeMessage(codec, message));
      await slicer.tick();
      return;
    }
    const rest: Fields = { ...message };
    const later: [DescField, unknown][] = [];
    for (const field of desc.fields) {
      const v = message[field.localName];
      if (v === undefined || v === null) continue;
      const cut =
        this.#isLargeBytes(field, v) ||
        (field.fieldKind === "list" &&
          ((v as unknown[]).length > this.options.inlineElements ||
            (field.listKind === "message" && this.codecOf(field.message.typeName) !== undefined))) ||
        (field.fieldKind === "message" && this.codecOf(field.message.typeName) !== undefined);
      if (!cut) continue;
      later.push([field, v]);
      rest[field.localName] = field.fieldKind === "list" ? [] : undefined;
      if (this.#isLargeBytes(field, v) && !field.proto.proto3Optional && field.oneof === undefined)
        rest[field.localName] = new Uint8Array();
    }
    parts.push(encodeMessage(codec, rest));
    for (const [field, v] of later) {
      if (this.#isLargeBytes(field, v)) {
        // Written as it is: the generated writer would copy it once per level of nesting.
        parts.push(
          new BinaryWriter().tag(field.number, WireType.LengthDelimited).uint32(v.length).finish(),
          v,
        );
      } else if (field.fieldKind === "message") {
        await this.#framed(field, field.message, v as Fields, parts, slicer);
      } else if (field.fieldKind === "list" && field.listKind === "message") {
        for (const item of v as Fields[]) await this.#framed(field, field.message, item, parts, slicer);
      } else {
        // A long list of scalars: packed numbers as shorter packed runs; strings and bytes are one occurrence each anyway.
        const list = v as unknown[];
        for (let at = 0; at < list.length; at += this.options.inlineElements) {
          const run = codec.fromPartial({} as never) as Fields;
          run[field.localName] = list.slice(at, at + this.options.inlineElements);
          parts.push(encodeMessage(codec, run));
          await slicer.tick();
        }
      }
    }
  }

  /** One occurrence of a message field: tag, length, then the sub-message's own parts. */
  async #framed(
    field: DescField,
    desc: DescMessage,
    message: Fields,
    parts: Uint8Array[],
    slicer: TimeSlicer,
  ): Promise<void> {
    const codec = this.codecOf(desc.typeName) as EncodingCodec;
    const inner: Uint8Array[] = [];
    await this.#message(desc, codec, message, inner, slicer);
    let length = 0;
    for (const p of inner) length += p.length;
    parts.push(new BinaryWriter().tag(field.number, WireType.LengthDelimited).uint32(length).finish());
    for (const p of inner) parts.push(p);
  }
}
