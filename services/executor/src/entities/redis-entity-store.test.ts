import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { entityStoreConformance } from "./entity-store-conformance.test-util.js";
import { RedisEntityStore } from "./redis-entity-store.js";

entityStoreConformance(
  "redis",
  async () => new RedisEntityStore(inject("redisUrl"), { keyPrefix: `test:${randomUUID()}:entity:` }),
);
