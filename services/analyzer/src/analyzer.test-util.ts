import type { Clock } from "@prescient/core";
import { Analyzer } from "./analyzer.js";
import type { QueryEventInput } from "./core/events.js";
import { emptyIngestResult } from "./core/events.js";
import { InProcessScorer } from "./model/onnx-scorer.js";
import type { ModelPublisher } from "./model/ports.js";
import type { AnalyzerSettingsInput } from "./settings.js";
import type { AnalyzerStore } from "./store/analyzer-store.js";
import { MemoryAnalyzerStore } from "./store/memory-store.js";

/** An in-memory publisher, for core tests that never touch a file system. */
export class MemoryPublisher implements ModelPublisher {
  readonly versions: Uint8Array[] = [];

  async publish(bytes: Uint8Array): Promise<number> {
    this.versions.push(bytes);
    return this.versions.length;
  }

  async latest() {
    const bytes = this.versions.at(-1);
    return bytes === undefined ? undefined : { version: this.versions.length, bytes };
  }
}

export function coreAnalyzer(
  clock: Clock,
  settings: AnalyzerSettingsInput = {},
  store: AnalyzerStore = new MemoryAnalyzerStore(),
): Analyzer {
  return new Analyzer(
    { store, publisher: new MemoryPublisher(), scorer: new InProcessScorer() },
    { clock, ...settings },
  );
}

export const query = (
  time: number,
  tenant: string,
  taskType: string,
  entityId: string,
  extra: Partial<QueryEventInput> = {},
): QueryEventInput => ({
  time: new Date(time),
  tenant,
  taskType,
  entityId,
  key: "",
  userId: "",
  outcome: 3,
  computeMs: 0,
  latencyMs: 1,
  ...extra,
});

/** Ingests events in batches, moving the clock to each batch's last event so none is "from the future". */
export async function ingest(
  analyzer: Analyzer,
  clock: { set(ms: number): void },
  events: readonly QueryEventInput[],
  batch = 1000,
): Promise<void> {
  for (let i = 0; i < events.length; i += batch) {
    const chunk = events.slice(i, i + batch);
    clock.set(chunk.at(-1)!.time!.getTime());
    const result = emptyIngestResult();
    await analyzer.recordQueries(chunk, result);
    if (result.rejected > 0) throw new Error(`rejected: ${JSON.stringify(result.rejections.slice(0, 3))}`);
  }
}
