import type { DemandSource, FreshnessSource, TaskSink } from "../core/ports.js";
import type { Features } from "../core/types.js";

/**
 * The peers the precomputer service talks to, whether in this process
 * (cores called directly) or over gRPC. Besides the core's ports each offers
 * what the load probe reads.
 */
export interface ExecutorPeer {
  sink: TaskSink;
  /** Tasks waiting (queued and delayed). */
  queueDepth(): Promise<number>;
  /** Upserts features without enqueueing; only in process. */
  upsertFeatures?: (
    records: Array<{ tenant: string; entityId: string; features: Features }>,
  ) => Promise<void>;
  /** Whether features are stored for each entity (the executor's FeaturesStored). */
  featuresStored?: (entities: ReadonlyArray<{ tenant: string; entityId: string }>) => Promise<boolean[]>;
  close(): void;
}

export interface CachePeer extends FreshnessSource {
  /** Lookups and hits (stale included) since the cache started. */
  counters(): Promise<{ lookups: number; hits: number }>;
  close(): void;
}

export interface AnalyzerPeer extends DemandSource {
  close(): void;
}
