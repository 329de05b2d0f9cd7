import { type KeyParts, parseKey } from "@prescient/core";
import type { KeyCount } from "../store/analyzer-store.js";
import { decayedValue, ratePerSecond } from "./forward-decay.js";
import type { TypeSummary } from "./type-stats.js";

/**
 * TopPatterns: ranks heavy-hitter keys by the expected benefit of computing
 * them ahead of time, benefit = demand × compute cost × P(not fresh), where
 * demand is the decayed request rate, cost is the type's compute-time EMA,
 * and P(not fresh) is the key's own miss share shrunk towards its type's
 * (a key seen a few times says little about itself).
 */
export interface Pattern {
  key: string;
  tenant: string;
  taskType: string;
  entityId: string;
  /** Requests per second, time-decayed. */
  demand: number;
  computeMs: number;
  missProbability: number;
  benefit: number;
}

export interface RankOptions {
  limit: number;
  taskType?: string | undefined;
  tenant?: string | undefined;
  rate: number;
  now: number;
  landmark: number;
  /** How long the counts have been gathered (see ratePerSecond). */
  observedMs: number;
  /** Per type statistics, for compute cost and the miss prior. */
  types: ReadonlyMap<string, TypeSummary>;
  /** Strength of the type prior, in events. */
  priorEvents: number;
  /** Cost of a type with no compute times recorded. */
  defaultComputeMs: number;
  /** Parses a key; a caller may cache it, since the sketch's keys change slowly. Default parseKey. */
  partsOf?: (key: string) => KeyParts;
}

export function rankPatterns(keys: readonly KeyCount[], o: RankOptions): Pattern[] {
  // One event now weighs e^{λ(now − L)} in stored units; the prior is expressed in those units.
  const eventWeight = Math.exp(o.rate * (o.now - o.landmark));
  const prior = o.priorEvents * eventWeight;
  const out: Pattern[] = [];
  const partsOf = o.partsOf ?? parseKey;
  for (const k of keys) {
    const parts = partsOf(k.key);
    if (o.tenant !== undefined && parts.tenant !== o.tenant) continue;
    if (o.taskType !== undefined && parts.taskType !== o.taskType) continue;
    const type = o.types.get(parts.taskType);
    const typeMiss = type?.missRate ?? 1;
    const observed = Math.max(0, k.w - k.error);
    const missProbability = Math.min(1, (Math.min(k.miss, observed) + prior * typeMiss) / (observed + prior));
    const demand = ratePerSecond(decayedValue(k.w, o.rate, o.now, o.landmark), o.rate, o.observedMs);
    const computeMs = type?.computeMsEma ?? o.defaultComputeMs;
    out.push({
      key: k.key,
      tenant: parts.tenant,
      taskType: parts.taskType,
      entityId: parts.entityId ?? `#${parts.digest ?? ""}`,
      demand,
      computeMs,
      missProbability,
      benefit: demand * computeMs * missProbability,
    });
  }
  out.sort((a, b) => b.benefit - a.benefit || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out.slice(0, o.limit);
}
