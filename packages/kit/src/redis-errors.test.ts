import { status } from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { isRedisUnavailable, watchRedisErrors } from "./redis-errors.js";
import { toServiceError } from "./status.js";
import { freePort } from "./testing/index.js";

describe("Redis outages at the status boundary", () => {
  it("a call that cannot reach Redis is UNAVAILABLE (retried by clients), not INTERNAL", async () => {
    // Nothing listens on this port: ioredis gives up on the call after its retries.
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 10,
    });
    const errors: Error[] = [];
    watchRedisErrors(redis, "test");
    redis.on("error", (e: Error) => errors.push(e));
    const failure = await redis.get("k").catch((e: unknown) => e);
    redis.disconnect();
    expect(isRedisUnavailable(failure)).toBe(true);
    const mapped = toServiceError(failure);
    expect(mapped.error.code).toBe(status.UNAVAILABLE);
    expect(mapped.error.details).toMatch(/^store unavailable: /);
    expect(mapped.unexpected).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
  });

  it("leaves other errors alone", () => {
    expect(isRedisUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(toServiceError(new TypeError("x is undefined")).error.code).toBe(status.INTERNAL);
  });
});
