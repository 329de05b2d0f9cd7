import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalJson, inputDigest } from "./canonical-json.js";
import { isInvalidArgument } from "./errors.js";

/**
 * The RFC 8785 vectors shared with the Python client (clients/python/tests):
 * both languages must write the same canonical text and digest for each.
 */
interface Vectors {
  vectors: { name: string; input: unknown; canonical: string; digest: string }[];
  invalid: { name: string; input: unknown }[];
}

const file = new URL("../test-vectors/canonical-json.json", import.meta.url);
const { vectors, invalid } = JSON.parse(readFileSync(file, "utf8")) as Vectors;

describe("canonical JSON (RFC 8785) against the shared vectors", () => {
  it("has the RFC's examples among enough vectors", () => {
    const names = vectors.map((v) => v.name);
    expect(names).toContain("rfc8785 3.2.2: numbers, string escapes and literals");
    expect(names).toContain("rfc8785 3.2.3: property sorting by UTF-16 code units");
    expect(names.filter((n) => n.startsWith("rfc8785 appendix B"))).toHaveLength(24);
    expect(new Set(names).size).toBe(names.length);
    expect(invalid.length).toBeGreaterThanOrEqual(3);
  });

  it.each(vectors)("$name", ({ input, canonical, digest }) => {
    expect(canonicalJson(input)).toBe(canonical);
    expect(inputDigest(input)).toBe(digest);
    // The digest is of the UTF-8 text, whatever the file says.
    expect(createHash("sha256").update(Buffer.from(canonical, "utf8")).digest("hex")).toBe(digest);
  });

  it.each(invalid)("rejects $name", ({ input }) => {
    let error: unknown;
    try {
      canonicalJson(input);
    } catch (e) {
      error = e;
    }
    expect(isInvalidArgument(error)).toBe(true);
  });
});
