import type { Clock, TaskTypeRegistry } from "@prescient/core";
import type { PrecomputerConfig } from "./config.js";
import type { FreshPeekGateOptions } from "./fresh-peek-gate.js";
import type { DemandSource, FreshnessSource, LoadProbe, PrecomputerLog, TaskSink } from "./ports.js";
import type { ReadCalibrationOptions } from "./read-calibration.js";
import type { RunStore } from "./run-store.js";
import type { PlannedTask } from "./types.js";

/**
 * What a Precomputer is built from: ports to the executor, the cache and the
 * analyzer, an injected clock and a run store. None of them is gRPC or Redis
 * itself: the service adapts its peers to them, and the evaluator runs the
 * core on virtual time.
 */
export interface PrecomputerDeps {
  taskTypes: TaskTypeRegistry;
  config: PrecomputerConfig;
  executor: TaskSink;
  cache: FreshnessSource;
  analyzer: DemandSource;
  runs: RunStore;
  /** Live load for the budget's back-off. Default: none (never backs off). */
  load?: LoadProbe;
  /**
   * Upserts features without enqueueing, when the executor offers it (in
   * process). Without it, a fresh-skipped entity's features ride on one task
   * that is then not skipped, so they are never lost.
   */
  upsertFeatures?: (records: FeatureUpsert[]) => Promise<void>;
  /**
   * Whether the executor holds features for each entity, in order, when it
   * can tell (in process, and over gRPC: FeaturesStored). Every planner but
   * Warm and Refresh uses it to leave out the onnx tasks it cannot compute
   * (FeatureGate), asking once per call or run. Without it, every task is
   * enqueued.
   */
  featuresStored?: (entities: readonly EntityRef[]) => Promise<boolean[]>;
  /**
   * Opens a new trace for a schedule run's work (the service shell backs it
   * with OpenTelemetry): the whole run for the jobs that run rarely, and for
   * the polling ones (readahead, refresh-ahead) only the part that sends the
   * work it found, so a run that finds nothing makes no trace. Default: none.
   */
  traceRun?: RunTracer;
  clock?: Clock;
  log?: PrecomputerLog;
  /** This replica's name in run records. Default: a random id. */
  owner?: string;
}

/** An entity, as the executor's entity store keys it. */
export interface EntityRef {
  tenant: string;
  entityId: string;
}

/** One entity's features, written without a task (see PrecomputerDeps.upsertFeatures). */
export interface FeatureUpsert {
  tenant: string;
  entityId: string;
  features: PlannedTask["features"] & object;
}

export interface PrecomputerOptions {
  /** Most events in one TriggerMany. Default 1000. */
  maxEvents: number;
  /** Most tasks one call may enqueue (one all-or-nothing EnqueueMany). Default 10,000. */
  maxTasksPerCall: number;
  /** Keys per freshness lookup (the cache's LookupMany limit). Default 1000. */
  freshnessBatch: number;
  /** How long a trigger waits for the analyzer's predictions before going without. Default 250 ms. */
  predictionTimeoutMs: number;
  /** How long a load sample is reused. Default 1000 ms. */
  loadMaxAgeMs: number;
  /**
   * Fan-out rules the analyzer learned join the configured ones, and events
   * with no configured rule are accepted (and learned from). Default true.
   */
  learnRules: boolean;
  /** How often learned rules are fetched from the analyzer. Default 60,000 ms. */
  learnedRulesRefreshMs: number;
  /** Related entities per learned `related` target. Default 3. */
  learnedRelatedLimit: number;
  /** A learned target joins a rule at this share of events followed by its read or above. Default 0.2. */
  learnedMinProbability: number;
  /** How the sources' read probabilities are calibrated (ReadCalibration; its defaults there). Default {}. */
  readCalibration: Partial<ReadCalibrationOptions>;
  /**
   * Which of a trigger's skip-fresh keys are looked up, and when a kind that
   * is almost never fresh is only sampled (FreshPeekGate; its defaults
   * there). `{ minFreshRate: 0 }` looks up every key. Default {}.
   */
  freshPeeks: Partial<FreshPeekGateOptions>;
}

export const precomputerDefaults: Readonly<PrecomputerOptions> = {
  maxEvents: 1000,
  maxTasksPerCall: 10_000,
  freshnessBatch: 1000,
  predictionTimeoutMs: 250,
  loadMaxAgeMs: 1000,
  learnRules: true,
  learnedRulesRefreshMs: 60_000,
  learnedRelatedLimit: 3,
  learnedMinProbability: 0.2,
  readCalibration: {},
  freshPeeks: {},
};

/** What a run's trace is told of the run. */
export interface TracedRun {
  schedule: string;
  job: string;
  runKey: string;
}

/** Runs `fn` as the root of a new trace for the run. */
export type RunTracer = <T>(run: TracedRun, fn: () => Promise<T>) => Promise<T>;
