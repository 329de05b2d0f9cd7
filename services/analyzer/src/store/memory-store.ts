import type { ActionEvent } from "../core/events.js";
import { type DecayRates, rescaleFactor } from "../core/forward-decay.js";
import { SpaceSaving } from "../core/space-saving.js";
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
  TypeDelta,
  TypeStatsRecord,
  UserHistory,
} from "./analyzer-store.js";

const emptyType = (): TypeDelta => ({
  w: 0,
  hit: 0,
  stale: 0,
  miss: 0,
  computeW: 0,
  computeSum: 0,
  buckets: new Map(),
});

function scaleType(t: TypeDelta, f: number): void {
  t.w *= f;
  t.hit *= f;
  t.stale *= f;
  t.miss *= f;
  t.computeW *= f;
  t.computeSum *= f;
  for (const [b, w] of t.buckets) t.buckets.set(b, w * f);
}

interface UserLog {
  /** The log's key in the users map. */
  id: string;
  tenant: string;
  userId: string;
  actions: ActionRecord[];
  lastTime: number;
}

const userKey = (tenant: string, userId: string): string => `${tenant}\u0000${userId}`;

/** The embedded store: everything in process memory, bounded by the same capacities as Redis. */
export class MemoryAnalyzerStore implements AnalyzerStore {
  #landmark: number | undefined;
  #capacities: Capacities | undefined;
  #keys: SpaceSaving | undefined;
  /** Each counted key's decayed misses, in a box updated in place (a number set in a map is a new box each time). */
  readonly #keyMiss = new Map<string, { miss: number }>();
  #entities: SpaceSaving | undefined;
  #tenants: SpaceSaving | undefined;
  #typeSet: SpaceSaving | undefined;
  readonly #types = new Map<string, TypeDelta>();
  readonly #hours: number[] = new Array<number>(168).fill(0);
  #events = 0;
  #firstTime: number | undefined;
  #sources: SpaceSaving | undefined;
  readonly #successors = new Map<string, SpaceSaving>();
  readonly #users = new Map<string, UserLog>();
  readonly #launches = new Map<string, LaunchRecord>();
  readonly #learning = new Map<string, LearningRecord>();

  async ready(): Promise<void> {}

