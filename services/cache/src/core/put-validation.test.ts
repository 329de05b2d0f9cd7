import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { entry, key } from "./core.test-util.js";
import { putLimits, validatePutEntry } from "./put-validation.js";

const registry = loadTaskTypes(defaultTaskTypesPath);
const now = Date.parse("2026-01-01T00:00:00Z");
const withShape = (shape: bigint[], data: number[]) =>
  entry(key("e1"), {
    value: { tensors: { tensors: [{ name: "p", datatype: "FP32", shape, data }] }, contentType: "" },
  });

describe("put validation: bounded work on tensor shapes", () => {
  it("accepts a shape that holds exactly its values, zero-sized ones included", () => {
    expect(() =>
      validatePutEntry(registry, withShape([2n, 3n], [1, 2, 3, 4, 5, 6]), now, "entry"),
    ).not.toThrow();
    expect(() => validatePutEntry(registry, withShape([4n, 0n], []), now, "entry")).not.toThrow();
  });

  it("refuses in milliseconds a shape of 100,000 huge dimensions, without quoting it", () => {
    const began = performance.now();
    const e = (() => {
      try {
        validatePutEntry(registry, withShape(Array(100_000).fill(2n ** 63n - 1n), [1]), now, "entry");
      } catch (x) {
        return x as Error;
      }
      return undefined;
    })();
    expect(performance.now() - began).toBeLessThan(250);
    expect(e?.message).toMatch(/rank 100000; the limit is 32/);
    expect(e?.message.length).toBeLessThan(300);
  });

  it("refuses huge dimensions within the rank limit quickly, and mismatches and negatives", () => {
    const began = performance.now();
    expect(() =>
      validatePutEntry(registry, withShape(Array(putLimits.maxRank).fill(2n ** 63n - 1n), [1]), now, "entry"),
    ).toThrow(/has shape of rank 32 but 1 values/);
    expect(performance.now() - began).toBeLessThan(250);
    expect(() => validatePutEntry(registry, withShape([2n, 2n], [1, 2, 3]), now, "entry")).toThrow(
      /has shape \[2, 2\] but 3 values/,
    );
    expect(() => validatePutEntry(registry, withShape([-1n, -1n], [1]), now, "entry")).toThrow(
      /negative dimension/,
    );
  });
});
