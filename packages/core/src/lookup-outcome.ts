/**
 * What a lookup found: a fresh result, a stale one still inside its grace
 * window, or nothing. The cache's LookupResponse says it with two booleans and
 * the analyzer's query log with an enum; both map to this.
 */
export const lookupOutcomes = ["hit", "stale", "miss"] as const;
export type LookupOutcome = (typeof lookupOutcomes)[number];
