import type { CounterDelta, TypeDelta } from "../store/analyzer-store.js";

/**
 * Folding CounterDeltas together and cutting them apart, for the ingest
 * pre-aggregation (store/aggregating-store.ts). Deltas under one landmark
 * and rates only add, so a merged delta stores exactly what its parts would
 * (up to floating-point order), and so do the parts of a split one.
 */

/** A rough cost of one map entry (Map slot, boxed number or record) beyond its string, in bytes. */
const entryOverheadBytes = 80;

/** What holding a delta costs: distinct members, and an estimate of their bytes. */
export interface DeltaSize {
  entries: number;
  bytes: number;
}

export const emptyCounterDelta = (like: Pick<CounterDelta, "landmark" | "rates">): CounterDelta => ({
  landmark: like.landmark,
  rates: like.rates,
  keys: new Map(),
  entities: new Map(),
  tenants: new Map(),
  types: new Map(),
  hours: new Map(),
  successors: new Map(),
  events: 0,
  firstTime: Number.POSITIVE_INFINITY,
});

const stringBytes = (s: string): number => entryOverheadBytes + s.length * 2;

/** An upper bound on what merging `d` adds (each member counted as new). */
export function deltaSize(d: CounterDelta): DeltaSize {
  const size = { entries: 0, bytes: 0 };
  const count = (s: string): void => {
    size.entries++;
    size.bytes += stringBytes(s);
  };
  for (const k of d.keys.keys()) count(k);
  for (const m of d.entities.keys()) count(m);
  for (const m of d.tenants.keys()) count(m);
  for (const [t, v] of d.types) {
    count(t);
    size.entries += v.buckets.size;
    size.bytes += v.buckets.size * entryOverheadBytes;
  }
  size.entries += d.hours.size;
  size.bytes += d.hours.size * entryOverheadBytes;
  for (const [source, next] of d.successors) {
    count(source);
    for (const k of next.keys()) count(k);
  }
  return size;
}

const addTo = (m: Map<string, number>, k: string, w: number, size: DeltaSize): void => {
  const had = m.get(k);
  if (had === undefined) {
    m.set(k, w);
    size.entries++;
    size.bytes += stringBytes(k);
  } else m.set(k, had + w);
};

/**
 * Adds `from` into `into` (same landmark and rates: the caller checks) and
 * answers what `into` grew by. `from` is left as it was.
 */
export function mergeCounterDelta(into: CounterDelta, from: CounterDelta): DeltaSize {
  const size = { entries: 0, bytes: 0 };
  for (const [k, v] of from.keys) {
    const had = into.keys.get(k);
    if (had === undefined) {
      into.keys.set(k, { w: v.w, miss: v.miss });
      size.entries++;
      size.bytes += stringBytes(k);
    } else {
      had.w += v.w;
      had.miss += v.miss;
    }
  }
  for (const [m, w] of from.entities) addTo(into.entities, m, w, size);
  for (const [m, w] of from.tenants) addTo(into.tenants, m, w, size);
  for (const [t, v] of from.types) {
    let had = into.types.get(t);
    if (had === undefined) {
      had = { w: 0, hit: 0, stale: 0, miss: 0, computeW: 0, computeSum: 0, buckets: new Map() };
      into.types.set(t, had);
      size.entries++;
      size.bytes += stringBytes(t);
    }
    addType(had, v, size);
  }
  for (const [h, w] of from.hours) {
    const was = into.hours.get(h);
    if (was === undefined) {
      size.entries++;
      size.bytes += entryOverheadBytes;
    }
    into.hours.set(h, (was ?? 0) + w);
  }
  for (const [source, next] of from.successors) {
    let had = into.successors.get(source);
    if (had === undefined) {
      had = new Map();
      into.successors.set(source, had);
      size.entries++;
      size.bytes += stringBytes(source);
    }
    for (const [k, w] of next) addTo(had, k, w, size);
  }
  into.events += from.events;
  if (from.events > 0 && from.firstTime < into.firstTime) into.firstTime = from.firstTime;
  return size;
}

function addType(into: TypeDelta, from: TypeDelta, size: DeltaSize): void {
  into.w += from.w;
  into.hit += from.hit;
  into.stale += from.stale;
  into.miss += from.miss;
  into.computeW += from.computeW;
  into.computeSum += from.computeSum;
  for (const [b, w] of from.buckets) {
    const was = into.buckets.get(b);
    if (was === undefined) {
      size.entries++;
      size.bytes += entryOverheadBytes;
    }
    into.buckets.set(b, (was ?? 0) + w);
  }
}

/**
 * Cuts a delta into parts of at most about `maxEntries` members each, so
 * that writing a large merged delta never holds the store (one Lua call on
 * Redis, which blocks every other client) for long. The event count and the
 * first time go with the first part; each successor source stays whole, as
 * its total is the sum of its successors.
 */
export function splitCounterDelta(d: CounterDelta, maxEntries: number): CounterDelta[] {
  if (deltaSize(d).entries <= maxEntries) return [d];
  const parts: CounterDelta[] = [];
  let part = emptyCounterDelta(d);
  part.events = d.events;
  part.firstTime = d.firstTime;
  let n = 0;
  const room = (k: number): void => {
    if (n > 0 && n + k > maxEntries) {
      parts.push(part);
      part = emptyCounterDelta(d);
      part.firstTime = d.firstTime;
      n = 0;
    }
    n += k;
  };
  for (const [k, v] of d.keys) {
    room(1);
    part.keys.set(k, v);
  }
  for (const [m, w] of d.entities) {
    room(1);
    part.entities.set(m, w);
  }
  for (const [m, w] of d.tenants) {
    room(1);
    part.tenants.set(m, w);
  }
  for (const [t, v] of d.types) {
    room(1 + v.buckets.size);
    part.types.set(t, v);
  }
  for (const [h, w] of d.hours) {
    room(1);
    part.hours.set(h, w);
  }
  for (const [source, next] of d.successors) {
    room(1 + next.size);
    part.successors.set(source, next);
  }
  if (n > 0) parts.push(part);
  return parts;
}
