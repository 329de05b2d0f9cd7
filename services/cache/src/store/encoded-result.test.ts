import { commonV1 } from "@prescient/contracts";
import { describe, expect, it } from "vitest";
import { EncodedResult, peekFreshness } from "./encoded-result.js";

const result = (over: Partial<commonV1.Result> = {}): commonV1.Result => ({
  value: { payload: Buffer.from("hello"), contentType: "text/plain" },
  modelName: "m",
  modelVersion: "7",
  computedAt: new Date(1_700_000_000_123),
  expiresAt: new Date(1_700_021_600_456),
  computeMs: 12.75,
  inputDigest: "ab".repeat(32),
  tags: ["x", "y"],
  ...over,
});

const bytes = (r: commonV1.Result): Uint8Array => commonV1.Result.encode(r).finish();

describe("encoded results", () => {
  it.each([
    ["a full result", result()],
    ["no expiry and no compute time", result({ expiresAt: undefined, computeMs: 0 })],
    ["an expiry before 1970", result({ expiresAt: new Date(-86_400_500) })],
    ["an expiry far ahead", result({ expiresAt: new Date(Date.UTC(2400, 0, 1, 0, 0, 0, 999)) })],
  ])("peeks expires_at and compute_ms exactly as a full decode reads them: %s", (_, r) => {
    const full = commonV1.Result.decode(bytes(r));
    const peek = peekFreshness(bytes(r));
    expect(peek.expiresAtMs).toBe(full.expiresAt?.getTime());
    expect(peek.computeMs).toBe(full.computeMs);
  });

  it("decodes every other field lazily and identically", () => {
    const r = result();
    const lazy = new EncodedResult(bytes(r));
    expect(lazy.expiresAt).toEqual(r.expiresAt);
    expect(lazy.computeMs).toBe(12.75);
    expect(commonV1.Result.decode(commonV1.Result.encode(lazy).finish())).toEqual(
      commonV1.Result.decode(bytes(r)),
    );
    expect(lazy.tags).toEqual(["x", "y"]);
  });

  it("rejects truncated bytes", () => {
    const b = bytes(result());
    expect(() => peekFreshness(b.subarray(0, b.length - 1))).toThrow(RangeError);
  });
});
