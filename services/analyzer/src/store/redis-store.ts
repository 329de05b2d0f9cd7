import { UnavailableError } from "@prescient/core";
import {
  connectRedis,
  defineLuaCommands,
  LuaCommand,
  type RedisClient,
  watchRedisErrors,
} from "@prescient/kit";
import type { ActionEvent } from "../core/events.js";
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

export interface RedisAnalyzerStoreOptions {
  /** Where to connect; ignored when `redis` is given. */
  redisUrl: string;
  /**
   * A client shared with other stores (the shards of a sharded store): the
   * caller connects and closes it; close() leaves it open. Default: the store
   * opens its own from `redisUrl`, and closes it.
   */
  redis: RedisClient | undefined;
  /** Prefix of every key; keep a hash tag in it for Redis Cluster. Default "prescient:{analyzer}:". */
  keyPrefix: string;
}

/**
 * The store's scripts, each `<file>.lua` with includes/helpers.lua. Each
 * takes one key, the key prefix: every key a script touches starts with it,
 * and its hash tag keeps them in one Cluster slot.
 */
const script = (name: string, file: string): LuaCommand =>
  new LuaCommand(name, new URL(`./${file}.lua`, import.meta.url), { numberOfKeys: 1 });
const scripts = {
  applyCounters: script("prescientAnalyzerApplyCounters", "apply-counters"),
  appendActions: script("prescientAnalyzerAppendActions", "append-actions"),
  removeActions: script("prescientAnalyzerRemoveActions", "remove-actions"),
};

/** Learned-state records asked for per HSCAN reply: each may be megabytes (learningSnapshotMaxRelations). */
const learningScanCount = 4;
const num = (v: string | null | undefined): number => (v == null ? 0 : Number(v));
const userId = (tenant: string, user: string): string => `${tenant}\u0000${user}`;

/** Production store: one Lua call per ingest batch (a single pipelined round trip). */
export class RedisAnalyzerStore implements AnalyzerStore {
  readonly redis: RedisClient;
  readonly #p: string;
  readonly #ownsClient: boolean;

  constructor(options: Partial<RedisAnalyzerStoreOptions> & ({ redisUrl: string } | { redis: RedisClient })) {
    this.#p = options.keyPrefix ?? "prescient:{analyzer}:";
    const shared = options.redis;
    this.#ownsClient = shared === undefined;
    if (shared !== undefined) this.redis = shared;
    else {
      this.redis = connectRedis(options.redisUrl!, { connectionName: "prescient-analyzer" });
      watchRedisErrors(this.redis, "analyzer");
    }
    defineLuaCommands(this.redis, Object.values(scripts));
  }

  /** The prefix of this store's keys. */
  get keyPrefix(): string {
    return this.#p;
  }

  async ready(): Promise<void> {
    try {
      // A shared client is connected by the first of its stores to get ready (they get ready in turn).
      if (this.redis.status === "wait") await this.redis.connect();
      // The scripts need no loading: their commands send the source when Redis lacks it.
      await this.redis.ping();
    } catch (e) {
      throw new UnavailableError(`analyzer store: Redis is unreachable: ${(e as Error).message}`);
    }
  }

  async applyCounters(d: CounterDelta, c: Capacities): Promise<void> {
    const args: Array<string | number> = [
      d.landmark,
      d.rates.demand,
      d.rates.profile,
      d.rates.successors,
      d.rates.keys,
      c.keys,
      c.entities,
      c.tenants,
      c.types,
      c.successorSources,
      c.successorsPerSource,
      d.events,
      d.firstTime,
      d.keys.size,
    ];
    for (const [k, v] of d.keys) args.push(k, v.w, v.miss);
    for (const family of [d.entities, d.tenants]) {
      args.push(family.size);
      for (const [m, w] of family) args.push(m, w);
    }
    args.push(d.types.size);
    for (const [t, v] of d.types) {
      args.push(t, v.w, v.hit, v.stale, v.miss, v.computeW, v.computeSum, v.buckets.size);
      for (const [b, w] of v.buckets) args.push(b, w);
    }
    args.push(d.hours.size);
    for (const [h, w] of d.hours) args.push(h, w);
    args.push(d.successors.size);
    for (const [source, next] of d.successors) {
      let total = 0;
      for (const w of next.values()) total += w;
      args.push(source, total, next.size);
      for (const [k, w] of next) args.push(k, w);
    }
    await this.#run(scripts.applyCounters, args);
  }

