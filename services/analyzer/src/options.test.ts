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

describe("analyzer options: least time between retraining rounds", () => {
  it("defaults to 10 s, and PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS sets it (0: unbounded)", () => {
    expect(resolveOptions().retrainMinIntervalMs).toBe(10_000);
    expect(analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, {}))).not.toHaveProperty("retrainMinIntervalMs");
    for (const [raw, ms] of [
      ["2500", 2500],
      ["0", 0],
    ] as const)
      expect(
        resolveOptions(
          analyzerOptionsFromEnv(
            loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS: raw }),
          ),
        ).retrainMinIntervalMs,
      ).toBe(ms);
  });

  it("refuses a bad value at start-up, naming the variable or the option", () => {
    for (const bad of ["-1", "86400001", "1.5", "soon"])
      expect(() => loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS: bad })).toThrow(
        /PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS/,
      );
    for (const bad of [-1, 1.5, Number.NaN, 86_400_001])
      expect(() => resolveOptions({ retrainMinIntervalMs: bad })).toThrow(/retrainMinIntervalMs/);
  });
  it("takes PRESCIENT_ANALYZER_ADVERTISE_ADDR only with REDIS_URL, naming the variable", () => {
    const env = { PRESCIENT_ANALYZER_ADVERTISE_ADDR: "10.0.0.7:50051", REDIS_URL: "redis://127.0.0.1:6379" };
    expect(analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, env)).advertiseAddress).toBe("10.0.0.7:50051");
    expect(() =>
      analyzerOptionsFromEnv(
        loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_ADVERTISE_ADDR: "10.0.0.7:50051" }),
      ),
    ).toThrow(/PRESCIENT_ANALYZER_ADVERTISE_ADDR needs REDIS_URL/);
    expect(() => loadEnv(analyzerEnvShape, { ...env, PRESCIENT_ANALYZER_ADVERTISE_ADDR: "no port" })).toThrow(
      /PRESCIENT_ANALYZER_ADVERTISE_ADDR/,
    );
    expect(() => resolveOptions({ advertiseAddress: "10.0.0.7:50051" })).toThrow(/needs a Redis store/);
  });
});

describe("analyzer options: key demand half-life", () => {
  it("defaults to 1 hour, as demand, and PRESCIENT_ANALYZER_KEY_HALF_LIFE_S sets it apart", () => {
    const defaults = analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, {}));
    expect(defaults).toMatchObject({ keyHalfLifeMs: 3_600_000, demandHalfLifeMs: 3_600_000 });
    expect(
      analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_KEY_HALF_LIFE_S: "21600" }))
        .keyHalfLifeMs,
    ).toBe(21_600_000);
  });

  it("refuses a bad value at start-up, naming the variable", () => {
    for (const bad of ["0", "-5", "1.5", "31536001", "slow"])
      expect(() => loadEnv(analyzerEnvShape, { PRESCIENT_ANALYZER_KEY_HALF_LIFE_S: bad })).toThrow(
        /PRESCIENT_ANALYZER_KEY_HALF_LIFE_S/,
      );
  });
});
