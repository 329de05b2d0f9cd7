/** Which stream an event came in on: query and action logs, or domain events (RecordEvents). */
export type EventKind = "query" | "action" | "domain_event";
/** rejected: failed validation; dropped: valid, but lost because the store failed to take it. */
export type EventOutcome = "accepted" | "rejected" | "dropped";
/**
 * trained: a candidate model was trained; skipped: too little data, or
 * nothing changed since the last round; coalesced: asked for within the
 * minimum interval after a round, answered with that round's report.
 */
export type RetrainResult = "trained" | "skipped" | "coalesced" | "failed";
/**
 * What offered a prediction: the next-action model or its fallbacks (model,
 * markov, frequency), successor counts and sequential runs (successor,
 * sequence), what users read next (next_read), entity relations (relation)
 * and learned fan-out rules (fan_out).
 */
export type PredictionSource =
  | "model"
  | "markov"
  | "frequency"
  | "successor"
  | "sequence"
  | "next_read"
  | "relation"
  | "fan_out";

/**
 * What became of learned-state records (Analyzer.saveLearning and start):
 * saved, restored, or ignored because this version cannot read them.
 */
export type LearnedStateOutcome = "saved" | "restored" | "ignored";

/**
 * Told what the analyzer did, so the service can count it in Prometheus
 * without the core importing it (the evaluator runs the core unobserved).
 * Calls come per batch, not per event, so a counter increment each is cheap.
 */
export interface AnalyzerObserver {
  events(kind: EventKind, outcome: EventOutcome, n: number): void;
  retrained(result: RetrainResult): void;
  offered(source: PredictionSource, n: number): void;
  learnedState(outcome: LearnedStateOutcome, records: number): void;
}

export const unobserved: AnalyzerObserver = {
  events: () => {},
  retrained: () => {},
  offered: () => {},
  learnedState: () => {},
};
