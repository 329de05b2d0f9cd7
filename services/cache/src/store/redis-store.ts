import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type Clock, errorMessage, systemClock, TimeSlicer } from "@prescient/core";
import { connectRedis, LuaCommand } from "@prescient/kit";
import type { Logger } from "pino";
import type {
  CachedResult,
  CacheStore,
  GetManyOptions,
  InvalidationSelector,
  StoreCount,
  StoreWrite,
} from "./cache-store.js";
import { numericModelVersion } from "./cache-store.js";
import { EncodedResult, encodedResultOf, expiresAtMsOf } from "./encoded-result.js";
import { type BudgetTally, type BudgetWrite, RedisBudget, redisEntryBytes } from "./redis-budget.js";
import { invalidateRedis, pruneGone, sweepRedis, type UntrackedRead } from "./redis-invalidation.js";
import { groupByTenant, type RedisClient, RedisLayout, scanSet } from "./redis-layout.js";
import { nearCacheDefaults, RedisNearCache } from "./redis-near-cache.js";
import { encodeResult, encodeSmallResult } from "./result-bytes.js";
import { ValueSizes } from "./value-sizes.js";

export interface RedisStoreOptions {
  /** redis:// URL, used when no `client` is given. Default redis://127.0.0.1:6379. */
  url: string;
  /** A client to use instead (e.g. an ioredis Cluster); the store does not close it. */
  client: RedisClient | undefined;
  /** Prefix of every key the store writes. Default "prescient:cache:". */
  keyPrefix: string;
  /** Per-command limit, so a hung Redis turns into degraded answers, not hung calls. Default 1000 ms. */
  commandTimeoutMs: number;
  /** Members per SSCAN/ZRANGE chunk and per UNLINK during invalidation. Default 500. */
  chunkSize: number;
  /** How often the sweeper looks whether stale index members are worth pruning, on one replica of the store per interval (periodicSweep); 0 turns it off. Default 5 min. */
  sweepIntervalMs: number;
  /**
   * The sweeper's timer sweeps only once the entries whose index members
   * were left to it since the last sweep (counted on the budget's ledger:
   * those of tenants with more indexes than are pruned as entries leave,
   * and of prunes that failed) number at least this share of the entries
   * held. A sweep costs about as much per live entry as per stale member,
   * so sweeping on every tick cost each entry a pass per interval of its
   * life (72 for a 6-hour TTL at 5 minutes); at 0.25 a gone entry left to
   * the sweeper pays for about 5 passes, whatever its TTL, and such stale
   * members stay under about a quarter of the live entries plus one
   * interval's churn. 0 sweeps on every tick. Default 0.25.
   */
  sweepMinStaleShare: number;
  /**
   * Most entries held; beyond it the entries closest to expiry are evicted
   * (redis-budget.ts). Default 1,000,000.
   */
  maxEntries: number;
  /**
   * Most bytes held, as estimated per entry (value, key, index memberships,
   * Redis overhead; see redisEntryBytes). Keep it below Redis's maxmemory,
   * which is the hard stop. Default 1 GiB.
   */
  maxBytes: number;
  /** Told how many entries each eviction removed (the evictions metric). Default: nothing. */
  onEvicted: (count: number) => void;
  /**
   * Entries kept in the process and served without a round trip while Redis
   * says they are unchanged (redis-near-cache.ts: CLIENT TRACKING). 0 turns
   * it off; it is always off on a `client` given. Default 10,000.
   */
  nearCacheMaxEntries: number;
  /** Most value bytes the near cache holds. Default 32 MiB. */
  nearCacheMaxBytes: number;
  /** Told how many reads the near cache answered (the near-hits metric). Default: nothing. */
  onNearHits: (count: number) => void;
  /**
   * Told of each sweep the timer ran (periodicSweep; not one it skipped
   * for another replica's lease): members pruned and seconds taken.
   * Default: nothing.
   */
  onSwept: (sweep: { pruned: number; seconds: number }) => void;
  /**
   * A freshness check (expiries) reads the expiry of a task type's results
   * from their TTLs (physical-ttls.lua) once this process has seen them
   * average at least this many bytes, and from their values below it (and
   * before it has seen any). Measured with `npm run bench -- cache-expiries`:
   * a value cost redis-server about 0.24 µs plus 0.64 µs per KB, a TTL read
   * by script 0.69 µs whatever the size; Node spends less either way on
   * TTLs. 0: always TTLs. Default 1024.
   */
  expiriesFromTtlMinBytes: number;
  /** Turns expiry instants into relative PX times. Default: the system clock. */
  clock: Clock;
  logger: Logger | undefined;
}

