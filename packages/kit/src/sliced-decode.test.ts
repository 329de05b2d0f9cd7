import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { cacheV1, executorV1 } from "@prescient/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContractTypes } from "./contract-types.js";
import { messagesWithCodec, prng, randomWire, withoutStopTags } from "./random-wire.test-util.js";
import { SlicedDecoder } from "./sliced-decode.js";

const types = ContractTypes.fromFile();
const withCodec = messagesWithCodec(types);

describe("SlicedDecoder", () => {
  it("finds a generated codec for every message type of the services", () => {
    const missing = [...types.registry]
      .filter((d): d is DescMessage => d.kind === "message" && d.typeName.startsWith("prescient."))
      .filter((d) => types.codecOf(d.typeName) === undefined)
      .map((d) => d.typeName);
    expect(missing).toEqual([]);
    expect(withCodec.length).toBeGreaterThan(100);
  });

  it("decodes exactly what the generated code decodes, for every message type, cut as finely as it can be", async () => {
    // 16-byte slices: nearly every sub-message and packed run takes the sliced path.
    const decoder = new SlicedDecoder(types.codecOf, { inlineBytes: 16, sliceMs: 0 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: withCodec.length - 1 }), fc.integer(), async (t, seed) => {
        const desc = withCodec[t] as DescMessage;
        const bytes = randomWire(desc, prng(seed));
        const codec = types.codecOf(desc.typeName);
        let expected: unknown;
        try {
          expected = codec?.decode(bytes);
        } catch {
          await expect(decoder.decode(desc, bytes)).rejects.toThrow();
          return;
        }
        expect(await decoder.decode(desc, bytes)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with the generated code on mutated and truncated bytes that both decode, and never hangs on the rest", async () => {
    const decoder = new SlicedDecoder(types.codecOf, { inlineBytes: 16, sliceMs: 0 });
    const desc = types.message("prescient.cache.v1.PutManyRequest") as DescMessage;
    let wellFormed = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.nat(), fc.nat(255), async (seed, at, byte) => {
        const bytes = randomWire(desc, prng(seed));
        if (bytes.length === 0) return;
        const mutated = Uint8Array.from(bytes);
        mutated[at % bytes.length] = byte;
        for (const b of [mutated, bytes.subarray(0, at % bytes.length)]) {
          const sliced = decoder.decode(desc, b).then(
            (value) => ({ value }),
            () => undefined,
          );
          // Garbage is garbage to both decoders, each in its own way: the generated code reads on past a
          // sub-message's end or a zero tag, misaligned, where the sliced one stops at the boundary.
          let expected: unknown;
          try {
            fromBinary(desc, b);
            expected = cacheV1.PutManyRequest.decode(b);
            if (!withoutStopTags(desc, b)) throw new Error("a stop tag");
          } catch {
            await sliced;
            continue;
          }
          if ((await sliced) === undefined) continue;
          wellFormed++;
          expect(await sliced).toEqual({ value: expected });
        }
      }),
      { numRuns: 500 },
    );
    expect(wellFormed).toBeGreaterThan(50);
  });

  it("yields to the event loop while it decodes a large request", async () => {
    const request = executorV1.EnqueueManyRequest.encode({
      tasks: Array.from({ length: 1000 }, (_, i) => ({
        key: { tenant: "t", taskType: "ctr_prediction", entityId: `e-${i}` },
        priority: 1,
        reason: 1,
        features: Object.fromEntries(
          Array.from({ length: 64 }, (_, j) => [`f${j}`, { text: "x".repeat(40) }]),
        ),
      })),
    }).finish();
    const desc = types.requestOf("/prescient.executor.v1.ExecutorService/EnqueueMany") as DescMessage;
    const decoder = new SlicedDecoder(types.codecOf, { sliceMs: 2 });
    expect(decoder.isInline(request)).toBe(false);
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const decoded = await decoder.decode(desc, request);
    clearInterval(timer);
    expect(decoded).toEqual(executorV1.EnqueueManyRequest.decode(request));
    expect(turns).toBeGreaterThan(1);
  });

  it("cuts a long packed run into runs that end on element boundaries", async () => {
    const data = Array.from({ length: 50_000 }, (_, i) => i * 0.5);
    const shape = Array.from({ length: 50_000 }, (_, i) => BigInt(i) ** 3n);
    const bytes = cacheV1.PutRequest.encode({
      entry: {
        key: { tenant: "t", taskType: "x", entityId: "e" },
        value: { tensors: { tensors: [{ name: "p", datatype: "FP64", shape, data }] }, contentType: "" },
        modelName: "m",
        modelVersion: "1",
        computeMs: 0,
        inputDigest: "",
        tags: [],
      },
    }).finish();
    const decoder = new SlicedDecoder(types.codecOf, { inlineBytes: 1000 });
    const desc = types.requestOf("/prescient.cache.v1.CacheService/Put") as DescMessage;
    expect(await decoder.decode(desc, bytes)).toEqual(cacheV1.PutRequest.decode(bytes));
  });
});
