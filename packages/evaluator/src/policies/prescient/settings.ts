import { type QueryReporterOptions, queryReporterDefaults } from "@prescient/analyzer";

/**
 * The replay's settings for the parts in front of the mesh (the cache's
 * query reporter) and of its determinism. Policy settings are the
 * analyzer's and the precomputer's own, from their defaults and the
 * configuration file, as live.
 */
export interface PrescientSettings {
  /**
   * How the cache's query reporter batches lookups for the analyzer: a batch
   * leaves when full or when its oldest lookup has waited the interval.
   * Default: the live reporter's (500 lookups, 250 ms).
   */
  reporter: Pick<QueryReporterOptions, "batchSize" | "flushIntervalMs">;
  /** Seed of XFetch's random draws, so replays are deterministic. */
  seed: number;
}

export const prescientDefaults: Readonly<PrescientSettings> = {
  reporter: {
    batchSize: queryReporterDefaults.batchSize,
    flushIntervalMs: queryReporterDefaults.flushIntervalMs,
  },
  seed: 1,
};
