import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { checkHealth } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { entry, key, testTypes } from "../core/core.test-util.js";
import { cacheServiceName } from "./cache-service.js";
import { grpcError, startTestCache } from "./grpc.test-util.js";

/**
 * The former stall: a Put whose tensor shape held 100k copies of 2^63−1
 * (900 KB) froze the whole process for 43 s, health checks included, and
 * PutMany on Redis did the same. Now it is refused in milliseconds while a
 * concurrent health check is answered.
 */
const hugeShape = () => Array(100_000).fill(2n ** 63n - 1n);
const withShape = (entityId: string, shape: bigint[]) =>
  entry(key(entityId), {
    value: { tensors: { tensors: [{ name: "p", datatype: "FP32", shape, data: [1] }] }, contentType: "" },
  });

const redisPrefix = `test:${randomUUID().slice(0, 8)}:`;
const stores = [
  ["memory", () => "memory" as const],
  ["redis", () => ({ redisUrl: inject("redisUrl"), keyPrefix: redisPrefix })],
] as const;

describe.each(stores)("bounded work per request (%s store)", (_name, store) => {
  let cache: Awaited<ReturnType<typeof startTestCache>>;
  beforeAll(async () => {
    cache = await startTestCache({ taskTypes: testTypes, store: store() });
  });
  afterAll(async () => cache.stop());

  it("refuses a Put and a PutMany of huge shapes in milliseconds, answering health meanwhile", async () => {
    for (const send of [
      () => cache.rpc.put({ entry: withShape("huge-1", hugeShape()) }),
      () =>
        cache.rpc.putMany({ entries: [withShape("huge-2", hugeShape()), withShape("huge-3", hugeShape())] }),
    ]) {
      const began = performance.now();
      const [refused, health] = await Promise.all([
        grpcError(send()),
        checkHealth(cache.host.address, cacheServiceName),
      ]);
      const ms = performance.now() - began;
      expect(refused.code).toBe(status.INVALID_ARGUMENT);
      expect(refused.details).toMatch(/rank 100000; the limit is 32/);
      expect(refused.details.length).toBeLessThan(300);
      expect(health).toBe("SERVING");
      // Decoding 900 KB dominates; the old path took tens of seconds.
      expect(ms).toBeLessThan(1_000);
    }
  });
});
