import { randomUUID } from "node:crypto";
import { ManualClock } from "@prescient/core";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CacheStore } from "./cache-store.js";
import { RedisCacheStore, type RedisStoreOptions } from "./redis-store.js";
import { describeStoreConformance, write } from "./store-conformance.test-util.js";

const url = inject("redisUrl");
const filePrefix = `test:${randomUUID().slice(0, 8)}:`;
let admin: Redis;

beforeAll(() => {
  admin = new Redis(url);
});

afterAll(async () => {
  await removePrefix(filePrefix);
  await admin.quit();
});

async function removePrefix(prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await admin.unlink(...keys);
  } while (cursor !== "0");
}

let n = 0;
const fresh = (): RedisCacheStore =>
  // A small chunk size makes every invalidation walk several chunks.
  new RedisCacheStore({ url, keyPrefix: `${filePrefix}${n++}:`, chunkSize: 7, sweepIntervalMs: 0 });

/** A store on this file's Redis: without its near cache, or with it armed first so every read after a write goes through it. */
async function opened(near: boolean, options: Partial<RedisStoreOptions> = {}): Promise<RedisCacheStore> {
  const store = new RedisCacheStore({
    url,
    keyPrefix: `${filePrefix}${n++}:`,
    chunkSize: 7,
    sweepIntervalMs: 0,
    ...(near ? {} : { nearCacheMaxEntries: 0 }),
    ...options,
  });
  const end = Date.now() + 5000;
  while (near && store.near?.armed !== true) {
    if (Date.now() > end) throw new Error("near cache never armed");
    await new Promise((r) => setTimeout(r, 10));
  }
  return store;
}

// Without the near cache, expiries come from values (small results); with it, from TTLs whatever the
// size, so that each suite runs both reads, the TTL script in the untracked pipeline included.
const fromTtls = { expiriesFromTtlMinBytes: 0 };
for (const [name, near] of [
  ["redis", false],
  ["redis, near cache armed, expiries from TTLs,", true],
] as const)
  describeStoreConformance(
    name,
    () => opened(near, near ? fromTtls : {}),
    async (store: CacheStore) => {
      await removePrefix((store as RedisCacheStore).layout.prefix);
      await store.close();
    },
    (budget) => opened(near, { ...(near ? fromTtls : {}), ...budget }),
  );

// The same suite on a real Redis Cluster (3 masters, 3 replicas): every multi-key command and script
// must keep to one slot. Keys are left behind: the prefixes are unique and the cluster is the run's own.
const clusterUrl = inject("redisClusterUrl");
for (const [name, near] of [
  ["redis cluster", false],
  ["redis cluster, near cache armed on every node, expiries from TTLs,", true],
] as const)
  describeStoreConformance(
    name,
    () => opened(near, { url: clusterUrl, ...(near ? fromTtls : {}) }),
    async (store: CacheStore) => store.close(),
    (budget) => opened(near, { url: clusterUrl, ...(near ? fromTtls : {}), ...budget }),
  );

/** A CTR result of model ctr version 3 (so in the model's zset), with tags. */
const modelled = (tenant: string, id: string, ttlMs: number, tags: string[] = []) =>
  write(tenant, "ctr_prediction", id, { ttlMs, tags, modelName: "ctr", modelVersion: "3" });

