import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scopedId, tenantOfId } from "./learning-snapshot.js";

describe("scopedId", () => {
  it("is the tenant, NUL and the id, whatever was asked before (its memo never answers for another pair)", () => {
    // A small alphabet: pairs repeat, swap parts and share prefixes, which is where a memo goes wrong.
    const part = fc.constantFrom("", "a", "b", "ab", "user-1", "user-12", "acme");
    fc.assert(
      fc.property(fc.array(fc.tuple(part, part), { maxLength: 60 }), (pairs) => {
        for (const [tenant, id] of pairs) {
          const out = scopedId(tenant, id);
          expect(out).toBe(`${tenant}\u0000${id}`);
          expect(tenantOfId(out)).toBe(tenant);
        }
      }),
      { numRuns: 300 },
    );
  });
});
