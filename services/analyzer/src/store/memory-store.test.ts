import { MemoryAnalyzerStore } from "./memory-store.js";
import { storeConformance } from "./store-conformance.test-util.js";

storeConformance("memory", async () => new MemoryAnalyzerStore());