  async applyCounters(delta: CounterDelta, capacities: Capacities): Promise<void> {
    this.#ensure(capacities);
    const r = delta.rates;
    // Bring the stored state and the delta onto one landmark, the newer.
    let f: DecayRates = { demand: 1, keys: 1, profile: 1, successors: 1 };
    if (this.#landmark === undefined) this.#landmark = delta.landmark;
    else if (delta.landmark > this.#landmark) this.#rescale(r, this.#landmark, delta.landmark);
    else if (delta.landmark < this.#landmark) f = factors(r, delta.landmark, this.#landmark);

    for (const [key, { w, miss }] of delta.keys) {
      const evicted = this.#keys!.add(key, w * f.keys);
      if (evicted !== undefined) this.#keyMiss.delete(evicted);
      const m = this.#keyMiss.get(key);
      if (m === undefined) this.#keyMiss.set(key, { miss: 0 + miss * f.keys });
      else m.miss += miss * f.keys;
    }
    for (const [m, w] of delta.entities) this.#entities!.add(m, w * f.demand);
    for (const [m, w] of delta.tenants) this.#tenants!.add(m, w * f.demand);
    for (const [type, d] of delta.types) {
      const evicted = this.#typeSet!.add(type, d.w * f.demand);
      if (evicted !== undefined) this.#types.delete(evicted);
      const t = this.#types.get(type) ?? emptyType();
      t.w += d.w * f.demand;
      t.hit += d.hit * f.demand;
      t.stale += d.stale * f.demand;
      t.miss += d.miss * f.demand;
      t.computeW += d.computeW * f.demand;
      t.computeSum += d.computeSum * f.demand;
      for (const [b, w] of d.buckets) t.buckets.set(b, (t.buckets.get(b) ?? 0) + w * f.demand);
      this.#types.set(type, t);
    }
    for (const [h, w] of delta.hours) this.#hours[h] = (this.#hours[h] ?? 0) + w * f.profile;
    this.#events += delta.events;
    if (delta.events > 0) this.#firstTime = Math.min(this.#firstTime ?? delta.firstTime, delta.firstTime);
    for (const [source, next] of delta.successors) {
      let total = 0;
      for (const w of next.values()) total += w * f.successors;
      const evicted = this.#sources!.add(source, total);
      if (evicted !== undefined) this.#successors.delete(evicted);
      let set = this.#successors.get(source);
      if (set === undefined) {
        set = new SpaceSaving(capacities.successorsPerSource);
        this.#successors.set(source, set);
      }
      for (const [key, w] of next) set.add(key, w * f.successors);
    }
  }

  async topKeys(limit: number): Promise<Scaled<KeyCount[]>> {
    const top = this.#keys?.top(limit) ?? [];
    return this.#scaled(
      top.map((h) => ({
        key: h.item,
        w: h.count,
        error: h.error,
        miss: this.#keyMiss.get(h.item)?.miss ?? 0,
      })),
    );
  }

  async keyCounts(keys: readonly string[]): Promise<Scaled<(KeyCount | undefined)[]>> {
    return this.#scaled(
      keys.map((key) => {
        const h = this.#keys?.get(key);
        return h === undefined
          ? undefined
          : { key, w: h.count, error: h.error, miss: this.#keyMiss.get(key)?.miss ?? 0 };
      }),
    );
  }

  async keyWeights(keys: readonly string[]): Promise<Scaled<(number | undefined)[]>> {
    const sketch = this.#keys;
    return this.#scaled(keys.map((key) => sketch?.count(key)));
  }

  async topMembers(family: "entities" | "tenants", limit: number): Promise<Scaled<MemberCount[]>> {
    const set = family === "entities" ? this.#entities : this.#tenants;
    return this.#scaled((set?.top(limit) ?? []).map((h) => ({ member: h.item, w: h.count })));
  }

  async typeStats(): Promise<Scaled<TypeStatsRecord[]>> {
    return this.#scaled([...this.#types].map(([type, t]) => ({ type, ...t, buckets: new Map(t.buckets) })));
  }

  async profile(): Promise<Scaled<ProfileRecord>> {
    return this.#scaled({ hours: [...this.#hours], events: this.#events, firstTime: this.#firstTime });
  }

  async successors(source: string, limit: number): Promise<Scaled<SuccessorsRecord>> {
    const total = this.#sources?.get(source)?.count ?? 0;
    const next = this.#successors.get(source)?.top(limit) ?? [];
    return this.#scaled({ total, successors: next.map((h) => ({ member: h.item, w: h.count })) });
  }

  async appendActions(events: readonly ActionEvent[], limits: ActionLimits): Promise<void> {
    for (const e of events) {
      const id = userKey(e.tenant, e.userId);
      const log = this.#users.get(id) ?? {
        id,
        tenant: e.tenant,
        userId: e.userId,
        actions: [],
        lastTime: e.time,
      };
      insertByTime(log.actions, { time: e.time, action: e.action });
      if (log.actions.length > limits.perUser) log.actions.splice(0, log.actions.length - limits.perUser);
      log.lastTime = Math.max(log.lastTime, e.time);
      // Re-inserting keeps the map in recency order, so the oldest user is first.
      this.#users.delete(id);
      this.#users.set(log.id, log);
    }
    // The map is in order of last append, so the first user is the least recently active.
    while (this.#users.size > limits.users) this.#users.delete(this.#users.keys().next().value!);
  }

  async userActions(tenant: string, userId: string, limit: number): Promise<ActionRecord[]> {
    const actions = this.#users.get(userKey(tenant, userId))?.actions ?? [];
    return actions.slice(Math.max(0, actions.length - limit)).map(copyAction);
  }

  async histories(): Promise<UserHistory[]> {
    return [...this.#users.values()].map((u) => ({
      tenant: u.tenant,
      userId: u.userId,
      actions: u.actions.map(copyAction),
    }));
  }

