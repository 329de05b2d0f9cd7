import type { commonV1 } from "@prescient/contracts";
import fc from "fast-check";

/** Values as the cache may answer them, for the client decoders' property tests. */
const tensor = fc.record({
  name: fc.constantFrom("probability", "score", "", "ünï"),
  datatype: fc.constantFrom("FP32", "INT64", ""),
  shape: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 3 }),
  data: fc.array(fc.double(), { maxLength: 4 }),
});

export const value: fc.Arbitrary<commonV1.Value> = fc.oneof(
  fc.record({
    tensors: fc.record({ tensors: fc.array(tensor, { maxLength: 3 }) }),
    contentType: fc.constant(""),
  }),
  fc.record({
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((j) => Buffer.from(JSON.stringify(j))),
    ),
    contentType: fc.constantFrom("application/json", "application/problem+json", "image/png", ""),
  }),
  // Neither tensors nor payload (a miss, in a values-only answer).
  fc.constantFrom<commonV1.Value>({ contentType: "" }, { contentType: "application/json" }),
);
