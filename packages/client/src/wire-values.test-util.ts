import type { commonV1 } from "@prescient/contracts";
import { InternalError } from "@prescient/core";
import fc from "fast-check";
import { expect } from "vitest";

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

/** Every cut of an answer short of its end is an InternalError from `decode`, never a wrong answer. */
export function expectEveryTruncationRefused(
  decode: (bytes: Uint8Array) => unknown,
  bytes: Uint8Array,
): void {
  for (let cut = 1; cut < bytes.length; cut++) {
    let error: unknown;
    try {
      decode(bytes.subarray(0, cut));
    } catch (e) {
      error = e;
    }
    expect(error, `cut at ${cut}`).toBeInstanceOf(InternalError);
  }
}
