import fc from "fast-check";
import type { AnalyzerStore, Capacities, CounterDelta } from "./analyzer-store.js";
import { conformanceRates } from "./store-conformance.test-util.js";

/**
 * Random ingest batches, and every read TopPatterns and its neighbours make,
 * to check that N shards answer as one store on the same events.
 */

/** Large enough that no family is ever full: the sharded answers must then be one store's. */
export const roomyCaps: Capacities = {
  keys: 1000,
  entities: 1000,
  tenants: 1000,
  types: 1000,
  successorSources: 1000,
  successorsPerSource: 1000,
};

const hour = 3_600_000;
const tenants = ["acme", "globex", "initech"];
const types = ["ctr", "roas", "video"];
const keyNames = tenants.flatMap((t) => types.flatMap((y) => [0, 1, 2, 3].map((e) => `${t}/${y}/e-${e}`)));
const key = fc.constantFrom(...keyNames);
// Multiples of 1/8: sums are exact, so any difference is in the routing or the scale, not in rounding.
const weight = fc.integer({ min: 1, max: 400 }).map((x) => x / 8);

const deltaArb = fc.record({
  // Mostly one landmark, sometimes a move forward, sometimes an older batch (scaled down on write).
  // Steps of no whole number of half-lives, so that a scale applied twice, or late, shows in the bits.
  landmark: fc.constantFrom(0, 0, 0, 1, 1, 2).map((i) => i * 4_931_000),
  keys: fc.array(
    fc.tuple(
      key,
      weight,
      fc.integer({ min: 0, max: 8 }).map((x) => x / 8),
    ),
    { maxLength: 10 },
  ),
  entities: fc.array(fc.tuple(fc.constantFrom(...tenants.map((t) => `${t}/e-1`), "acme/e-2"), weight), {
    maxLength: 3,
  }),
  tenants: fc.array(fc.tuple(fc.constantFrom(...tenants), weight), { maxLength: 3 }),
  types: fc.array(fc.tuple(fc.constantFrom(...types), weight, weight, fc.constantFrom(0, 10, 40), weight), {
    maxLength: 3,
  }),
  hours: fc.array(fc.tuple(fc.integer({ min: 0, max: 167 }), weight), { maxLength: 3 }),
  successors: fc.array(fc.tuple(key, fc.array(fc.tuple(key, weight), { minLength: 1, maxLength: 3 })), {
    maxLength: 3,
  }),
  events: fc.integer({ min: 0, max: 20 }),
  firstTime: fc.integer({ min: 0, max: 10 * hour }),
});

export const batchesArb = fc.array(
  deltaArb.map(
    (r): CounterDelta => ({
      landmark: r.landmark,
      rates: conformanceRates,
      keys: new Map(r.keys.map(([k, w, m]) => [k, { w, miss: Math.min(m, w) }])),
      entities: new Map(r.entities),
      tenants: new Map(r.tenants),
      types: new Map(
        r.types.map(([t, w, hit, bucket, cs]) => [
          t,
          {
            w,
            hit: Math.min(hit, w),
            stale: 0,
            miss: w - Math.min(hit, w),
            computeW: bucket === 0 ? 0 : w,
            computeSum: bucket === 0 ? 0 : cs,
            buckets: bucket === 0 ? new Map() : new Map([[bucket, w]]),
          },
        ]),
      ),
      hours: new Map(r.hours),
      successors: new Map(r.successors.map(([s, next]) => [s, new Map(next)])),
      events: r.events,
      firstTime: r.firstTime,
    }),
  ),
  { minLength: 1, maxLength: 12 },
);

/**
 * What the TopPatterns path and its neighbours read, in a form to compare.
 * `ties`: "redis" keeps the order as read (ZREVRANGE: ties by member,
 * descending, which the sharded merge follows); "any" sorts each list so
 * ties compare as sets (the memory store orders its ties the other way),
 * and compares cut lists by weight alone.
 */
export async function readAll(store: AnalyzerStore, ties: "redis" | "any"): Promise<unknown> {
  const canon = <T extends { w: number }>(xs: T[], name: (x: T) => string): T[] =>
    ties === "redis" ? xs : [...xs].sort((a, b) => b.w - a.w || (name(a) < name(b) ? -1 : 1));
  const cut = <T extends { w: number }>(xs: T[]): unknown => (ties === "redis" ? xs : xs.map((x) => x.w));
  const [all, top5, counts, weights, entities, tenants2, typeStats, profile] = await Promise.all([
    store.topKeys(1000),
    store.topKeys(5),
    store.keyCounts([...keyNames, "acme/ctr/none"]),
    store.keyWeights([...keyNames].reverse()),
    store.topMembers("entities", 1000),
    store.topMembers("tenants", 2),
    store.typeStats(),
    store.profile(),
  ]);
  const successors = await Promise.all(keyNames.map((k) => store.successors(k, 2)));
  return {
    topKeys: { landmark: all.landmark, value: canon(all.value, (k) => k.key) },
    top5: { landmark: top5.landmark, value: cut(top5.value) },
    counts,
    weights,
    entities: { landmark: entities.landmark, value: canon(entities.value, (m) => m.member) },
    tenants2: { landmark: tenants2.landmark, value: cut(tenants2.value) },
    typeStats: {
      landmark: typeStats.landmark,
      value: [...typeStats.value].sort((a, b) => (a.type < b.type ? -1 : 1)),
    },
    profile,
    successors: successors.map((s) => ({
      landmark: s.landmark,
      value: { total: s.value.total, successors: cut(s.value.successors) },
    })),
  };
}
