import { type AnalyzerSettings, type QueryReporterOptions, queryReporterDefaults } from "@prescient/analyzer";

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
  /**
   * Analyzer settings a live mesh takes from env, so that a replay can
   * forecast a mesh started with them: the key-demand half-life
   * (PRESCIENT_ANALYZER_KEY_HALF_LIFE_S). Default: none, the analyzer's own defaults.
   */
  analyzer: Partial<Pick<AnalyzerSettings, "keyHalfLifeMs">>;
}

export const prescientDefaults: Readonly<PrescientSettings> = {
  reporter: {
    batchSize: queryReporterDefaults.batchSize,
    flushIntervalMs: queryReporterDefaults.flushIntervalMs,
  },
  seed: 1,
  analyzer: {},
};
