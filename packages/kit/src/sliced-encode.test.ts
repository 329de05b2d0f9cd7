import type { DescMessage } from "@bufbuild/protobuf";
import { commonV1 } from "@prescient/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContractTypes } from "./contract-types.js";
import { messagesWithCodec, prng, randomWire } from "./random-wire.test-util.js";
import { encodeMessage, SlicedEncoder } from "./sliced-encode.js";

const types = ContractTypes.fromFile();
const withCodec = messagesWithCodec(types);

describe("SlicedEncoder", () => {
  it("encodes bytes that decode to the same message, for every message type, cut as finely as it can be", async () => {
    // Lists of more than 2 elements are cut: nearly every list takes the sliced path.
    const encoder = new SlicedEncoder(types.codecOf, { inlineElements: 2, sliceMs: 0 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: withCodec.length - 1 }), fc.integer(), async (t, seed) => {
        const desc = withCodec[t] as DescMessage;
        const codec = types.codecOf(desc.typeName);
        let message: unknown;
        try {
          message = codec?.decode(randomWire(desc, prng(seed)));
        } catch {
          return;
        }
        try {
          codec?.encode(message as never);
        } catch {
          // Random seconds make Dates that the generated code cannot encode either.
          await expect(encoder.encode(desc, message)).rejects.toThrow();
          return;
        }
        const bytes = await encoder.encode(desc, message);
        expect(codec?.decode(bytes)).toEqual(message);
      }),
      { numRuns: 2000 },
    );
  });

  it("writes a small message exactly as the generated code does", async () => {
    const result = {
      modelName: "m",
      computeMs: 3,
      tags: ["a"],
      value: {
        tensors: { tensors: [{ name: "p", datatype: "FP32", shape: [2n], data: [1, 2] }] },
        contentType: "",
      },
    };
    const desc = types.message("prescient.common.v1.Result") as DescMessage;
    const bytes = await new SlicedEncoder(types.codecOf).encode(desc, commonV1.Result.fromPartial(result));
    expect(Buffer.from(bytes)).toEqual(
      Buffer.from(commonV1.Result.encode(commonV1.Result.fromPartial(result)).finish()),
    );
  });

  it("reuses its writer without one message's bytes showing in another's", () => {
    const small = (i: number) =>
      commonV1.Result.fromPartial({ modelName: `m${i}`, computeMs: i, inputDigest: "d".repeat(i % 70) });
    const generated = (m: commonV1.Result) => Buffer.from(commonV1.Result.encode(m).finish());
    const first = encodeMessage(commonV1.Result, small(1));
    const later = Array.from({ length: 50 }, (_, i) => encodeMessage(commonV1.Result, small(i + 2)));
    // Large enough that the writer is replaced afterwards, and a small one after it.
    const big = commonV1.Result.fromPartial({ modelName: "x".repeat(100_000) });
    expect(Buffer.from(encodeMessage(commonV1.Result, big))).toEqual(generated(big));
    expect(Buffer.from(first)).toEqual(generated(small(1)));
    for (const [i, bytes] of later.entries()) expect(Buffer.from(bytes)).toEqual(generated(small(i + 2)));
    expect(Buffer.from(encodeMessage(commonV1.Result, small(3)))).toEqual(generated(small(3)));
  });

  it("encodes a small message whole at once, and leaves one with a long list to the sliced path", () => {
    const desc = types.message("prescient.common.v1.Result") as DescMessage;
    const encoder = new SlicedEncoder(types.codecOf, { inlineElements: 4 });
    const tensor = (n: number) =>
      commonV1.Result.fromPartial({
        modelName: "m",
        value: {
          tensors: {
            tensors: [{ name: "p", datatype: "FP32", shape: [BigInt(n)], data: Array(n).fill(0.5) }],
          },
        },
      });
    expect(Buffer.from(encoder.encodeWhole(desc, tensor(4)) as Uint8Array)).toEqual(
      Buffer.from(commonV1.Result.encode(tensor(4)).finish()),
    );
    expect(encoder.encodeWhole(desc, tensor(5))).toBeUndefined();
    expect(
      encoder.encodeWhole(desc, { ...tensor(1), value: { payload: Buffer.alloc(4 * 16 + 1) } }),
    ).toBeUndefined();
  });

  it("starts clean after an encode that threw half-way", () => {
    // A Date beyond what a Timestamp holds throws in the generated code after the fields before it are written.
    const bad = { ...commonV1.Result.fromPartial({ modelName: "before" }), computedAt: new Date(8.64e15) };
    bad.computedAt.setTime(Number.NaN);
    expect(() => commonV1.Result.encode(bad).finish()).toThrow();
    expect(() => encodeMessage(commonV1.Result, bad)).toThrow();
    const good = commonV1.Result.fromPartial({ modelName: "after", computeMs: 2 });
    expect(Buffer.from(encodeMessage(commonV1.Result, good))).toEqual(
      Buffer.from(commonV1.Result.encode(good).finish()),
    );
  });

  it("yields to the event loop while it encodes a two-million-value tensor", async () => {
    const data = Array.from({ length: 2_000_000 }, (_, i) => i / 7);
    const result = commonV1.Result.fromPartial({
      modelName: "m",
      value: { tensors: { tensors: [{ name: "p", datatype: "FP64", shape: [2_000_000n], data }] } },
    });
    const desc = types.message("prescient.common.v1.Result") as DescMessage;
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const bytes = await new SlicedEncoder(types.codecOf, { sliceMs: 2 }).encode(desc, result);
    clearInterval(timer);
    expect(turns).toBeGreaterThan(1);
    expect(commonV1.Result.decode(bytes)).toEqual(result);
  });
});