export const redisStoreDefaults: Readonly<
  Omit<RedisStoreOptions, "clock" | "client" | "logger" | "onEvicted" | "onNearHits" | "onSwept">
> = {
  url: "redis://127.0.0.1:6379",
  keyPrefix: "prescient:cache:",
  commandTimeoutMs: 1000,
  chunkSize: 500,
  sweepIntervalMs: 5 * 60_000,
  sweepMinStaleShare: 0.25,
  maxEntries: 1_000_000,
  maxBytes: 1024 * 1024 * 1024,
  nearCacheMaxEntries: nearCacheDefaults.maxEntries,
  nearCacheMaxBytes: nearCacheDefaults.maxBytes,
  expiriesFromTtlMinBytes: 1024,
};

/** putMany's per-tenant write (put-entries.lua); its keys vary in number. */
const putEntries = new LuaCommand("prescientCachePut", new URL("./put-entries.lua", import.meta.url));

/** expiries' per-tenant read of large results (physical-ttls.lua): the entries' TTLs, not their values. */
const physicalTtls = new LuaCommand("prescientCacheTtls", new URL("./physical-ttls.lua", import.meta.url));

/**
 * Most indexes a tenant may have for an entry that leaves the budget's
 * ledger to be taken out of all of them at once (pruneGone): each costs a
 * command per batch of such entries, whether the entry was in it or not. A
 * tenant of a few models qualifies; one of many tags leaves them to the
 * sweeper.
 */
const inlinePruneMaxIndexes = 8;

/**
 * How long after an entry's expiry the budget's ledger forgets it. Redis
 * takes an entry's PX a little after the store took the time it counts it
 * from, so it expires the entry that much later than the ledger would; by
 * this long after, Redis has, and its index members can be pruned at once
 * rather than left to the sweeper (prune-gone.lua). Measured: without it,
 * 3-7% of the entries expiring at 2,500 writes/s were still in Redis.
 */
const ledgerLagMs = 250;

/** Most entries the budget forgets or evicts per call: a PutMany holds at most 1,000 by default. */
const budgetBatch = 1_000;

/**
 * The production store. Entries are protobuf-encoded Results under
 * hash-tagged keys (see redis-layout.ts); writes go as one script per tenant,
 * reads as one MGET per tenant. Needs Redis 7 (PEXPIRE NX/GT).
 */
