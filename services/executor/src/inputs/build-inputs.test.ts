import { parseTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { buildInputs } from "./build-inputs.js";

const types = parseTaskTypes(`
task_types:
  score:
    kind: onnx
    inputs:
      - { tensor: x, datatype: FP32, features: [a, b] }
      - { tensor: flags, datatype: BOOL, features: [c], default: 0 }
    ttl_seconds: 60
`);

describe("buildInputs", () => {
  it("builds row-major tensors and sets bad rows aside with reasons", () => {
    const built = buildInputs(types.get("score"), [
      { a: 1, b: 2, c: 5 },
      { a: 1 },
      undefined,
      { a: 3, b: "oops" },
      { a: 4, b: 5 },
    ]);
    expect(built.rows).toEqual([0, 4]);
    expect(built.tensors).toEqual([
      { name: "x", datatype: "FP32", shape: [2, 2], values: [1, 2, 4, 5] },
      { name: "flags", datatype: "BOOL", shape: [2, 1], values: [1, 0] },
    ]);
    expect(built.failures.map((f) => f.index)).toEqual([1, 2, 3]);
    expect(built.failures[0]?.reason).toMatch(/feature b is missing/);
    expect(built.failures[2]?.reason).toMatch(/not a number/);
  });
});
