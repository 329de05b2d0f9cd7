import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, inputDigest } from "./canonical-json.js";
import { isInvalidArgument } from "./errors.js";
import { compileKeyPattern } from "./key-pattern.js";
import { escapeEntityId, formatKey, parseHumanKey, parseKey, validateKey } from "./keys.js";

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

describe("validateKey", () => {
  const verdict = (f: () => unknown): string => {
    try {
      f();
      return "ok";
    } catch (e) {
      return isInvalidArgument(e) ? `invalid: ${(e as Error).message}` : `threw ${String(e)}`;
    }
  };
  // Pieces that sit near every rule: separators, escapes, digests, lengths at and past the limits.
  const piece = fc.oneof(
    fc.constantFrom(
      "/",
      "%",
      "%2F",
      "%E",
      "%C3%A9",
      "#",
      "~",
      ".",
      "_",
      "-",
      "é",
      "\uFFFD",
      "\uD800",
      "A",
      "a",
      "0",
      "_x",
    ),
    fc.constantFrom(
      "a".repeat(64),
      "a".repeat(65),
      "b".repeat(512),
      "b".repeat(513),
      "0".repeat(64),
      "f".repeat(64),
    ),
    fc.string({ maxLength: 6 }),
  );
  const keyLike = fc.array(piece, { maxLength: 8 }).map((p) => p.join(""));
  // A valid tenant and task type (mostly) before an entity built of the same pieces.
  const nearValid = fc
    .tuple(
      fc.constantFrom("acme", "a", "A.b-c_d", "t".repeat(64), "-x", ""),
      fc.constantFrom("ctr_prediction", "a", "a1_b", "a".repeat(64), "A", "1a"),
      keyLike,
    )
    .map((t) => t.join("/"));

  it("accepts and refuses exactly the keys parseKey does, with the same message", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          keyLike,
          fc.tuple(keyLike, keyLike, keyLike).map((t) => t.join("/")),
          nearValid,
        ),
        (key) => {
          expect(verdict(() => validateKey(key))).toBe(verdict(() => parseKey(key)));
        },
      ),
      { numRuns: 5000 },
    );
    for (const key of [
      "acme/ctr_prediction/ad-1",
      `${"t".repeat(64)}/${"a".repeat(64)}/${"e".repeat(512)}`,
      `${"t".repeat(65)}/a/e`,
      `t/${"a".repeat(65)}/e`,
      `t/a/${"e".repeat(513)}`,
      "t/a/e%2Fx",
      `t/a/#${"0".repeat(64)}`,
      "t/a/",
      "/a/e",
      "t//e",
      "t/A/e",
      "t/a1/e",
      "t/1a/e",
      ".t/a/e",
      "t./a/e",
      "t/a/e/f",
      "t/a/e f",
      "t/a/%E",
      "t/a/%ZZ",
      "t/a/%C3%A9",
      "t/a/%ED%A0%80",
      "t/a/%EF%BF%BD",
      "t/a/~",
    ])
      expect(
        verdict(() => validateKey(key)),
        key,
      ).toBe(verdict(() => parseKey(key)));
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
