import { MemoryRunStore } from "./memory-run-store.js";
import { runStoreConformance } from "./run-store-conformance.test-util.js";

runStoreConformance(
  "memory",
  async () => new MemoryRunStore(),
  async (clock, ms) => clock.advance(ms),
);
