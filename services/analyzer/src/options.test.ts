import { loadEnv } from "@prescient/kit";
import { describe, expect, it } from "vitest";
import { analyzerEnvShape, analyzerOptionsFromEnv, resolveOptions } from "./options.js";

describe("analyzer options: store shards", () => {
  it("defaults to one shard, today's key layout", () => {
    expect(resolveOptions().storeShards).toBe(1);
    expect(analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, {}))).not.toHaveProperty("storeShards");
  });

  it("takes PRESCIENT_ANALYZER_SHARDS, and names it when it is wrong", () => {
    expect(
      analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_SHARDS: "4" })).storeShards,
    ).toBe(4);
    for (const bad of ["0", "257", "2.5", "four"])
      expect(() => loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_SHARDS: bad })).toThrow(
        /PRESCIENT_ANALYZER_SHARDS/,
      );
  });

  it("rejects a shard count outside 1 to 256, naming the option", () => {
    for (const bad of [0, 257, 1.5])
      expect(() => resolveOptions({ storeShards: bad })).toThrow(/storeShards/);
  });
});
