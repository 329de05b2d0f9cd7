import { describe, expect, it } from "vitest";
import { resolveCacheOptions } from "./options.js";

describe("cache options from env", () => {
  it("applies the Redis store's bounds and near cache, defaults where unset", () => {
    const defaults = resolveCacheOptions({ env: {} });
    expect(defaults.redisNearEntries).toBe(10_000);
    expect(defaults.redisNearBytes).toBe(32 * 1024 * 1024);
    const set = resolveCacheOptions({
      env: {
        PRESCIENT_CACHE_REDIS_NEAR_ENTRIES: "0",
        PRESCIENT_CACHE_REDIS_NEAR_BYTES: "2097152",
        PRESCIENT_CACHE_REDIS_MAX_ENTRIES: "5000",
      },
    });
    expect(set).toMatchObject({ redisNearEntries: 0, redisNearBytes: 2_097_152, redisMaxEntries: 5000 });
    // Given explicitly, an option wins over the env.
    expect(
      resolveCacheOptions({ env: { PRESCIENT_CACHE_REDIS_NEAR_ENTRIES: "0" }, redisNearEntries: 7 })
        .redisNearEntries,
    ).toBe(7);
  });

  it("refuses a bad value, naming the variable", () => {
    expect(() => resolveCacheOptions({ env: { PRESCIENT_CACHE_REDIS_NEAR_ENTRIES: "-1" } })).toThrow(
      /PRESCIENT_CACHE_REDIS_NEAR_ENTRIES/,
    );
    expect(() => resolveCacheOptions({ env: { PRESCIENT_CACHE_REDIS_NEAR_BYTES: "lots" } })).toThrow(
      /PRESCIENT_CACHE_REDIS_NEAR_BYTES/,
    );
  });
});
