import { entityStoreConformance } from "./entity-store-conformance.test-util.js";
import { MemoryEntityStore } from "./memory-entity-store.js";

entityStoreConformance("memory", async () => new MemoryEntityStore());
