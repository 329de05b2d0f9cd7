import { analyzerV1 } from "@prescient/contracts";
import type { LookupOutcome } from "@prescient/core";

/** The cache's LookupResponse says its outcome with two flags. */
export function outcomeOfLookup(response: { hit: boolean; stale: boolean }): LookupOutcome {
  if (!response.hit) return "miss";
  return response.stale ? "stale" : "hit";
}

const protoOfOutcome: Record<LookupOutcome, analyzerV1.LookupOutcome> = {
  hit: analyzerV1.LookupOutcome.LOOKUP_OUTCOME_HIT,
  stale: analyzerV1.LookupOutcome.LOOKUP_OUTCOME_STALE,
  miss: analyzerV1.LookupOutcome.LOOKUP_OUTCOME_MISS,
};

const outcomeOfProto = new Map<number, LookupOutcome>(
  Object.entries(protoOfOutcome).map(([outcome, code]) => [code, outcome as LookupOutcome]),
);

/** The analyzer's query-log enum. */
export function outcomeToProto(outcome: LookupOutcome): analyzerV1.LookupOutcome {
  return protoOfOutcome[outcome];
}

/** Undefined for UNSPECIFIED and for numbers the enum does not name. */
export function outcomeFromProto(outcome: number): LookupOutcome | undefined {
  return outcomeOfProto.get(outcome);
}