  async removeActionsBefore(cutoff: number): Promise<number> {
    let removed = 0;
    for (const [id, log] of this.#users) {
      const keep = log.actions.filter((a) => a.time >= cutoff);
      removed += log.actions.length - keep.length;
      if (keep.length === 0) this.#users.delete(id);
      else log.actions = keep;
    }
    return removed;
  }

  async putLaunch(launch: LaunchRecord): Promise<void> {
    this.#launches.set(launch.id, structuredClone(launch));
  }

  async launchesBetween(from: number, to: number, tenant?: string): Promise<LaunchRecord[]> {
    return [...this.#launches.values()]
      .filter((l) => l.launchAt >= from && l.launchAt <= to && (tenant === undefined || l.tenant === tenant))
      .sort((a, b) => a.launchAt - b.launchAt || (a.id < b.id ? -1 : 1))
      .map((l) => structuredClone(l));
  }

  async removeLaunchesBefore(cutoff: number): Promise<number> {
    let removed = 0;
    for (const [id, l] of this.#launches) {
      if (l.launchAt < cutoff) {
        this.#launches.delete(id);
        removed++;
      }
    }
    return removed;
  }
  async putLearning(record: LearningRecord): Promise<void> {
    this.#learning.set(record.tenant, { ...record });
  }

  async *learningRecords(only?: (tenant: string) => boolean): AsyncGenerator<LearningRecord> {
    for (const r of [...this.#learning.values()]) if (only === undefined || only(r.tenant)) yield { ...r };
  }

  async removeLearningBefore(cutoff: number): Promise<number> {
    let n = 0;
    for (const [tenant, r] of this.#learning)
      if (r.savedAt < cutoff) {
        this.#learning.delete(tenant);
        n++;
      }
    return n;
  }

  async close(): Promise<void> {}

  #ensure(c: Capacities): void {
    if (this.#capacities !== undefined) return;
    this.#capacities = c;
    this.#keys = new SpaceSaving(c.keys);
    this.#entities = new SpaceSaving(c.entities);
    this.#tenants = new SpaceSaving(c.tenants);
    this.#typeSet = new SpaceSaving(c.types);
    this.#sources = new SpaceSaving(c.successorSources);
  }

  #rescale(rates: DecayRates, from: number, to: number): void {
    const f = factors(rates, from, to);
    this.#keys?.scale(f.keys);
    for (const m of this.#keyMiss.values()) m.miss *= f.keys;
    this.#entities?.scale(f.demand);
    this.#tenants?.scale(f.demand);
    this.#typeSet?.scale(f.demand);
    for (const t of this.#types.values()) scaleType(t, f.demand);
    for (let h = 0; h < 168; h++) this.#hours[h] = (this.#hours[h] ?? 0) * f.profile;
    this.#sources?.scale(f.successors);
    for (const set of this.#successors.values()) set.scale(f.successors);
    this.#landmark = to;
  }

  #scaled<T>(value: T): Scaled<T> {
    return { landmark: this.#landmark ?? 0, value };
  }
}

function factors(r: DecayRates, from: number, to: number): DecayRates {
  return {
    demand: rescaleFactor(r.demand, from, to),
    keys: rescaleFactor(r.keys, from, to),
    profile: rescaleFactor(r.profile, from, to),
    successors: rescaleFactor(r.successors, from, to),
  };
}

/** A caller's own copy of an action (field by field: a retrain copies every action of every user). */
const copyAction = (a: ActionRecord): ActionRecord => ({ time: a.time, action: a.action });

/** Actions mostly arrive in order; a late one is placed where it belongs. */
function insertByTime(list: ActionRecord[], record: ActionRecord): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.time > record.time) i--;
  list.splice(i, 0, record);
}
