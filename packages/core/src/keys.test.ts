import { describe, expect, it } from "vitest";
import { canonicalJson, inputDigest } from "./canonical-json.js";
import { isInvalidArgument } from "./errors.js";
import { compileKeyPattern } from "./key-pattern.js";
import { escapeEntityId, formatKey, parseHumanKey, parseKey } from "./keys.js";

const invalid = (f: () => unknown): boolean => {
  try {
    f();
    return false;
  } catch (e) {
    return isInvalidArgument(e);
  }
};

describe("keys", () => {
  it("formats and parses entity keys, escaping ids so they cannot add segments", () => {
    const key = formatKey({ tenant: "acme", taskType: "ctr_prediction", entityId: "ad/../../other*" });
    expect(key).toBe("acme/ctr_prediction/ad%2F..%2F..%2Fother%2A");
    expect(parseKey(key)).toEqual({
      tenant: "acme",
      taskType: "ctr_prediction",
      entityId: "ad/../../other*",
    });
    expect(escapeEntityId("é #?")).toBe("%C3%A9%20%23%3F");
  });

  it("formats digest keys with a '#' that no escaped id can contain", () => {
    const digest = inputDigest({ a: 1 });
    expect(formatKey({ tenant: "t", taskType: "x", digest })).toBe(`t/x/#${digest}`);
    expect(parseKey(`t/x/#${digest}`).digest).toBe(digest);
  });

  it("rejects bad tenants, types and ids", () => {
    expect(invalid(() => formatKey({ tenant: "a/b", taskType: "x", entityId: "e" }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "", taskType: "x", entityId: "e" }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "t", taskType: "X-Y", entityId: "e" }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "t", taskType: "x", entityId: "" }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "t", taskType: "x", entityId: "bad\uFFFD" }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "t", taskType: "x", entityId: "\uD800" }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "t", taskType: "x", entityId: "e".repeat(513) }))).toBe(true);
    expect(invalid(() => formatKey({ tenant: "t", taskType: "x" }))).toBe(true);
    expect(invalid(() => parseKey("t/x/raw/slash"))).toBe(true);
  });

  it("parses the human form literally", () => {
    expect(parseHumanKey("acme/ctr_prediction/a/b")).toEqual({
      tenant: "acme",
      taskType: "ctr_prediction",
      entityId: "a/b",
    });
  });
});

describe("canonical JSON", () => {
  it("ignores key order and number spelling", () => {
    expect(canonicalJson({ b: 1.0, a: [1, -0, "x"] })).toBe('{"a":[1,0,"x"],"b":1}');
    expect(inputDigest({ x: 1, y: { b: 2, a: 1 } })).toBe(inputDigest({ y: { a: 1, b: 2.0 }, x: 1 }));
    expect(inputDigest({ x: 1 })).not.toBe(inputDigest({ x: "1" }));
  });

  it("rejects values JSON cannot hold", () => {
    expect(invalid(() => canonicalJson({ x: Number.NaN }))).toBe(true);
    expect(invalid(() => canonicalJson({ x: 1n }))).toBe(true);
  });
});

describe("key patterns", () => {
  it("matches within one tenant and one segment", () => {
    const p = compileKeyPattern("acme", "ctr_prediction/ad-*");
    expect(p.regex.test("acme/ctr_prediction/ad-1")).toBe(true);
    expect(p.regex.test("acme/roas_prediction/ad-1")).toBe(false);
    expect(p.regex.test("other/ctr_prediction/ad-1")).toBe(false);
    expect(p.literalPrefix).toBe("acme/ctr_prediction/ad-");
  });

  it("escapes literal entity parts, so '/' in a pattern cannot leave the tenant", () => {
    const p = compileKeyPattern("acme", "ctr_prediction/../../other/*");
    expect(p.regex.test("other/ctr_prediction/x")).toBe(false);
    expect(p.regex.test(`acme/ctr_prediction/${escapeEntityId("../../other/")}x`)).toBe(true);
    expect(invalid(() => compileKeyPattern("acme", "../other/*"))).toBe(true);
    expect(invalid(() => compileKeyPattern("acme/x", "*"))).toBe(true);
  });
});