describe("redis store layout", () => {
  it("hash-tags every key of a tenant, so one tenant's keys share a cluster slot", async () => {
    const store = fresh();
    await store.ready();
    await store.putMany([
      write("acme", "ctr_prediction", "a", { tags: ["x"], modelName: "m", modelVersion: "1" }),
    ]);
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await admin.scan(cursor, "MATCH", `${store.layout.prefix}*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    // The budget's ledger has a slot of its own, shared by its three keys.
    const budgetKeys = keys.filter((k) => k.includes("{:budget}"));
    expect(budgetKeys.sort()).toEqual(
      [store.layout.budgetBytes(), store.layout.budgetExpiry(), store.layout.budgetTotal()].sort(),
    );
    const tenantKeys = keys.filter((k) => k !== store.layout.tenants() && !budgetKeys.includes(k));
    // The entry, the keys set, the tag's set, the model's zset and the registry of indexes.
    expect(tenantKeys.length).toBe(5);
    for (const k of tenantKeys) expect(k).toContain("{acme}");
    // Index keys expire with their longest-lived member.
    for (const k of tenantKeys) expect(await admin.pttl(k)).toBeGreaterThan(0);
    await store.close();
  });

  it("sweeps index members whose entries expired", async () => {
    const store = fresh();
    await store.ready();
    await store.putMany([
      write("t", "ctr_prediction", "short", { ttlMs: 100, tags: ["x"], modelName: "m", modelVersion: "1" }),
      write("t", "ctr_prediction", "long", { tags: ["x"], modelName: "m", modelVersion: "1" }),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.count()).entries).toBe(2);
    // keys, tag and model index each lose the expired member.
    expect(await store.sweep()).toBe(3);
    expect((await store.count()).entries).toBe(1);
    expect(await store.sweep()).toBe(0);
    await store.close();
  });

  it("prunes a set per task type an earlier version left in the registry, and forgets it once it expired", async () => {
    const store = fresh();
    await store.ready();
    await store.putMany([write("t", "ctr_prediction", "kept", { tags: ["x"] })]);
    // As an earlier version wrote it: a type set naming a live entry and one Redis expired, in the registry.
    const legacy = `${store.layout.prefix}{t}:type:ctr_prediction`;
    await admin.sadd(legacy, "t/ctr_prediction/kept", "t/ctr_prediction/gone");
    await admin.pexpire(legacy, 300);
    await admin.sadd(store.layout.indexes("t"), legacy);
    expect(await store.sweep()).toBe(1);
    expect(await admin.smembers(legacy)).toEqual(["t/ctr_prediction/kept"]);
    expect(await admin.sismember(store.layout.indexes("t"), legacy)).toBe(1);
    await new Promise((r) => setTimeout(r, 350));
    expect(await store.sweep()).toBe(0);
    expect(await admin.sismember(store.layout.indexes("t"), legacy)).toBe(0);
    expect(await store.invalidate({ kind: "task_type", tenant: "t", taskType: "ctr_prediction" })).toBe(1);
    await store.close();
  });

  it("sweeps on its timer only where no other replica of the store swept within the interval", async () => {
    const keyPrefix = `${filePrefix}${n++}:`;
    // Timers of an hour: the test drives the timer's run itself.
    const swept: { replica: number; pruned: number; seconds: number }[] = [];
    const replicas = [0, 1].map(
      (replica) =>
        new RedisCacheStore({
          url,
          keyPrefix,
          sweepIntervalMs: 3_600_000,
          // Entries gone by hand are not the ledger's to count: this test is about the lease alone.
          sweepMinStaleShare: 0,
          onSwept: (s) => swept.push({ replica, ...s }),
        }),
    );
    const [a, b] = replicas as [RedisCacheStore, RedisCacheStore];
    await Promise.all(replicas.map((r) => r.ready()));
    await a.putMany([write("t", "ctr_prediction", "x"), write("t", "ctr_prediction", "y")]);
    await admin.unlink(a.layout.entry(write("t", "ctr_prediction", "y").key, "t"));
    expect(await a.periodicSweep()).toBe(1);
    expect(await b.periodicSweep()).toBeUndefined();
    expect(await a.periodicSweep()).toBeUndefined();
    const lease = a.layout.sweepLease();
    expect(await admin.pttl(lease)).toBeGreaterThan(3_000_000);
    expect(await admin.pttl(lease)).toBeLessThanOrEqual(3_240_000);
    // The lease gone (it lapsed, or its replica stopped): the next timer to fire sweeps.
    await admin.del(lease);
    await a.putMany([write("t", "ctr_prediction", "z")]);
    await admin.unlink(a.layout.entry(write("t", "ctr_prediction", "z").key, "t"));
    expect(await b.periodicSweep()).toBe(1);
    expect(await a.periodicSweep()).toBeUndefined();
    // An explicit sweep is not the timer's: it always runs, and is not reported as one.
    expect(await a.sweep()).toBe(0);
    expect(swept.map(({ replica, pruned }) => ({ replica, pruned }))).toEqual([
      { replica: 0, pruned: 1 },
      { replica: 1, pruned: 1 },
    ]);
    expect(swept.every((s) => s.seconds >= 0 && s.seconds < 10)).toBe(true);
    await Promise.all(replicas.map((r) => r.close()));
    await removePrefix(keyPrefix);
  });

  it("prunes entries' index members as they leave the ledger, and sweeps only for what that cannot reach", async () => {
    const swept: number[] = [];
    // Timers of an hour: the test drives the timer's run itself.
    const store = await opened(true, { sweepIntervalMs: 3_600_000, onSwept: (s) => swept.push(s.pruned) });
    const { layout } = store;
    const members = async (tenant: string, tag: string) => [
      await admin.scard(layout.keys(tenant)),
      await admin.zcard(layout.model(tenant, "ctr")),
      await admin.scard(layout.tag(tenant, tag)),
    ];
    const live = Array.from({ length: 10 }, (_, i) => modelled("t", `live${i}`, 600_000, ["campaign:1"]));
    await store.putMany([...live, modelled("t", "short0", 80, ["campaign:1"]), modelled("t", "short1", 80)]);
    expect(await members("t", "campaign:1")).toEqual([12, 12, 11]);
    // Past their expiry and the ledger's lag behind it (ledgerLagMs, 250 ms).
    await new Promise((r) => setTimeout(r, 400));
    // Redis expired two: the timer's tick takes them off the ledger and out of every index of
    // the tenant (two: the model's zset and the tag's set), with no write to do it and no sweep.
    expect(await store.periodicSweep()).toBeUndefined();
    expect(await members("t", "campaign:1")).toEqual([10, 10, 10]);
    // A delete takes its key out of the model's zset and the tag's set too; so does an invalidation
    // by tag out of the keys set and the model's zset.
    expect(await store.delete([live[0]?.key as string])).toBe(1);
    expect(await members("t", "campaign:1")).toEqual([9, 9, 9]);
    expect(await store.invalidate({ kind: "tag", tenant: "t", tag: "campaign:1" })).toBe(9);
    expect(await members("t", "campaign:1")).toEqual([0, 0, 0]);
    expect(swept).toEqual([]);
    // A tenant of more indexes than are pruned at once (a tag per entry, and two groups): its gone
    // entries leave its keys set, and their other members are counted for the sweeper. (The
    // short-lived entries' own tags' sets expire with them.)
    const tagged = (id: number, ttlMs: number) =>
      modelled("u", `ad${id}`, ttlMs, [`ad:${id}`, `group:${id % 2}`]);
    await store.putMany(Array.from({ length: 10 }, (_, i) => tagged(i, i < 4 ? 80 : 600_000)));
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.periodicSweep()).toBeUndefined();
    expect(await members("u", "group:0")).toEqual([6, 10, 5]);
    expect(await admin.get(layout.budgetGone())).toBe("4");
    // Four counted against six held: over a quarter, so the next tick sweeps them.
    expect(await store.periodicSweep()).toBe(4 + 4);
    expect(await members("u", "group:0")).toEqual([6, 6, 3]);
    expect(await admin.get(layout.budgetGone())).toBe("0");
    expect(swept).toEqual([8]);
    // Nothing left to the sweeper since: the next tick does nothing, lease or not.
    await admin.del(layout.sweepLease());
    expect(await store.periodicSweep()).toBeUndefined();
    expect(swept).toEqual([8]);
    await removePrefix(layout.prefix);
    await store.close();
  });

  it("leaves an entry Redis still holds a moment after the ledger saw it expire to the sweeper", async () => {
    // The store's clock jumps past the write: the ledger then sees the entry expire while Redis,
    // which took its PX later (here: 80 ms of real time after it), still holds it.
    const clock = new ManualClock(Date.now());
    const store = await opened(true, { sweepIntervalMs: 3_600_000, clock });
    const { layout } = store;
    const entry = modelled("t", "late", 80);
    // One that lives on, so that the indexes (which expire with their longest-lived member) do too.
    const long = modelled("t", "long", 600_000);
    await store.putMany([
      { ...entry, physicalExpiryMs: clock.now() + 80 },
      { ...long, physicalExpiryMs: clock.now() + 600_000 },
    ]);
    // Past its expiry and the ledger's lag behind it (250 ms), by the store's clock alone.
    clock.advance(400);
    expect(await admin.exists(layout.entry(entry.key))).toBe(1);
    // Not pruned (it is still there) and not lost: counted for the sweeper.
    expect(await store.periodicSweep()).toBeUndefined();
    expect(await admin.scard(layout.keys("t"))).toBe(2);
    expect(await admin.get(layout.budgetGone())).toBe("1");
    // Once Redis has expired it, the next tick sweeps (one counted against one held).
    await new Promise((r) => setTimeout(r, 150));
    expect(await store.periodicSweep()).toBe(2);
    expect(await admin.scard(layout.keys("t"))).toBe(1);
    expect(await admin.zcard(layout.model("t", "ctr"))).toBe(1);
    await removePrefix(layout.prefix);
    await store.close();
  });

  it("leaves the entries of a prune that failed to the sweeper, counted", async () => {
    const logged: string[] = [];
    const store = await opened(true, {
      sweepIntervalMs: 3_600_000,
      logger: pino({ level: "warn" }, { write: (line: string) => logged.push(line) }),
    });
    const { layout } = store;
    await store.putMany([modelled("t", "short", 80, ["x"]), modelled("t", "long", 600_000)]);
    await new Promise((r) => setTimeout(r, 400));
    // The tag's set replaced by a string: the prune's SREM fails (WRONGTYPE), as a real fault would.
    await admin.set(layout.tag("t", "x"), "not a set");
    expect(await store.periodicSweep()).toBeUndefined();
    expect(logged.join("")).toContain(
      "pruning the index members of gone entries failed: left to the sweeper",
    );
    expect(await admin.get(layout.budgetGone())).toBe("1");
    // The fault gone, the next tick sweeps (one counted against one held): what the failed prune
    // had removed before it failed stays removed, and the sweep finds the rest.
    await admin.del(layout.tag("t", "x"));
    expect(await store.periodicSweep()).toEqual(expect.any(Number));
    expect(await admin.scard(layout.keys("t"))).toBe(1);
    expect(await admin.zcard(layout.model("t", "ctr"))).toBe(1);
    expect(await admin.get(layout.budgetGone())).toBe("0");
    await removePrefix(layout.prefix);
    await store.close();
  });

  it("evicts the entries closest to expiry first, forgets expired ones without counting them, books overwrites once", async () => {
    let evicted = 0;
    const store = new RedisCacheStore({
      url,
      keyPrefix: `${filePrefix}${n++}:`,
      sweepIntervalMs: 0,
      maxEntries: 3,
      onEvicted: (c) => (evicted += c),
    });
    await store.ready();
    const w = (id: string, ttlMs: number) => write("t", "ctr_prediction", id, { ttlMs });
    await store.putMany([w("gone", 50), w("soon", 10_000), w("late", 60_000)]);
    for (let i = 0; i < 20; i++) await store.putMany([w("late", 60_000)]);
    expect(await admin.zcard(store.layout.budgetExpiry())).toBe(3);
    // Past its expiry and the ledger's lag behind it (250 ms).
    await new Promise((r) => setTimeout(r, 400));
    // "gone" expired in Redis: booking "later" forgets it, no eviction needed.
    await store.putMany([w("later", 120_000)]);
    expect(evicted).toBe(0);
    await store.putMany([w("latest", 180_000)]);
    expect(evicted).toBe(1);
    const held = await store.getMany(["soon", "late", "later", "latest"].map((id) => w(id, 1).key));
    expect(held.map((r) => r !== undefined)).toEqual([false, true, true, true]);
    // No sweep: "gone" left the keys set as it left the ledger.
    const { entries, bytes } = await store.count();
    expect(entries).toBe(3);
    const sizes = await admin.hvals(store.layout.budgetBytes());
    expect(bytes).toBe(sizes.reduce((sum, b) => sum + Number(b), 0));
    await removePrefix(store.layout.prefix);
    await store.close();
  });

  it("fails fast instead of queueing while disconnected", async () => {
    const store = new RedisCacheStore({ url: "redis://127.0.0.1:1", sweepIntervalMs: 0 });
    const started = Date.now();
    await expect(store.get("t/ctr_prediction/a")).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
    await store.close();
  });
});