export class RedisCacheStore implements CacheStore {
  readonly name = "redis";
  readonly options: RedisStoreOptions;
  readonly client: RedisClient;
  readonly layout: RedisLayout;
  readonly #ownsClient: boolean;
  readonly #budget: RedisBudget;
  /** Undefined when off: a client given, or nearCacheMaxEntries 0. */
  readonly near: RedisNearCache | undefined;
  /** Mean stored size per task type, for how expiries are read. */
  readonly #sizes = new ValueSizes();
  /** Who holds the sweep lease, for an operator reading it. */
  readonly #replica = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options?: Partial<RedisStoreOptions>) {
    this.options = {
      ...redisStoreDefaults,
      clock: systemClock,
      client: undefined,
      logger: undefined,
      onEvicted: () => {},
      onNearHits: () => {},
      onSwept: () => {},
      ...options,
    };
    const share = this.options.sweepMinStaleShare;
    if (!(share >= 0 && share <= 1)) throw new RangeError("sweepMinStaleShare must be in [0, 1]");
    this.layout = new RedisLayout(this.options.keyPrefix);
    this.#ownsClient = this.options.client === undefined;
    this.client =
      this.options.client ??
      connectRedis(this.options.url, {
        connectionName: "prescient-cache",
        commandTimeoutMs: this.options.commandTimeoutMs,
        lazyConnect: false,
        // Fail fast while disconnected: a lookup then answers degraded at once
        // instead of waiting in a queue; ioredis keeps reconnecting meanwhile.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
      });
    putEntries.define(this.client);
    physicalTtls.define(this.client);
    let lastLog = 0;
    this.client.on("error", (err: Error) => {
      // ioredis repeats connection errors on every retry; one line per 10 s is plenty.
      const now = Date.now();
      if (now - lastLog < 10_000) return;
      lastLog = now;
      this.options.logger?.warn({ err: errorMessage(err) }, "redis connection error");
    });
    this.near =
      // Only on a connection of its own: tracking changes what a connection is sent.
      this.#ownsClient && this.options.nearCacheMaxEntries > 0
        ? new RedisNearCache(this.client, {
            maxEntries: this.options.nearCacheMaxEntries,
            maxBytes: this.options.nearCacheMaxBytes,
            onHits: this.options.onNearHits,
            now: () => this.options.clock.now(),
            logger: this.options.logger,
          })
        : undefined;
    this.#budget = new RedisBudget(this.client, this.layout, {
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      batch: budgetBatch,
    });
    if (this.options.sweepIntervalMs > 0) {
      this.#sweeper = setInterval(() => {
        this.periodicSweep().catch((err: unknown) =>
          this.options.logger?.warn({ err: errorMessage(err) }, "redis index sweep failed"),
        );
      }, this.options.sweepIntervalMs);
      this.#sweeper.unref();
    }
  }

  ready(): Promise<void> {
    if (this.client.status === "ready") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        this.client.off("end", onEnd);
        resolve();
      };
      const onEnd = (): void => {
        this.client.off("ready", onReady);
        reject(new Error("redis connection ended before it was ready"));
      };
      this.client.once("ready", onReady);
      this.client.once("end", onEnd);
    });
  }

  async get(key: string): Promise<CachedResult | undefined> {
    const physical = this.layout.entry(key);
    const near = this.near;
    if (near === undefined) return encodedResultOf(await this.client.getBuffer(physical));
    const held = near.get(physical);
    if (held !== undefined) {
      near.hits(1);
      return held;
    }
    const keys = [physical];
    const ticket = near.begin(keys);
    let bytes: Buffer | null;
    try {
      bytes = await this.client.getBuffer(physical);
    } catch (err) {
      near.abort(ticket, keys);
      throw err;
    }
    return near.end(ticket, keys, [bytes])[0];
  }

  async getMany(keys: readonly string[], options?: GetManyOptions): Promise<(CachedResult | undefined)[]> {
    const peek = options?.peek === true;
    const out = new Array<CachedResult | undefined>(keys.length);
    if (keys.length === 0) return out;
    const groups = groupByTenant(this.layout, keys);
    await Promise.all(
      [...groups].map(async ([tenant, found]) => {
        let positions = found;
        let physical = positions.map((i) => this.layout.entry(keys[i] as string, tenant));
        const near = this.near;
        if (near !== undefined) {
          // Answered from the process where it can; the rest go to Redis.
          const left: number[] = [];
          for (let j = 0; j < positions.length; j++) {
            const held = near.get(physical[j] as string);
            if (held === undefined) left.push(j);
            else out[positions[j] as number] = held;
          }
          // A freshness peek is not a read: the metric counts the reads the process saved a round trip.
          if (!peek) near.hits(positions.length - left.length);
          if (left.length === 0) return;
          if (left.length < positions.length) {
            positions = left.map((j) => positions[j] as number);
            physical = left.map((j) => physical[j] as string);
          }
        }
        if (peek && near !== undefined) {
          const values = await near.untrackedMget(this.client, physical);
          for (let j = 0; j < positions.length; j++) out[positions[j] as number] = encodedResultOf(values[j]);
          return;
        }
        const ticket = near?.begin(physical);
        let values: (Buffer | null)[];
        try {
          values = await this.client.mgetBuffer(physical);
        } catch (err) {
          near?.abort(ticket, physical);
          throw err;
        }
        const results = near?.end(ticket, physical, values) ?? values.map(encodedResultOf);
        for (let j = 0; j < positions.length; j++) out[positions[j] as number] = results[j];
      }),
    );
    return out;
  }

  async expiries(
    keys: readonly string[],
    staleGraceMs: (index: number) => number,
  ): Promise<(number | undefined)[]> {
    const out = new Array<number | undefined>(keys.length);
    if (keys.length === 0) return out;
    const reads: Promise<void>[] = [];
    for (const [tenant, found] of groupByTenant(this.layout, keys)) {
      const fromValues: number[] = [];
      const fromTtls: number[] = [];
      for (const i of found) (this.#largeResults(keys[i] as string, tenant) ? fromTtls : fromValues).push(i);
      if (fromValues.length > 0) reads.push(this.#expiriesFromValues(keys, fromValues, out));
      if (fromTtls.length > 0) reads.push(this.#expiriesFromTtls(keys, fromTtls, tenant, staleGraceMs, out));
    }
    await Promise.all(reads);
    return out;
  }

  /** Whether the key's type's results average expiriesFromTtlMinBytes or more, as this process wrote them. */
  #largeResults(key: string, tenant: string): boolean {
    const min = this.options.expiriesFromTtlMinBytes;
    if (min <= 0) return true;
    const mean = this.#sizes.meanOf(this.layout.taskTypeOf(key, tenant));
    return mean !== undefined && mean >= min;
  }

  /** Expiries of one tenant's keys from their values: a peek (getMany), exact. */
  async #expiriesFromValues(
    keys: readonly string[],
    positions: readonly number[],
    out: (number | undefined)[],
  ): Promise<void> {
    const results = await this.getMany(
      positions.map((i) => keys[i] as string),
      { peek: true },
    );
    for (let j = 0; j < positions.length; j++) {
      const r = results[j];
      out[positions[j] as number] = r === undefined ? undefined : expiresAtMsOf(r);
    }
  }

  /** Expiries of one tenant's keys from their TTLs (physical-ttls.lua), less each type's stale grace. */
  async #expiriesFromTtls(
    keys: readonly string[],
    positions: readonly number[],
    tenant: string,
    staleGraceMs: (index: number) => number,
    out: (number | undefined)[],
  ): Promise<void> {
    // Read before the call: an expiry worked out from a TTL may then be early by the round trip, never late.
    const now = this.options.clock.now();
    const physical = positions.map((i) => this.layout.entry(keys[i] as string, tenant));
    // Reads that keep nothing in the process: untracked, or Redis would track every key checked.
    const near = this.near;
    const ttls =
      near === undefined
        ? await physicalTtls.run<number[]>(this.client, physical)
        : await near.untracked<number[]>(this.client, (p) => physicalTtls.queue(p, physical));
    for (let j = 0; j < positions.length; j++) {
      const i = positions[j] as number;
      const ttl = ttls[j] as number;
      out[i] = ttl > 0 ? now + ttl - staleGraceMs(i) : undefined;
    }
  }

  async putMany(entries: readonly StoreWrite[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.options.clock.now();
    // Encoded first, in slices (a long tensor would hold the loop): #putTenant must fill the budget's list without awaiting.
    const slicer = new TimeSlicer();
    const encoded = new Map<StoreWrite, Uint8Array>();
    for (const e of entries)
      if (!(e.result instanceof EncodedResult) && e.physicalExpiryMs > now) {
        encoded.set(e, encodeSmallResult(e.result) ?? (await encodeResult(e.result, slicer)));
        if (slicer.due()) await slicer.pause();
      }
    const byTenant = new Map<string, StoreWrite[]>();
    for (const e of entries) {
      const bytes = e.result instanceof EncodedResult ? e.result.encoded : encoded.get(e);
      if (bytes !== undefined) this.#sizes.observe(e.taskType, bytes.length);
      const list = byTenant.get(e.tenant);
      if (list === undefined) byTenant.set(e.tenant, [e]);
      else list.push(e);
    }
    const writes: Promise<unknown>[] = [this.client.sadd(this.layout.tenants(), ...byTenant.keys())];
    // #putTenant fills these before its first await, so the budget is booked in parallel.
    const booked: BudgetWrite[] = [];
    const gone: string[] = [];
    for (const [tenant, list] of byTenant)
      writes.push(this.#putTenant(tenant, list, encoded, now, booked, gone));
    const booking = this.#budget.record(booked, now - ledgerLagMs);
    await Promise.all([...writes, booking]);
    // Only once the writes have landed: a victim from this very batch stays evicted, and an entry
    // the writes unlinked (written expired) is no longer there when its index members are pruned.
    await Promise.all([this.#settle(await booking), this.#forget(gone)]);
  }

  /**
   * One script call per tenant (put-entries.lua), so an entry and its index
   * memberships appear together, as one command rather than a MULTI of one
   * per entry and three per index.
   */
  async #putTenant(
    tenant: string,
    entries: StoreWrite[],
    encoded: ReadonlyMap<StoreWrite, Uint8Array>,
    now: number,
    booked: BudgetWrite[],
    gone: string[],
  ): Promise<void> {
    const entryKeys: string[] = [];
    const entryArgs: (string | number | Buffer)[] = [];
    const sets = new Map<string, { members: string[]; ttl: number }>();
    const zsets = new Map<string, { args: (string | number)[]; ttl: number }>();
    const addTo = (name: string, member: string, ttl: number): void => {
      const s = sets.get(name);
      if (s === undefined) sets.set(name, { members: [member], ttl });
      else {
        s.members.push(member);
        s.ttl = Math.max(s.ttl, ttl);
      }
    };
    for (const e of entries) {
      const physical = this.layout.entry(e.key, tenant);
      const ttl = Math.ceil(e.physicalExpiryMs - now);
      entryKeys.push(physical);
      if (ttl <= 0) {
        // Already past its grace window: storing it would only serve misses.
        entryArgs.push(0, "");
        gone.push(e.key);
        continue;
      }
      const bytes = e.result instanceof EncodedResult ? e.result.encoded : (encoded.get(e) as Uint8Array);
      entryArgs.push(ttl, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      addTo(this.layout.keys(tenant), e.key, ttl);
      for (const tag of e.result.tags) addTo(this.layout.tag(tenant, tag), e.key, ttl);
      const version = numericModelVersion(e.result.modelVersion);
      const inModelIndex = e.result.modelName !== "" && version !== undefined;
      // Memberships: keys, each tag, the model zset, and the budget's zset and hash.
      const memberships = 3 + e.result.tags.length + (inModelIndex ? 1 : 0);
      booked.push({
        key: e.key,
        bytes: redisEntryBytes(physical, e.key, bytes.byteLength, e.result.tags, memberships),
        expiryMs: e.physicalExpiryMs,
      });
      if (inModelIndex) {
        const name = this.layout.model(tenant, e.result.modelName);
        const z = zsets.get(name);
        if (z === undefined) zsets.set(name, { args: [version, e.key], ttl });
        else {
          z.args.push(version, e.key);
          z.ttl = Math.max(z.ttl, ttl);
        }
      }
    }
    const indexKeys: string[] = [];
    const indexArgs: (string | number)[] = [];
    for (const [name, { members, ttl }] of sets) {
      indexKeys.push(name);
      indexArgs.push("s", ttl, members.length, ...members);
    }
    for (const [name, { args, ttl }] of zsets) {
      indexKeys.push(name);
      indexArgs.push("z", ttl, args.length, ...args);
    }
    const keys = [...entryKeys, ...indexKeys];
    if (indexKeys.length > 0) {
      keys.push(this.layout.indexes(tenant));
      indexArgs.push(Math.max(...[...sets.values(), ...zsets.values()].map((s) => s.ttl)));
    }
    await putEntries.run(this.client, keys, [entryKeys.length, indexKeys.length, ...entryArgs, ...indexArgs]);
    // At once, not when Redis's invalidation arrives: a read after this write must see it.
    if (this.near !== undefined) for (const k of entryKeys) this.near.invalidate(k);
  }

  async delete(keys: readonly string[]): Promise<number> {
    const unlinked = await this.#unlink(keys);
    await this.#forget(keys);
    return unlinked;
  }

  /**
   * Unlinks entries, a command per tenant, and drops them from the near
   * cache; answers how many existed. Their index members are #prune's.
   */
  async #unlink(keys: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      [...groupByTenant(this.layout, keys)].map(async ([tenant, positions]) => {
        const physical = positions.map((i) => this.layout.entry(keys[i] as string, tenant));
        const unlinked = await this.client.unlink(...physical);
        if (this.near !== undefined) for (const k of physical) this.near.invalidate(k);
        return unlinked;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Takes removed keys off the budget's ledger, and out of the indexes they
   * joined: the two at once, since the prune looks at Redis's entries (the
   * callers have unlinked them already), not at the ledger.
   */
  async #forget(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await Promise.all([this.#budget.forget(keys), this.#prune(keys)]);
  }

  /**
   * Evicts what the budget named, then takes what left its ledger (those
   * and the expired) out of the indexes they joined; answers members pruned.
   */
  async #settle(tally: BudgetTally): Promise<number> {
    await this.#evict(tally.victims);
    return this.#prune([...tally.expired, ...tally.victims]);
  }

  /**
   * Takes entries gone from Redis out of their tenants' indexes, as far as
   * pruneGone can; the rest, and all of them if it fails (which costs the
   * caller nothing), is counted for the sweeper. Answers members pruned.
   */
  async #prune(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    try {
      const { removed, unpruned } = await pruneGone(
        this.client,
        this.layout,
        keys,
        inlinePruneMaxIndexes,
        this.#untracked,
      );
      await this.#budget.countGone(unpruned);
      return removed;
    } catch (err) {
      await this.#budget.countGone(keys.length).catch(() => {});
      this.options.logger?.warn(
        { err: errorMessage(err), entries: keys.length },
        "pruning the index members of gone entries failed: left to the sweeper",
      );
      return 0;
    }
  }

  /** Housekeeping reads without tracking, where the connection tracks (redis-invalidation.ts says why). */
  get #untracked(): UntrackedRead | undefined {
    const near = this.near;
    if (near === undefined) return undefined;
    return (read) => near.untracked(this.client, read);
  }

  async invalidate(selector: InvalidationSelector): Promise<number> {
    try {
      return await invalidateRedis(
        this.client,
        this.layout,
        selector,
        this.options.chunkSize,
        (keys) => this.#forget(keys),
        this.#untracked,
      );
    } finally {
      // Which keys went is Redis's to say; an invalidation is rare enough to start the near cache afresh.
      this.near?.clear();
    }
  }

  /**
   * Entries indexed: live ones plus expired ones the sweeper has not pruned
   * yet. Bytes: the budget's estimate of the entries booked.
   */
  async count(): Promise<StoreCount> {
    let entries = 0;
    for await (const tenants of scanSet(this.client, this.layout.tenants(), this.options.chunkSize)) {
      // Sent together, not as one pipeline: each tenant's set has its own slot, and a cluster
      // refuses a pipeline across slots.
      const counts = await Promise.all(tenants.map((t) => this.client.scard(this.layout.keys(t))));
      for (const n of counts) entries += n;
    }
    return { entries, bytes: await this.#budget.bytes() };
  }

  /**
   * Prunes index members whose entries Redis has expired, and brings the
   * budget back within its limits (after they were lowered, or an idle
   * spell). Safe to run at any time, on any replica.
   */
  async sweep(): Promise<number> {
    const ledger = await this.#budget.tally(this.options.clock.now() - ledgerLagMs);
    return (await this.#settle(ledger)) + (await this.#sweep(ledger.gone));
  }

  /** A sweep, then the ledger's gone count less `settle`, what was gone before the sweep began. */
  async #sweep(settle: number): Promise<number> {
    const pruned = await sweepRedis(this.client, this.layout, this.options.chunkSize, this.#untracked);
    return (
      pruned + (await this.#settle(await this.#budget.tally(this.options.clock.now() - ledgerLagMs, settle)))
    );
  }

  /**
   * The sweeper timer's run. It first brings the budget's ledger up to date
   * (what expired is forgotten and pruned from its indexes, what is over
   * budget evicted), which an idle cache would otherwise leave for its next
   * write. Then it sweeps, unless too little has been left to it since the
   * last sweep (sweepMinStaleShare), or
   * another replica of this store (the same Redis and key prefix) has swept
   * within the last 90% of the interval. Every replica keeps its timer, so
   * sweeping goes on when one stops; a lease in Redis (SET NX PX) lets one
   * of them do it. A sweep reads every member of every index, so each
   * replica sweeping on its own cost that many times as much for nothing.
   * Answers members pruned, or undefined when it did not sweep.
   */
  async periodicSweep(): Promise<number | undefined> {
    const ledger = await this.#budget.tally(this.options.clock.now() - ledgerLagMs);
    await this.#settle(ledger);
    const share = this.options.sweepMinStaleShare;
    if (share > 0 && (ledger.gone === 0 || ledger.gone < share * ledger.entries)) return undefined;
    const leaseMs = Math.max(1, Math.floor(this.options.sweepIntervalMs * 0.9));
    const taken = await this.client.set(this.layout.sweepLease(), this.#replica, "PX", leaseMs, "NX");
    if (taken === null) return undefined;
    const started = performance.now();
    const pruned = await this.#sweep(ledger.gone);
    this.options.onSwept({ pruned, seconds: (performance.now() - started) / 1000 });
    return pruned;
  }

  /** Unlinks entries the budget evicted (already off its ledger); #settle prunes their index members. */
  async #evict(victims: readonly string[]): Promise<void> {
    if (victims.length === 0) return;
    await this.#unlink(victims);
    this.options.onEvicted(victims.length);
  }

  async close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.near?.close();
    if (!this.#ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