  async topKeys(limit: number): Promise<Scaled<KeyCount[]>> {
    const [landmark, flat] = await this.#withLandmark(
      this.redis.zrevrange(`${this.#p}keys`, 0, limit - 1, "WITHSCORES"),
    );
    const keys = pairs(flat);
    if (keys.length === 0) return { landmark, value: [] };
    const names = keys.map(([k]) => k);
    const [miss, err] = await Promise.all([
      this.redis.hmget(`${this.#p}keymiss`, ...names),
      this.redis.hmget(`${this.#p}keyerr`, ...names),
    ]);
    return {
      landmark,
      value: keys.map(([key, w], i) => ({ key, w, miss: num(miss[i]), error: num(err[i]) })),
    };
  }

  async keyCounts(keys: readonly string[]): Promise<Scaled<(KeyCount | undefined)[]>> {
    if (keys.length === 0) {
      const [landmark] = await this.#withLandmark(Promise.resolve(null));
      return { landmark, value: [] };
    }
    const [landmark, [scores, miss, err]] = await this.#withLandmark(
      Promise.all([
        this.redis.zmscore(`${this.#p}keys`, ...keys),
        this.redis.hmget(`${this.#p}keymiss`, ...keys),
        this.redis.hmget(`${this.#p}keyerr`, ...keys),
      ]),
    );
    return {
      landmark,
      value: keys.map((key, i) => {
        const w = scores[i];
        return w === null || w === undefined
          ? undefined
          : { key, w: Number(w), miss: num(miss[i]), error: num(err[i]) };
      }),
    };
  }

  async keyWeights(keys: readonly string[]): Promise<Scaled<(number | undefined)[]>> {
    if (keys.length === 0) {
      const [landmark] = await this.#withLandmark(Promise.resolve(null));
      return { landmark, value: [] };
    }
    const [landmark, scores] = await this.#withLandmark(this.redis.zmscore(`${this.#p}keys`, ...keys));
    return {
      landmark,
      value: keys.map((_, i) => {
        const w = scores[i];
        return w === null || w === undefined ? undefined : Number(w);
      }),
    };
  }

  async topMembers(family: "entities" | "tenants", limit: number): Promise<Scaled<MemberCount[]>> {
    const [landmark, flat] = await this.#withLandmark(
      this.redis.zrevrange(`${this.#p}${family}`, 0, limit - 1, "WITHSCORES"),
    );
    return { landmark, value: pairs(flat).map(([member, w]) => ({ member, w })) };
  }

  async typeStats(): Promise<Scaled<TypeStatsRecord[]>> {
    const [landmark, types] = await this.#withLandmark(this.redis.zrange(`${this.#p}types`, "0", "-1"));
    const pipeline = this.redis.pipeline();
    for (const t of types) pipeline.hgetall(`${this.#p}type:${t}`);
    const replies = types.length === 0 ? [] : ((await pipeline.exec()) ?? []);
    const value = types.map((type, i) => {
      const h = (replies[i]?.[1] ?? {}) as Record<string, string>;
      const buckets = new Map<number, number>();
      for (const [f, v] of Object.entries(h))
        if (f.startsWith("b")) buckets.set(Number(f.slice(1)), Number(v));
      return {
        type,
        w: num(h.w),
        hit: num(h.hit),
        stale: num(h.stale),
        miss: num(h.miss),
        computeW: num(h.cw),
        computeSum: num(h.cs),
        buckets,
      };
    });
    return { landmark, value };
  }

  async profile(): Promise<Scaled<ProfileRecord>> {
    const [hours, meta] = await Promise.all([
      this.redis.hgetall(`${this.#p}hours`),
      this.redis.hgetall(`${this.#p}meta`),
    ]);
    const value: ProfileRecord = {
      hours: Array.from({ length: 168 }, (_, h) => num(hours[String(h)])),
      events: num(meta.events),
      firstTime: meta.first === undefined ? undefined : Number(meta.first),
    };
    return { landmark: num(meta.landmark), value };
  }

  async successors(source: string, limit: number): Promise<Scaled<SuccessorsRecord>> {
    const [landmark, [total, flat]] = await this.#withLandmark(
      Promise.all([
        this.redis.zscore(`${this.#p}sources`, source),
        this.redis.zrevrange(`${this.#p}succ:${source}`, 0, limit - 1, "WITHSCORES"),
      ]),
    );
    return {
      landmark,
      value: { total: num(total), successors: pairs(flat).map(([member, w]) => ({ member, w })) },
    };
  }

  async appendActions(events: readonly ActionEvent[], limits: ActionLimits): Promise<void> {
    if (events.length === 0) return;
    const args: Array<string | number> = [limits.perUser, limits.users];
    for (const e of events) args.push(userId(e.tenant, e.userId), e.time, e.action);
    await this.#run(scripts.appendActions, args);
  }

  async userActions(tenant: string, user: string, limit: number): Promise<ActionRecord[]> {
    const entries = await this.redis.lrange(`${this.#p}act:${userId(tenant, user)}`, -limit, -1);
    return parseActions(entries);
  }

  async histories(): Promise<UserHistory[]> {
    const users = await this.redis.zrange(`${this.#p}actusers`, "0", "-1");
    const out: UserHistory[] = [];
    // In chunks, so that one pipeline never holds every log at once.
    for (let i = 0; i < users.length; i += 500) {
      const chunk = users.slice(i, i + 500);
      const pipeline = this.redis.pipeline();
      for (const u of chunk) pipeline.lrange(`${this.#p}act:${u}`, 0, -1);
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach((u, j) => {
        const sep = u.indexOf("\u0000");
        const actions = parseActions((replies[j]?.[1] ?? []) as string[]);
        if (actions.length > 0) out.push({ tenant: u.slice(0, sep), userId: u.slice(sep + 1), actions });
      });
    }
    return out;
  }

  async removeActionsBefore(cutoff: number): Promise<number> {
    return Number(await this.#run(scripts.removeActions, [cutoff]));
  }

  async putLaunch(launch: LaunchRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(`${this.#p}launches`, launch.id, JSON.stringify(launch))
      .zadd(`${this.#p}launchtimes`, launch.launchAt, launch.id)
      .exec();
  }

  async launchesBetween(from: number, to: number, tenant?: string): Promise<LaunchRecord[]> {
    const ids = await this.redis.zrangebyscore(`${this.#p}launchtimes`, from, to);
    if (ids.length === 0) return [];
    const docs = await this.redis.hmget(`${this.#p}launches`, ...ids);
    return (
      docs
        .filter((d): d is string => d !== null)
        // Launches stored before the event was recorded have none.
        .map((d) => ({ event: "", ...(JSON.parse(d) as Omit<LaunchRecord, "event">) }))
        .filter((l) => tenant === undefined || l.tenant === tenant)
        .sort((a, b) => a.launchAt - b.launchAt || (a.id < b.id ? -1 : 1))
    );
  }

  async removeLaunchesBefore(cutoff: number): Promise<number> {
    const ids = await this.redis.zrangebyscore(`${this.#p}launchtimes`, "-inf", `(${cutoff}`);
    if (ids.length === 0) return 0;
    await this.redis
      .multi()
      .hdel(`${this.#p}launches`, ...ids)
      .zrem(`${this.#p}launchtimes`, ...ids)
      .exec();
    return ids.length;
  }

  /**
   * As launches are kept: the bodies in one hash (tenant → body, stored as
   * given), their save times in a sorted set (tenant by savedAt), so clean-up
   * reads times alone, and a body is never parsed or escaped again here.
   */
  async putLearning(record: LearningRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(`${this.#p}learning`, record.tenant, record.body)
      .zadd(`${this.#p}learningtimes`, record.savedAt, record.tenant)
      .exec();
  }

  /**
   * The save times first (a score per tenant), then the bodies by HSCAN, a
   * few per reply: HGETALL would make Redis build, and Node hold, one reply
   * of every tenant's record at once. HSCAN may return a field twice. With
   * `only`, the tenants it accepts are read by name instead, as few per
   * HMGET.
   */
  async *learningRecords(only?: (tenant: string) => boolean): AsyncGenerator<LearningRecord> {
    const times = await this.redis.zrange(`${this.#p}learningtimes`, "0", "-1", "WITHSCORES");
    const savedAt = new Map<string, number>();
    for (let i = 0; i < times.length; i += 2) savedAt.set(times[i]!, Number(times[i + 1]));
    if (only !== undefined) {
      const wanted = [...savedAt.keys()].filter(only);
      for (let i = 0; i < wanted.length; i += learningScanCount) {
        const names = wanted.slice(i, i + learningScanCount);
        const bodies = await this.redis.hmget(`${this.#p}learning`, ...names);
        for (const [j, body] of bodies.entries())
          if (body !== null) yield { tenant: names[j]!, savedAt: savedAt.get(names[j]!) ?? 0, body };
      }
      return;
    }
    let cursor = "0";
    do {
      const [next, flat] = await this.redis.hscan(`${this.#p}learning`, cursor, "COUNT", learningScanCount);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2)
        yield { tenant: flat[i]!, savedAt: savedAt.get(flat[i]!) ?? 0, body: flat[i + 1]! };
    } while (cursor !== "0");
  }

  async removeLearningBefore(cutoff: number): Promise<number> {
    const old = await this.redis.zrangebyscore(`${this.#p}learningtimes`, "-inf", `(${cutoff}`);
    if (old.length === 0) return 0;
    await this.redis
      .multi()
      .hdel(`${this.#p}learning`, ...old)
      .zrem(`${this.#p}learningtimes`, ...old)
      .exec();
    return old.length;
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await closeRedis(this.redis);
  }

  async #withLandmark<T>(read: Promise<T>): Promise<[number, T]> {
    const [landmark, value] = await Promise.all([this.redis.hget(`${this.#p}meta`, "landmark"), read]);
    return [num(landmark), value];
  }

  #run(command: LuaCommand, args: Array<string | number>): Promise<unknown> {
    return command.run(this.redis, [this.#p], args);
  }
}

/** Quits a client gracefully, or drops it when it never connected or the quit fails. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === "end" || redis.status === "wait") {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}

function pairs(flat: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

function parseActions(entries: string[]): ActionRecord[] {
  return entries
    .map((e) => {
      const sep = e.indexOf("|");
      return { time: Number(e.slice(0, sep)), action: e.slice(sep + 1) };
    })
    .sort((a, b) => a.time - b.time);
}
