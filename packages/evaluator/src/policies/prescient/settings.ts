import { type QueryReporterOptions, queryReporterDefaults } from "@prescient/analyzer";

/**
 * The prescient policy's settings beyond those of the modules it runs (the
 * analyzer's and the precomputer's own defaults apply to them). Chosen on
 * generated workloads (workload/), never on one trace.
 */
export interface PrescientSettings {
  /**
   * How the cache's query reporter batches lookups for the analyzer: a batch
   * leaves when full or when its oldest lookup has waited the interval.
   * Default: the live reporter's (500 lookups, 250 ms).
   */
  reporter: Pick<QueryReporterOptions, "batchSize" | "flushIntervalMs">;
  /** Next-action retraining period. Default 6 hours (the analyzer service's default). */
  retrainEveryMs: number;
  /** Learned fan-out (events without a configured rule): window, support and share. */
  learnWindowMs: number;
  learnMinSupport: number;
  learnMinShare: number;
  /** Seed of XFetch's random draws, so replays are deterministic. */
  seed: number;
}

export const prescientDefaults: Readonly<PrescientSettings> = {
  reporter: {
    batchSize: queryReporterDefaults.batchSize,
    flushIntervalMs: queryReporterDefaults.flushIntervalMs,
  },
  retrainEveryMs: 6 * 3_600_000,
  learnWindowMs: 10 * 60_000,
  learnMinSupport: 5,
  learnMinShare: 0.5,
  seed: 1,
};
