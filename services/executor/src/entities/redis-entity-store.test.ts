import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { entityStoreConformance } from "./entity-store-conformance.test-util.js";
import { RedisEntityStore } from "./redis-entity-store.js";

entityStoreConformance(
  "redis",
  async () => new RedisEntityStore(inject("redisUrl"), { keyPrefix: `test:${randomUUID()}:entity:` }),
);

// The same suite on a real Redis Cluster (3 masters, 3 replicas): one script call per tenant needs the tenant's slot.
entityStoreConformance(
  "redis cluster",
  async () => new RedisEntityStore(inject("redisClusterUrl"), { keyPrefix: `test:${randomUUID()}:entity:` }),
);
