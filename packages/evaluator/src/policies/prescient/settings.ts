/**
 * The prescient policy's settings beyond those of the modules it runs (the
 * analyzer's and the precomputer's own defaults apply to them). Chosen on
 * generated workloads (workload/), never on one trace.
 */
export interface PrescientSettings {
  /** Queries buffered before they are recorded in the analyzer (its query reporter batches too). Default 64. */
  reportBatch: number;
  /** Next-action retraining period. Default 6 hours (the analyzer service's default). */
  retrainEveryMs: number;
  /** Next keys and next actions asked for after each read. Default 3. */
  predictLimit: number;
  /** Minimum confidence of a predicted key or action. Default 0.5 (the precomputer's default). */
  minConfidence: number;
  /** Learned fan-out (events without a configured rule): window, support and share. */
  learnWindowMs: number;
  learnMinSupport: number;
  learnMinShare: number;
  /** Seed of XFetch's random draws, so replays are deterministic. */
  seed: number;
}

export const prescientDefaults: Readonly<PrescientSettings> = {
  reportBatch: 64,
  retrainEveryMs: 6 * 3_600_000,
  predictLimit: 3,
  minConfidence: 0.5,
  learnWindowMs: 10 * 60_000,
  learnMinSupport: 5,
  learnMinShare: 0.5,
  seed: 1,
};
