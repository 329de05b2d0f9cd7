import { setTimeout as sleep } from "node:timers/promises";
import { inject } from "vitest";
import { RedisRunStore } from "./redis-run-store.js";
import { runStoreConformance } from "./run-store-conformance.test-util.js";

let prefix = 0;
runStoreConformance(
  "redis",
  async () => new RedisRunStore(inject("redisUrl"), { keyPrefix: `test:runs:${process.pid}:${++prefix}:` }),
  async (clock, ms) => {
    // Redis measures leases on its own clock.
    await sleep(ms);
    clock.advance(ms);
  },
);
