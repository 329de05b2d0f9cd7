import { UnavailableError } from "@prescient/core";
import type { ActionEvent } from "../core/events.js";
import { type DecayRates, rescaleFactor } from "../core/forward-decay.js";
import { emptyCounterDelta } from "../core/merge-counter-delta.js";
import type {
  ActionLimits,
  ActionRecord,
  AnalyzerStore,
  Capacities,
  CounterDelta,
  KeyCount,
  LaunchRecord,
  LearningRecord,
  MemberCount,
  ProfileRecord,
  Scaled,
  SuccessorsRecord,
  TypeStatsRecord,
  UserHistory,
} from "./analyzer-store.js";
import { shardOf } from "./shard-routing.js";

export interface ShardedStoreOptions {
  /**
   * Decay rates, to bring shards found on different landmarks onto the newest
   * in a read (only while a landmark move is being written, or after one
   * failed part-way). Default: the rates of the last delta written through
   * this store; a read that needs them before any write fails as unavailable.
   */
  rates: DecayRates | undefined;
  /** Runs once the shards are closed: releases what they share (their Redis client). Default: nothing. */
  onClose: (() => Promise<void>) | undefined;
}

/**
 * The analyzer's state split over N stores, each a shard with its own Redis
 * hash tag (shard-routing.ts), so that on a Redis Cluster the analyzer
 * spreads over the masters instead of sitting on one slot.
 *
 * Why a store over stores, and not sharding inside the Redis store: each
 * shard is then a plain AnalyzerStore, with its Lua unchanged and atomic per
 * shard, so one shard's keys are exactly today's layout under another prefix,
 * and 1 shard is today's store itself; the routing and merging are one layer
 * that runs over memory shards as well, and is tested against one store.
 *
 * Routing. Every member lives in exactly one shard, by a hash of its name:
 * a key by the whole key (tenant/type/entity), so one big tenant spreads over
 * every shard rather than heating one; entities and tenants by member; a
 * task type by name (with its statistics); a successor source with all its
 * successors; an hour of the profile by hour of week (h mod N); action logs
 * by tenant and user; launches by id (a launch re-put under another tenant
 * still replaces itself); a tenant's learned state by tenant. A batch's event count and first time go with one
 * of its parts: sums and a minimum merge exactly wherever they are.
 *
 * Scale. Counters are forward-decayed against a landmark that each shard
 * keeps. The first write of a process, and every write that moves the
 * landmark forward, goes to every shard (empty parts too), so every shard
 * rescales at the same moment by the same factor as one store would: values
 * stay those of one store, bit for bit, and reads merge values already on
 * one landmark. Other writes go only to the shards they touch. Should shards
 * still differ (another replica's move half-written, or a failed one), a
 * read brings the older onto the newest landmark with the decay rates.
 *
 * Capacity. Each shard holds the full capacity (Space-Saving keys, entities,
 * tenants, types, sources; users of the action logs). As long as the whole
 * holds no more than the capacity, no shard evicts, and every answer is one
 * store's. Beyond it the union holds up to N × capacity, and each shard
 * evicts among its own members only: answers differ from one store's there,
 * but only by keeping more (every Space-Saving guarantee still holds, and a
 * shard's error bound, total/capacity, is under the whole's). The memory
 * bound is per shard, which is per master on a cluster. Reads ask each shard
 * for `limit` and merge, so a top-N read moves up to N × limit entries.
 *
 * Writes that fan out are not atomic across shards. When one fails part-way,
 * the shards that took it are remembered against the delta (or event list)
 * object, so a retry of the same object (the aggregating store retries its
 * held parts so) writes only the rest: nothing is counted twice.
 */
export class ShardedAnalyzerStore implements AnalyzerStore {
  readonly shards: readonly AnalyzerStore[];
  readonly #o: ShardedStoreOptions;
  #rates: DecayRates | undefined;
  /** The newest landmark this process has written to every shard. */
  #landmark: number | undefined;
  /** Shards that took a write which failed elsewhere, by the written object. */
  readonly #partial = new WeakMap<object, Set<number>>();

