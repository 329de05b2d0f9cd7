import type { CounterDelta, TypeDelta } from "../store/analyzer-store.js";
import { computeBucket } from "./compute-histogram.js";
import type { QueryEvent } from "./events.js";
import { type DecayRates, forwardWeight, landmarkFor } from "./forward-decay.js";
import { emptyCounterDelta } from "./merge-counter-delta.js";
import type { Transition } from "./sequence-tracker.js";

/**
 * Folds a batch of validated query events into one CounterDelta: every
 * increment aggregated per member, so a store applies a batch in one call.
 */

const weekMs = 7 * 86_400_000;
/** 1970-01-01 was a Thursday: shift so that hour 0 of the week is Monday 00:00 UTC. */
const mondayOffsetMs = 3 * 86_400_000;

/** UTC hour of the week, 0 = Monday 00:00. */
export const hourOfWeek = (t: number): number =>
  Math.floor(((((t + mondayOffsetMs) % weekMs) + weekMs) % weekMs) / 3_600_000);

const emptyType = (): TypeDelta => ({
  w: 0,
  hit: 0,
  stale: 0,
  miss: 0,
  computeW: 0,
  computeSum: 0,
  buckets: new Map(),
});

const add = (m: Map<string, number>, k: string, w: number): void => {
  m.set(k, (m.get(k) ?? 0) + w);
};

export function buildCounterDelta(
  events: readonly QueryEvent[],
  rates: DecayRates,
  /** Each event's transition in its sequence (stepsOf), in the events' order. */
  steps: ReadonlyArray<Transition | undefined>,
): CounterDelta {
  let latest = Number.NEGATIVE_INFINITY;
  let first = Number.POSITIVE_INFINITY;
  for (const e of events) {
    if (e.time > latest) latest = e.time;
    if (e.time < first) first = e.time;
  }
  const landmark = landmarkFor(Number.isFinite(latest) ? latest : 0, rates);
  const delta: CounterDelta = {
    ...emptyCounterDelta({ landmark, rates }),
    events: events.length,
    firstTime: Number.isFinite(first) ? first : 0,
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const w = forwardWeight(rates.demand, e.time, landmark);
    const kw = rates.keys === rates.demand ? w : forwardWeight(rates.keys, e.time, landmark);
    // Stale answers count as misses: the key was not fresh, which is what precomputing fixes.
    const missed = e.outcome === "miss" || e.outcome === "stale" ? kw : 0;
    const k = delta.keys.get(e.key);
    if (k === undefined) delta.keys.set(e.key, { w: kw, miss: missed });
    else {
      k.w += kw;
      k.miss += missed;
    }
    add(delta.entities, e.entity, w);
    add(delta.tenants, e.tenant, w);
    let t = delta.types.get(e.taskType);
    if (t === undefined) {
      t = emptyType();
      delta.types.set(e.taskType, t);
    }
    t.w += w;
    if (e.outcome === "hit") t.hit += w;
    else if (e.outcome === "stale") t.stale += w;
    else if (e.outcome === "miss") t.miss += w;
    // A compute time of 0 means "not computed here" (a hit), not "free".
    if (e.computeMs > 0) {
      t.computeW += w;
      t.computeSum += w * e.computeMs;
      const b = computeBucket(e.computeMs);
      t.buckets.set(b, (t.buckets.get(b) ?? 0) + w);
    }
    const h = hourOfWeek(e.time);
    delta.hours.set(h, (delta.hours.get(h) ?? 0) + forwardWeight(rates.profile, e.time, landmark));
    const step = steps[i];
    if (step !== undefined) {
      let next = delta.successors.get(step.from);
      if (next === undefined) {
        next = new Map();
        delta.successors.set(step.from, next);
      }
      add(next, step.to, forwardWeight(rates.successors, e.time, landmark));
    }
  }
  return delta;
}
