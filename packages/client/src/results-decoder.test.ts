import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { cacheV1, type commonV1 } from "@prescient/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LookupResult, lookupResult } from "./client.js";
import { decodeLookupResults } from "./results-decoder.js";
import { expectEveryTruncationRefused, value } from "./wire-values.test-util.js";

/** What lookupMany answered before it had its own decoder: the generated decoder, then lookupResult. */
function reference(bytes: Uint8Array) {
  const r = cacheV1.LookupManyResponse.decode(bytes);
  return { results: r.results.map(lookupResult), values: r.values.length };
}

/** Every field of a LookupResult, `raw` included (a getter on the decoder's results). */
const plain = (r: LookupResult): LookupResult => ({
  key: r.key,
  outcome: r.outcome,
  value: r.value,
  computedAt: r.computedAt,
  expiresAt: r.expiresAt,
  computed: r.computed,
  taskId: r.taskId,
  raw: r.raw,
});

// Dates a Timestamp can name (about ±3,000 years), to the millisecond and below it.
const date = fc
  .tuple(fc.integer({ min: -1e11, max: 1e11 }), fc.integer({ min: 0, max: 999_999_999 }))
  .map(([s, ns]) => new Date(s * 1000 + ns / 1e6));

const result: fc.Arbitrary<commonV1.Result> = fc.record(
  {
    value,
    modelName: fc.constantFrom("", "ctr_prediction"),
    modelVersion: fc.constantFrom("", "1", "17"),
    computedAt: date,
    expiresAt: date,
    computeMs: fc.double({ noNaN: true }),
    inputDigest: fc.constantFrom("", "ab12"),
    tags: fc.array(fc.constantFrom("a", "campaign:7"), { maxLength: 2 }),
  },
  { requiredKeys: ["modelName", "modelVersion", "computeMs", "inputDigest", "tags"] },
);

const response: fc.Arbitrary<cacheV1.LookupResponse> = fc.record(
  {
    key: fc.constantFrom("", "acme/ctr_prediction/ad-1", "acme/ctr_prediction/ünï"),
    hit: fc.boolean(),
    result,
    stale: fc.boolean(),
    refreshDue: fc.boolean(),
    degraded: fc.boolean(),
    computed: fc.boolean(),
    taskId: fc.constantFrom("", "t-42"),
  },
  { requiredKeys: ["key", "hit", "stale", "refreshDue", "degraded", "computed", "taskId"] },
);

describe("decodeLookupResults", () => {
  it("decodes every LookupMany answer as the generated decoder and lookupResult do", () => {
    fc.assert(
      fc.property(
        fc.array(response, { maxLength: 6 }),
        fc.array(value, { maxLength: 2 }),
        (results, values) => {
          const bytes = cacheV1.LookupManyResponse.encode({ results, values, expiresAtMs: [] }).finish();
          const expected = reference(bytes);
          const answer = decodeLookupResults(bytes);
          expect(answer.values).toBe(expected.values);
          expect(answer.results.map(plain)).toEqual(expected.results);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("keeps a miss's result out, and decodes the stored result for raw only when it is read", () => {
    const stored: commonV1.Result = {
      value: { payload: Buffer.from('{"p":0.25}'), contentType: "application/json" },
      modelName: "ctr_prediction",
      modelVersion: "3",
      computedAt: new Date(1_700_000_000_123),
      expiresAt: new Date(1_700_000_600_123),
      computeMs: 4,
      inputDigest: "",
      tags: ["campaign:7"],
    };
    const base = { key: "acme/ctr_prediction/ad-1", stale: false, refreshDue: false, degraded: false };
    const bytes = cacheV1.LookupManyResponse.encode({
      results: [
        { ...base, hit: true, result: stored, computed: false, taskId: "" },
        { ...base, hit: false, result: stored, computed: false, taskId: "t-1" },
      ],
      values: [],
      expiresAtMs: [],
    }).finish();
    const [hit, miss] = decodeLookupResults(bytes).results;
    expect(hit?.value).toEqual({ kind: "json", json: { p: 0.25 } });
    expect(hit?.expiresAt).toEqual(new Date(1_700_000_600_123));
    expect(hit?.raw?.tags).toEqual(["campaign:7"]);
    expect(hit?.raw).toBe(hit?.raw); // decoded once
    // JSON writes what the generated path's plain object writes, key for key.
    const generated = reference(bytes).results[0];
    expect(JSON.stringify(hit)).toBe(JSON.stringify(generated));
    expect(miss).toMatchObject({ outcome: "miss", value: undefined, expiresAt: undefined, taskId: "t-1" });
    expect(miss?.raw).toBeUndefined();
  });

  it("skips unknown fields and reads a Timestamp's fields in any order", () => {
    const ts = new BinaryWriter()
      .uint32((2 << 3) | 0)
      .int32(500_000_000)
      .uint32((1 << 3) | 0)
      .int64(10n)
      .finish();
    const result = new BinaryWriter()
      .uint32((5 << 3) | 2)
      .bytes(ts)
      .uint32((12 << 3) | 5) // a field from a later version
      .fixed32(9)
      .finish();
    const lookup = new BinaryWriter()
      .uint32((2 << 3) | 0)
      .bool(true)
      .uint32((3 << 3) | 2)
      .bytes(result)
      .uint32((11 << 3) | 2)
      .string("later")
      .finish();
    const bytes = new BinaryWriter()
      .uint32((1 << 3) | 2)
      .bytes(lookup)
      .finish();
    const answer = decodeLookupResults(bytes);
    expect(answer.results.map(plain)).toEqual(reference(bytes).results);
    expect(answer.results[0]?.expiresAt).toEqual(new Date(10_500));
  });

  it("refuses a truncated answer with an InternalError rather than a wrong result", () => {
    const bytes = cacheV1.LookupManyResponse.encode({
      results: [
        {
          key: "acme/ctr_prediction/ad-1",
          hit: true,
          result: {
            value: { payload: Buffer.from('{"a":1}'), contentType: "application/json" },
            modelName: "m",
            modelVersion: "1",
            computedAt: new Date(5_000),
            expiresAt: new Date(9_000),
            computeMs: 1,
            inputDigest: "",
            tags: [],
          },
          stale: false,
          refreshDue: false,
          degraded: false,
          computed: false,
          taskId: "",
        },
      ],
      values: [],
      expiresAtMs: [],
    }).finish();
    expectEveryTruncationRefused(decodeLookupResults, bytes);
  });
});
