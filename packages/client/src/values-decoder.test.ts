import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { cacheV1 } from "@prescient/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeValue } from "./values.js";
import { decodeLookupValues } from "./values-decoder.js";
import { expectEveryTruncationRefused, value } from "./wire-values.test-util.js";

/** What lookupValues answered before it had its own decoder: the generated decoder, then decodeValue. */
function reference(bytes: Uint8Array) {
  const r = cacheV1.LookupManyResponse.decode(bytes);
  return {
    values: r.values.map((v) =>
      v.tensors === undefined && v.payload === undefined ? undefined : decodeValue(v),
    ),
    results: r.results.length,
  };
}

describe("decodeLookupValues", () => {
  it("decodes every values-only answer as the generated decoder and decodeValue do", () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 8 }), (values) => {
        const bytes = cacheV1.LookupManyResponse.encode({ results: [], values, expiresAtMs: [] }).finish();
        expect(decodeLookupValues(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("reads shape and data unpacked too, skips unknown fields, and counts full results", () => {
    const w = new BinaryWriter();
    // results (field 1): a cache that ignored values_only.
    w.uint32((1 << 3) | 2).bytes(
      cacheV1.LookupResponse.encode({ hit: true } as cacheV1.LookupResponse).finish(),
    );
    const t = new BinaryWriter();
    t.uint32((1 << 3) | 2).string("p");
    t.uint32((3 << 3) | 0).int64(2n);
    t.uint32((3 << 3) | 0).int64(-1n);
    t.uint32((4 << 3) | 1).double(0.25);
    t.uint32((4 << 3) | 1).double(0.5);
    t.uint32((9 << 3) | 0).int32(7); // a field from a later version
    const tensors = new BinaryWriter()
      .uint32((1 << 3) | 2)
      .bytes(t.finish())
      .finish();
    const v = new BinaryWriter()
      .uint32((1 << 3) | 2)
      .bytes(tensors)
      .uint32((7 << 3) | 5)
      .fixed32(1)
      .finish();
    w.uint32((2 << 3) | 2).bytes(v);
    const bytes = w.finish();
    const answer = decodeLookupValues(bytes);
    expect(answer).toEqual(reference(bytes));
    expect(answer.results).toBe(1);
    expect(answer.values).toEqual([
      { kind: "tensors", tensors: { p: { datatype: "", shape: [2, -1], data: [0.25, 0.5] } } },
    ]);
  });

  it("refuses a truncated answer with an InternalError rather than a wrong value", () => {
    const bytes = cacheV1.LookupManyResponse.encode({
      results: [],
      values: [{ payload: Buffer.from('{"a":1}'), contentType: "application/json" }],
      expiresAtMs: [],
    }).finish();
    expectEveryTruncationRefused(decodeLookupValues, bytes);
  });
});