  constructor(shards: readonly AnalyzerStore[], options?: Partial<ShardedStoreOptions>) {
    if (shards.length === 0) throw new RangeError("a sharded store needs at least one shard");
    this.shards = shards;
    this.#o = { rates: undefined, onClose: undefined, ...options };
    this.#rates = this.#o.rates;
  }

  /** In turn, not at once: shards may share one client, which the first connects. */
  async ready(): Promise<void> {
    for (const s of this.shards) await s.ready();
  }

  async applyCounters(delta: CounterDelta, capacities: Capacities): Promise<void> {
    this.#rates = delta.rates;
    const parts = this.#split(delta);
    const moves = this.#landmark === undefined || delta.landmark > this.#landmark;
    const targets = parts.flatMap((p, i) => (moves || !isEmpty(p) ? [i] : []));
    await this.#fanOut(delta, targets, (i) => this.shards[i]!.applyCounters(parts[i]!, capacities));
    if (moves) this.#landmark = Math.max(this.#landmark ?? delta.landmark, delta.landmark);
  }

  async topKeys(limit: number): Promise<Scaled<KeyCount[]>> {
    const reads = await Promise.all(this.shards.map((s) => s.topKeys(limit)));
    return this.#merge(reads, "keys", scaleKeys, (all) =>
      all
        .flat()
        .sort(byWeightThen((k) => k.key))
        .slice(0, limit),
    );
  }

  keyCounts(keys: readonly string[]): Promise<Scaled<(KeyCount | undefined)[]>> {
    return this.#lookup(keys, (s, some) => s.keyCounts(some), scaleKeys);
  }

  keyWeights(keys: readonly string[]): Promise<Scaled<(number | undefined)[]>> {
    return this.#lookup(
      keys,
      (s, some) => s.keyWeights(some),
      (ws, f) => ws.map((w) => (w === undefined ? undefined : w * f)),
    );
  }

  async topMembers(family: "entities" | "tenants", limit: number): Promise<Scaled<MemberCount[]>> {
    const reads = await Promise.all(this.shards.map((s) => s.topMembers(family, limit)));
    return this.#merge(reads, "demand", scaleMembers, (all) =>
      all
        .flat()
        .sort(byWeightThen((m) => m.member))
        .slice(0, limit),
    );
  }

  async typeStats(): Promise<Scaled<TypeStatsRecord[]>> {
    const reads = await Promise.all(this.shards.map((s) => s.typeStats()));
    // Lightest first, as one Redis store lists its set of types.
    return this.#merge(reads, "demand", scaleTypes, (all) =>
      all.flat().sort((a, b) => a.w - b.w || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)),
    );
  }

  async profile(): Promise<Scaled<ProfileRecord>> {
    const reads = await Promise.all(this.shards.map((s) => s.profile()));
    return this.#merge(
      reads,
      "profile",
      (p, f) => ({ ...p, hours: p.hours.map((w) => w * f) }),
      (all) => {
        const hours = new Array<number>(168).fill(0);
        let events = 0;
        let firstTime: number | undefined;
        for (const p of all) {
          // Each hour lives in one shard: a sum over shards adds zeros to it, exactly.
          p.hours.forEach((w, h) => {
            hours[h]! += w;
          });
          events += p.events;
          if (p.firstTime !== undefined) firstTime = Math.min(firstTime ?? p.firstTime, p.firstTime);
        }
        return { hours, events, firstTime };
      },
    );
  }

  successors(source: string, limit: number): Promise<Scaled<SuccessorsRecord>> {
    // A source and all its successors live in one shard: its read is that shard's, on its own landmark.
    return this.shards[shardOf(source, this.shards.length)]!.successors(source, limit);
  }

  async appendActions(events: readonly ActionEvent[], limits: ActionLimits): Promise<void> {
    const n = this.shards.length;
    const parts = Array.from({ length: n }, (): ActionEvent[] => []);
    for (const e of events) parts[shardOf(userKey(e.tenant, e.userId), n)]!.push(e);
    const targets = parts.flatMap((p, i) => (p.length > 0 ? [i] : []));
    await this.#fanOut(events, targets, (i) => this.shards[i]!.appendActions(parts[i]!, limits));
  }

  userActions(tenant: string, userId: string, limit: number): Promise<ActionRecord[]> {
    return this.shards[shardOf(userKey(tenant, userId), this.shards.length)]!.userActions(
      tenant,
      userId,
      limit,
    );
  }

  async histories(): Promise<UserHistory[]> {
    const all = (await Promise.all(this.shards.map((s) => s.histories()))).flat();
    // As one store lists them: least recently active first (by last action), then by user.
    const last = (h: UserHistory): number => h.actions[h.actions.length - 1]?.time ?? 0;
    const id = (h: UserHistory): string => userKey(h.tenant, h.userId);
    return all.sort((a, b) => last(a) - last(b) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  }

  async removeActionsBefore(cutoff: number): Promise<number> {
    const removed = await Promise.all(this.shards.map((s) => s.removeActionsBefore(cutoff)));
    return removed.reduce((a, b) => a + b, 0);
  }

  putLaunch(launch: LaunchRecord): Promise<void> {
    return this.shards[shardOf(launch.id, this.shards.length)]!.putLaunch(launch);
  }

  async launchesBetween(from: number, to: number, tenant?: string): Promise<LaunchRecord[]> {
    const all = (await Promise.all(this.shards.map((s) => s.launchesBetween(from, to, tenant)))).flat();
    return all.sort((a, b) => a.launchAt - b.launchAt || (a.id < b.id ? -1 : 1));
  }

  async removeLaunchesBefore(cutoff: number): Promise<number> {
    const removed = await Promise.all(this.shards.map((s) => s.removeLaunchesBefore(cutoff)));
    return removed.reduce((a, b) => a + b, 0);
  }
  /** A tenant's learned state lives on the tenant's shard. */
  putLearning(record: LearningRecord): Promise<void> {
    return this.shards[shardOf(record.tenant, this.shards.length)]!.putLearning(record);
  }

  async *learningRecords(only?: (tenant: string) => boolean): AsyncGenerator<LearningRecord> {
    for (const shard of this.shards) yield* shard.learningRecords(only);
  }

  async removeLearningBefore(cutoff: number): Promise<number> {
    const removed = await Promise.all(this.shards.map((s) => s.removeLearningBefore(cutoff)));
    return removed.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    try {
      await Promise.all(this.shards.map((s) => s.close()));
    } finally {
      await this.#o.onClose?.();
    }
  }

  /** One part per shard; hours by hour of week, the event count and first time with one non-empty part. */
  #split(d: CounterDelta): CounterDelta[] {
    const n = this.shards.length;
    const parts = Array.from({ length: n }, () => {
      const p = emptyCounterDelta(d);
      p.firstTime = d.firstTime;
      return p;
    });
    for (const [k, v] of d.keys) parts[shardOf(k, n)]!.keys.set(k, v);
    for (const [m, w] of d.entities) parts[shardOf(m, n)]!.entities.set(m, w);
    for (const [m, w] of d.tenants) parts[shardOf(m, n)]!.tenants.set(m, w);
    for (const [t, v] of d.types) parts[shardOf(t, n)]!.types.set(t, v);
    for (const [h, w] of d.hours) parts[h % n]!.hours.set(h, w);
    for (const [s, next] of d.successors) parts[shardOf(s, n)]!.successors.set(s, next);
    if (d.events > 0) (parts.find((p) => !isEmpty(p)) ?? parts[0]!).events = d.events;
    return parts;
  }

  /** Writes to each target shard at once; on a failure, remembers which took it (see the class comment). */
  async #fanOut(written: object, targets: number[], write: (shard: number) => Promise<void>): Promise<void> {
    const done = this.#partial.get(written) ?? new Set<number>();
    const results = await Promise.allSettled(
      targets
        .filter((i) => !done.has(i))
        .map(async (i) => {
          await write(i);
          done.add(i);
        }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) {
      this.#partial.set(written, done);
      throw failed.reason;
    }
    this.#partial.delete(written);
  }

  /** Looks keys up in their shards only, and puts the answers back in the asked order (key counts: the keys rate). */
  async #lookup<T>(
    keys: readonly string[],
    read: (shard: AnalyzerStore, keys: string[]) => Promise<Scaled<T[]>>,
    scale: (value: T[], factor: number) => T[],
  ): Promise<Scaled<T[]>> {
    const n = this.shards.length;
    const asked = Array.from({ length: n }, (): { keys: string[]; at: number[] } => ({ keys: [], at: [] }));
    keys.forEach((k, i) => {
      const a = asked[shardOf(k, n)]!;
      a.keys.push(k);
      a.at.push(i);
    });
    // Nothing asked still answers a landmark: every shard's, as a merged read.
    const used = keys.length === 0 ? asked : asked.filter((a) => a.keys.length > 0);
    const reads = await Promise.all(used.map((a) => read(this.shards[asked.indexOf(a)]!, a.keys)));
    return this.#merge(reads, "keys", scale, (values) => {
      const out = new Array<T>(keys.length);
      values.forEach((v, j) => {
        used[j]!.at.forEach((i, k) => {
          out[i] = v[k]!;
        });
      });
      return out;
    });
  }

  /** Shards' reads on the newest of their landmarks (rescaling any older), combined. */
  #merge<T, R>(
    reads: Scaled<T>[],
    family: keyof DecayRates,
    scale: (value: T, factor: number) => T,
    combine: (values: T[]) => R,
  ): Scaled<R> {
    const landmark = Math.max(...reads.map((r) => r.landmark));
    const values = reads.map((r) => {
      if (r.landmark === landmark) return r.value;
      const rates = this.#rates;
      if (rates === undefined)
        throw new UnavailableError(
          "analyzer store: shards are on different landmarks, and no decay rates are known to merge them",
        );
      return scale(r.value, rescaleFactor(rates[family], r.landmark, landmark));
    });
    return { landmark, value: combine(values) };
  }
}

