import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { RedisAnalyzerStore } from "./redis-store.js";
import { storeConformance } from "./store-conformance.test-util.js";

storeConformance(
  "redis",
  async () =>
    new RedisAnalyzerStore({
      redisUrl: inject("redisUrl"),
      keyPrefix: `test:{analyzer-${randomBytes(4).toString("hex")}}:`,
    }),
);

// The same suite on a real Redis Cluster (3 masters, 3 replicas).
storeConformance(
  "redis cluster",
  async () =>
    new RedisAnalyzerStore({
      redisUrl: inject("redisClusterUrl"),
      keyPrefix: `test:{analyzer-${randomBytes(4).toString("hex")}}:`,
    }),
);
