import { randomUUID } from "node:crypto";
import { formatKey } from "@prescient/core";
import { type RedisServerProcess, startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisCacheStore, type RedisStoreOptions } from "./redis-store.js";
import { write } from "./store-conformance.test-util.js";

// A private server: these tests flush it and kill its connections.
let server: RedisServerProcess;
let admin: Redis;
const stores: RedisCacheStore[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await admin.flushdb();
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

async function until(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

let nearHits = 0;
async function open(options: Partial<RedisStoreOptions> = {}): Promise<RedisCacheStore> {
  const store = new RedisCacheStore({
    url: server.url,
    keyPrefix: "near:",
    sweepIntervalMs: 0,
    onNearHits: (n) => (nearHits += n),
    ...options,
  });
  stores.push(store);
  await store.ready();
  if (store.near !== undefined) await until(() => store.near?.armed === true);
  return store;
}

/** Calls of a command Redis has served so far. */
async function calls(command: string): Promise<number> {
  const info = await admin.info("commandstats");
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return m === null ? 0 : Number(m[1]);
}

const key = (id: string): string => formatKey({ tenant: "t1", taskType: "ctr_prediction", entityId: id });
const probability = async (store: RedisCacheStore, id: string): Promise<unknown> =>
  (await store.get(key(id)))?.value?.tensors?.tensors[0]?.data[0];

describe("redis store near cache", () => {
  it("answers repeated reads in the process, without a round trip", async () => {
    const store = await open();
    await store.putMany([
      write("t1", "ctr_prediction", "a", { value: 1 }),
      write("t1", "ctr_prediction", "b"),
    ]);
    const before = nearHits;
    expect(await probability(store, "a")).toBe(1);
    const gets = await calls("get");
    const mgets = await calls("mget");
    expect(await probability(store, "a")).toBe(1);
    expect((await store.getMany([key("a"), key("a"), key("missing")])).map((r) => r !== undefined)).toEqual([
      true,
      true,
      false,
    ]);
    expect(nearHits - before).toBe(3);
    expect(await calls("get")).toBe(gets);
    // Only the key it did not hold went to Redis, and a miss is not held.
    expect(await calls("mget")).toBe(mgets + 1);
    await store.getMany([key("missing"), key("b")]);
    expect(await calls("mget")).toBe(mgets + 2);
    await store.getMany([key("b")]);
    expect(await calls("mget")).toBe(mgets + 2);
  });

  it("reads this replica's own writes, deletes and invalidations at once", async () => {
    const store = await open();
    await store.putMany([write("t1", "ctr_prediction", "a", { value: 1, tags: ["spring"] })]);
    expect(await probability(store, "a")).toBe(1);
    await store.putMany([write("t1", "ctr_prediction", "a", { value: 2, tags: ["spring"] })]);
    expect(await probability(store, "a")).toBe(2);
    expect(await store.invalidate({ kind: "tag", tenant: "t1", tag: "spring" })).toBe(1);
    expect(await store.get(key("a"))).toBeUndefined();
    await store.putMany([write("t1", "ctr_prediction", "a", { value: 3 })]);
    expect(await probability(store, "a")).toBe(3);
    expect(await store.delete([key("a")])).toBe(1);
    expect(await store.get(key("a"))).toBeUndefined();
  });

  it("drops what another replica writes, deletes or invalidates, as Redis tells it", async () => {
    const a = await open();
    const b = await open();
    await b.putMany([write("t1", "ctr_prediction", "x", { value: 1, tags: ["spring"] })]);
    expect(await probability(a, "x")).toBe(1);
    expect(await probability(a, "x")).toBe(1);
    await b.putMany([write("t1", "ctr_prediction", "x", { value: 2, tags: ["spring"] })]);
    await until(async () => (await probability(a, "x")) === 2, 1000);
    await b.invalidate({ kind: "tag", tenant: "t1", tag: "spring" });
    await until(async () => (await a.get(key("x"))) === undefined, 1000);
    await b.putMany([write("t1", "ctr_prediction", "x", { value: 4 })]);
    expect(await probability(a, "x")).toBe(4);
    await admin.flushdb();
    await until(async () => (await a.get(key("x"))) === undefined, 1000);
  });

  it("leaves a stale result to Redis, which forgets it at its physical expiry", async () => {
    const store = await open();
    const w = write("t1", "ctr_prediction", "s", { ttlMs: 300 });
    await store.putMany([{ ...w, physicalExpiryMs: w.physicalExpiryMs + 60_000 }]);
    expect(await store.get(key("s"))).toBeDefined();
    expect(await store.get(key("s"))).toBeDefined();
    await new Promise((r) => setTimeout(r, 400));
    const gets = await calls("get");
    // Past expires_at: Redis answers (the core serves it as stale), and it is not held again.
    expect(await store.get(key("s"))).toBeDefined();
    expect(await store.get(key("s"))).toBeDefined();
    expect(await calls("get")).toBe(gets + 2);
  });

  it("empties on a lost connection, and tracks again on the new ones", async () => {
    const a = await open();
    const b = await open({ nearCacheMaxEntries: 0 });
    await b.putMany([write("t1", "ctr_prediction", "x", { value: 1 })]);
    expect(await probability(a, "x")).toBe(1);
    expect(a.near?.size).toBe(1);
    for (const name of ["prescient-cache-invalidate", "prescient-cache"]) {
      const list = String(await admin.client("LIST"));
      const ids = list
        .split("\n")
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /^id=(\d+)/.exec(line)?.[1]);
      expect(ids.length).toBeGreaterThanOrEqual(1);
      // Both stores' connections of that name go: b has no near cache, so no subscriber.
      for (const id of ids) await admin.client("KILL", "ID", String(id));
      await until(() => a.near?.armed === false && a.near.size === 0, 2000);
      // Written while a cannot hear of it: a must not answer the old value once it is back.
      // b's own connection may be going down too: retried until it is back.
      let next = 0;
      await until(() =>
        probability(b, "x").then(
          (v) => {
            next = Number(v) + 1;
            return true;
          },
          () => false,
        ),
      );
      const put = write("t1", "ctr_prediction", "x", { value: next });
      await until(() =>
        b.putMany([put]).then(
          () => true,
          () => false,
        ),
      );
      await until(() => a.near?.armed === true, 3000);
      expect(await probability(a, "x")).toBe(next);
      expect(await probability(a, "x")).toBe(next);
      expect(a.near?.size).toBe(1);
      // Redis reaches the new subscriber connection.
      await b.putMany([write("t1", "ctr_prediction", "x", { value: next + 10 })]);
      await until(async () => (await probability(a, "x")) === next + 10, 1000);
    }
  });

  it("tries client tracking again when Redis refused it, without waiting for a reconnect", async () => {
    // A user that may do everything but turn tracking on: the arming pass fails on connections that stay up.
    const user = `nt-${randomUUID().slice(0, 8)}`;
    await admin.call("ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-client|tracking");
    try {
      const url = new URL(server.url);
      url.username = user;
      url.password = "pw";
      const store = new RedisCacheStore({ url: url.toString(), keyPrefix: "near:", sweepIntervalMs: 0 });
      stores.push(store);
      await store.ready();
      await new Promise((r) => setTimeout(r, 500));
      expect(store.near?.armed).toBe(false);
      await store.putMany([write("t1", "ctr_prediction", "acl", { value: 3 })]);
      expect(await probability(store, "acl")).toBe(3);
      expect(store.near?.size).toBe(0); // nothing is held while Redis does not track the reads
      await admin.call("ACL", "SETUSER", user, "+client|tracking");
      await until(() => store.near?.armed === true, 5000);
      expect(await probability(store, "acl")).toBe(3);
      expect(store.near?.size).toBe(1);
      // Tracked now: another client's write reaches it.
      const other = await open({ nearCacheMaxEntries: 0 });
      await other.putMany([write("t1", "ctr_prediction", "acl", { value: 4 })]);
      await until(async () => (await probability(store, "acl")) === 4, 1000);
    } finally {
      await admin.call("ACL", "DELUSER", user);
    }
  });

  it("keeps nothing a read brought back after its key was invalidated or the cache was cleared", async () => {
    const store = await open();
    await store.putMany([write("t1", "ctr_prediction", "r")]);
    const near = store.near;
    if (near === undefined) throw new Error("no near cache");
    const physical = [store.layout.entry(key("r"))];
    const bytes = await store.client.getBuffer(physical[0] as string);
    const race = (between: () => void): boolean => {
      const ticket = near.begin(physical);
      between();
      near.end(ticket, physical, [bytes]);
      const held = near.get(physical[0] as string) !== undefined;
      near.clear();
      return held;
    };
    expect(race(() => {})).toBe(true);
    expect(race(() => near.invalidate(physical[0] as string))).toBe(false);
    expect(race(() => near.clear())).toBe(false);
    // Two reads in flight, the key invalidated between their starts: the later one may be new, but is not kept either.
    const first = near.begin(physical);
    near.invalidate(physical[0] as string);
    const second = near.begin(physical);
    near.end(first, physical, [bytes]);
    near.end(second, physical, [bytes]);
    expect(near.get(physical[0] as string)).toBeUndefined();
    // The invalidation is forgotten with the reads: the next read is kept.
    expect(race(() => {})).toBe(true);
  });

  it("a peek keeps nothing in the process and leaves no key in Redis's tracking table", async () => {
    const tracked = async (): Promise<number> =>
      Number(/tracking_total_keys:(\d+)/.exec(await admin.info("stats"))?.[1] ?? Number.NaN);
    const store = await open();
    await store.putMany([write("t1", "ctr_prediction", "a", { value: 1 })]);
    const unread = Array.from({ length: 50 }, (_, i) => key(`unread-${i}`));
    const before = await tracked();
    const peeked = await store.getMany([key("a"), ...unread], { peek: true });
    expect(peeked[0]?.value?.tensors?.tensors[0]?.data[0]).toBe(1);
    expect(peeked.slice(1).every((r) => r === undefined)).toBe(true);
    expect(store.near?.size).toBe(0);
    expect(await tracked()).toBe(before);
    // The same keys read, not peeked: tracked, and the stored one kept.
    await store.getMany([key("a"), ...unread]);
    expect(await tracked()).toBe(before + 51);
    expect(store.near?.size).toBe(1);
    // A peek at a key held in the process is answered there, and is not counted as a read it answered.
    const hits = nearHits;
    const mgets = await calls("mget");
    expect((await store.getMany([key("a")], { peek: true }))[0]).toBeDefined();
    expect(nearHits - hits).toBe(0);
    expect(await calls("mget")).toBe(mgets);
    await store.getMany([key("a")]);
    expect(nearHits - hits).toBe(1);
  });

  it("sweeps and invalidates without tracking: Redis's tracking table gains none of the keys they look at", async () => {
    const tracked = async (): Promise<number> =>
      Number(/tracking_total_keys:(\d+)/.exec(await admin.info("stats"))?.[1] ?? Number.NaN);
    const store = await open({ chunkSize: 40 });
    const versioned = (id: string, version: string) =>
      write("t1", "ctr_prediction", id, { modelName: "ctr", modelVersion: version, tags: ["campaign-7"] });
    // 120 live entries in the keys set, the model zset and a tag's set; 30 more whose entries go.
    await store.putMany(Array.from({ length: 150 }, (_, i) => versioned(`e${i}`, i % 2 === 0 ? "3" : "4")));
    await admin.unlink(...Array.from({ length: 30 }, (_, i) => store.layout.entry(key(`e${120 + i}`), "t1")));
    const before = await tracked();
    // Each index is pruned of the 30 (sweep-index.lua over every member, in chunks of 40).
    expect(await store.sweep()).toBe(90);
    // At most the five sets a sweep reads (tenants and the registry from here, each index in its
    // script) may be tracked: none of the entries.
    const sets = 5;
    expect((await tracked()) - before).toBeLessThanOrEqual(sets);
    // Invalidations verify candidates (an MGET) and prune survivors: untracked as well.
    expect(
      await store.invalidate({ kind: "model_older_than", tenant: "t1", modelName: "ctr", olderThan: 4 }),
    ).toBe(60);
    expect(await store.invalidate({ kind: "tag", tenant: "t1", tag: "campaign-7" })).toBe(60);
    expect((await tracked()) - before).toBeLessThanOrEqual(sets);
    expect((await store.count()).entries).toBe(0);
  });

  it("reads large results' expiries from TTLs and small ones' from values: nothing kept, no key tracked", async () => {
    const tracked = async (): Promise<number> =>
      Number(/tracking_total_keys:(\d+)/.exec(await admin.info("stats"))?.[1] ?? Number.NaN);
    const store = await open();
    const thumbnail = write("t1", "thumbnail_generation", "v1", { ttlMs: 60_000 });
    thumbnail.result.value = { payload: Buffer.alloc(64 * 1024, 7), contentType: "image/jpeg" };
    const small = write("t1", "ctr_prediction", "small", { value: 1 });
    await store.putMany([thumbnail, small]);
    const absent = Array.from({ length: 20 }, (_, i) => key(`absent-${i}`));
    const counts = async () => ({
      mget: await calls("mget"),
      get: await calls("get"),
      pttl: await calls("pttl"),
      tracked: await tracked(),
    });
    const before = await counts();
    const [big, ctr, ...rest] = await store.expiries([thumbnail.key, small.key, ...absent], () => 0);
    expect(big).toBeGreaterThan(Date.now());
    expect(big).toBeLessThanOrEqual(thumbnail.physicalExpiryMs + 1000);
    expect(ctr).toBe(small.result.expiresAt?.getTime());
    expect(rest.every((e) => e === undefined)).toBe(true);
    // The thumbnail's TTL alone; the CTR results' values in one MGET, untracked like a peek's.
    expect(await counts()).toEqual({ ...before, mget: before.mget + 1, pttl: before.pttl + 1 });
    expect(store.near?.size).toBe(0);
    // A store that has written none of them does not know they are large: values, as before.
    const other = await open();
    await other.expiries([thumbnail.key], () => 0);
    expect(await calls("pttl")).toBe(before.pttl + 1);
  });

  it("keeps its entries however many keys are peeked: Redis's tracking table never fills with them", async () => {
    // A full table makes Redis drop tracked keys, and tell the near cache to drop them too.
    await admin.config("SET", "tracking-table-max-keys", "20");
    try {
      const store = await open();
      await store.putMany([write("t1", "ctr_prediction", "hot", { value: 1 })]);
      await store.get(key("hot"));
      expect(store.near?.size).toBe(1);
      for (let i = 0; i < 10; i++)
        await store.getMany(
          Array.from({ length: 50 }, (_, j) => key(`new-${i}-${j}`)),
          { peek: true },
        );
      const hits = nearHits;
      expect(await probability(store, "hot")).toBe(1);
      expect(nearHits - hits).toBe(1);
    } finally {
      await admin.config("SET", "tracking-table-max-keys", "1000000");
    }
  });

  it("a peek's MGET answers on a connection that is not tracked (Redis refuses CLIENT CACHING there)", async () => {
    const store = await open();
    await store.putMany([write("t1", "ctr_prediction", "a", { value: 1 })]);
    const plain = new Redis(server.url);
    try {
      const values = await store.near?.untrackedMget(plain, [
        store.layout.entry(key("a")),
        store.layout.entry(key("absent")),
      ]);
      expect(Buffer.isBuffer(values?.[0])).toBe(true);
      expect(values?.[1]).toBeNull();
    } finally {
      plain.disconnect();
    }
  });

  it("holds at most its entries", async () => {
    const store = await open({ nearCacheMaxEntries: 3 });
    const ids = Array.from({ length: 10 }, (_, i) => `k${i}`);
    await store.putMany(ids.map((id) => write("t1", "ctr_prediction", id)));
    expect((await store.getMany(ids.map(key))).every((r) => r !== undefined)).toBe(true);
    expect(store.near?.size).toBe(3);
  });

  it("is off when set to 0", async () => {
    const off = await open({ nearCacheMaxEntries: 0 });
    expect(off.near).toBeUndefined();
  });

  it("tracks every node of a Redis Cluster", async () => {
    const keyPrefix = `near:${randomUUID().slice(0, 8)}:`;
    const url = inject("redisClusterUrl");
    const a = await open({ url, keyPrefix });
    const b = await open({ url, keyPrefix, nearCacheMaxEntries: 0 });
    // Tenants hash to slots on every master.
    const tenants = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const keys = tenants.map((tenant) => formatKey({ tenant, taskType: "ctr_prediction", entityId: "x" }));
    const values = async (): Promise<unknown[]> =>
      (await a.getMany(keys)).map((r) => r?.value?.tensors?.tensors[0]?.data[0]);
    await b.putMany(tenants.map((t) => write(t, "ctr_prediction", "x", { value: 1 })));
    expect(await values()).toEqual(tenants.map(() => 1));
    // A peek pipelines CLIENT CACHING no with each tenant's MGET on that slot's node.
    expect(
      (await a.getMany(keys, { peek: true })).map((r) => r?.value?.tensors?.tensors[0]?.data[0]),
    ).toEqual(tenants.map(() => 1));
    const before = nearHits;
    expect(await values()).toEqual(tenants.map(() => 1));
    expect(nearHits - before).toBe(tenants.length);
    await b.putMany(tenants.map((t) => write(t, "ctr_prediction", "x", { value: 2 })));
    await until(async () => (await values()).every((v) => v === 2), 2000);
    await b.delete(keys);
    await until(async () => (await values()).every((v) => v === undefined), 2000);
  });
});
