import type { TypeStatsRecord } from "../store/analyzer-store.js";
import { histogramQuantile } from "./compute-histogram.js";
import { decayedValue, ratePerSecond } from "./forward-decay.js";

/** A task type's demand and compute statistics, decayed to now. */
export interface TypeSummary {
  type: string;
  /** Lookups per second (time-decayed). */
  demand: number;
  /** Decayed lookup counts by outcome. */
  hits: number;
  stale: number;
  misses: number;
  /** Share of lookups that were not fresh hits (misses and stale); undefined with no outcomes. */
  missRate: number | undefined;
  /** Time-decayed mean compute time (an exponential moving average over time); undefined when none seen. */
  computeMsEma: number | undefined;
  computeMsP50: number | undefined;
  computeMsP95: number | undefined;
}

/** `observedMs`: how long the counts have been gathered (see ratePerSecond). */
export function summarizeType(
  r: TypeStatsRecord,
  rate: number,
  now: number,
  landmark: number,
  observedMs: number,
): TypeSummary {
  const d = (v: number): number => decayedValue(v, rate, now, landmark);
  const outcomes = r.hit + r.stale + r.miss;
  const hasCompute = r.computeW > 0;
  return {
    type: r.type,
    demand: ratePerSecond(d(r.w), rate, observedMs),
    hits: d(r.hit),
    stale: d(r.stale),
    misses: d(r.miss),
    missRate: outcomes > 0 ? (r.miss + r.stale) / outcomes : undefined,
    computeMsEma: hasCompute ? r.computeSum / r.computeW : undefined,
    computeMsP50: hasCompute ? histogramQuantile(r.buckets, 0.5) : undefined,
    computeMsP95: hasCompute ? histogramQuantile(r.buckets, 0.95) : undefined,
  };
}
