import type { inference } from "@prescient/contracts";

/**
 * Little-endian raw tensor encoding of the Open Inference Protocol, for the
 * numeric datatypes task types use. Numbers travel as doubles in results, so
 * decoding always yields plain numbers.
 */
const readers = {
  BOOL: {
    bytes: 1,
    read: (b: Buffer, o: number) => b.readUInt8(o),
    write: (b: Buffer, v: number, o: number) => b.writeUInt8(v ? 1 : 0, o),
  },
  INT32: {
    bytes: 4,
    read: (b: Buffer, o: number) => b.readInt32LE(o),
    write: (b: Buffer, v: number, o: number) => b.writeInt32LE(v, o),
  },
  INT64: {
    bytes: 8,
    read: (b: Buffer, o: number) => Number(b.readBigInt64LE(o)),
    write: (b: Buffer, v: number, o: number) => b.writeBigInt64LE(BigInt(v), o),
  },
  FP32: {
    bytes: 4,
    read: (b: Buffer, o: number) => b.readFloatLE(o),
    write: (b: Buffer, v: number, o: number) => b.writeFloatLE(v, o),
  },
  FP64: {
    bytes: 8,
    read: (b: Buffer, o: number) => b.readDoubleLE(o),
    write: (b: Buffer, v: number, o: number) => b.writeDoubleLE(v, o),
  },
} as const;

export type NumericDatatype = keyof typeof readers;

export function encodeRaw(datatype: NumericDatatype, values: readonly number[]): Buffer {
  const codec = readers[datatype];
  const out = Buffer.allocUnsafe(values.length * codec.bytes);
  for (let i = 0; i < values.length; i++) codec.write(out, values[i] as number, i * codec.bytes);
  return out;
}

/** Decodes one output tensor from raw bytes or typed contents into numbers. */
export function decodeOutput(
  tensor: inference.ModelInferResponse_InferOutputTensor,
  raw: Buffer | undefined,
): number[] {
  if (raw !== undefined) {
    const codec = readers[tensor.datatype as NumericDatatype];
    if (codec === undefined)
      throw new Error(`output ${tensor.name} has datatype ${tensor.datatype}, which results cannot hold`);
    const out = new Array<number>(raw.length / codec.bytes);
    for (let i = 0; i < out.length; i++) out[i] = codec.read(raw, i * codec.bytes);
    return out;
  }
  const c = tensor.contents;
  if (c === undefined) return [];
  if (c.fp32Contents.length > 0) return c.fp32Contents;
  if (c.fp64Contents.length > 0) return c.fp64Contents;
  if (c.intContents.length > 0) return c.intContents;
  if (c.int64Contents.length > 0) return c.int64Contents.map(Number);
  if (c.uintContents.length > 0) return c.uintContents;
  if (c.uint64Contents.length > 0) return c.uint64Contents.map(Number);
  if (c.boolContents.length > 0) return c.boolContents.map((b) => (b ? 1 : 0));
  return [];
}