const userKey = (tenant: string, userId: string): string => `${tenant}\u0000${userId}`;

const isEmpty = (d: CounterDelta): boolean =>
  d.events === 0 &&
  d.keys.size === 0 &&
  d.entities.size === 0 &&
  d.tenants.size === 0 &&
  d.types.size === 0 &&
  d.hours.size === 0 &&
  d.successors.size === 0;

/** Heaviest first; ties as Redis lists them in ZREVRANGE, by member in reverse order. */
const byWeightThen =
  <T extends { w: number }>(name: (x: T) => string) =>
  (a: T, b: T): number =>
    b.w - a.w || (name(a) < name(b) ? 1 : name(a) > name(b) ? -1 : 0);

const scaleKeys = <K extends KeyCount | undefined>(ks: K[], f: number): K[] =>
  ks.map(
    (k) => (k === undefined ? k : { key: k.key, w: k.w * f, error: k.error * f, miss: k.miss * f }) as K,
  );

const scaleMembers = (ms: MemberCount[], f: number): MemberCount[] =>
  ms.map((m) => ({ member: m.member, w: m.w * f }));

const scaleTypes = (ts: TypeStatsRecord[], f: number): TypeStatsRecord[] =>
  ts.map((t) => ({
    type: t.type,
    w: t.w * f,
    hit: t.hit * f,
    stale: t.stale * f,
    miss: t.miss * f,
    computeW: t.computeW * f,
    computeSum: t.computeSum * f,
    buckets: new Map([...t.buckets].map(([b, w]) => [b, w * f])),
  }));
