import { randomBytes } from "node:crypto";
import { ManualClock } from "@prescient/core";
import { connectRedis, type RedisClient, ServiceHost } from "@prescient/kit";
import { startRedisCluster } from "@prescient/kit/testing";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { query } from "../analyzer.test-util.js";
import { startAnalyzer } from "../service/start-analyzer.js";
import type { AnalyzerStore, CounterDelta } from "./analyzer-store.js";
import { openRedisAnalyzerStore } from "./open-redis-store.js";
import { closeRedis, RedisAnalyzerStore } from "./redis-store.js";
import { shardPrefixes } from "./shard-routing.js";
import { batchesArb, readAll, roomyCaps } from "./sharded-equivalence.test-util.js";
import { ShardedAnalyzerStore } from "./sharded-store.js";
import { conformanceRates, storeConformance } from "./store-conformance.test-util.js";

const testPrefix = (): string => `test:{analyzer-${randomBytes(4).toString("hex")}}:`;

for (const [name, url] of [
  ["redis", "redisUrl"],
  ["redis cluster", "redisClusterUrl"],
] as const)
  storeConformance(
    `sharded ${name} (4)`,
    async () => openRedisAnalyzerStore({ redisUrl: inject(url), keyPrefix: testPrefix(), shards: 4 }).store,
    { capacity: "per-shard" },
  );

/** One store and four shards on one client, under fresh prefixes. */
function pair(redis: RedisClient): { one: AnalyzerStore; four: AnalyzerStore } {
  return {
    one: new RedisAnalyzerStore({ redis, keyPrefix: testPrefix() }),
    four: new ShardedAnalyzerStore(
      shardPrefixes(testPrefix(), 4).map((keyPrefix) => new RedisAnalyzerStore({ redis, keyPrefix })),
    ),
  };
}

for (const [name, url, runs] of [
  ["one Redis", "redisUrl", 25],
  ["the Redis Cluster", "redisClusterUrl", 8],
] as const)
  describe(`sharded analyzer store on ${name}`, () => {
    let redis: RedisClient;
    beforeAll(() => {
      redis = connectRedis(inject(url));
    });
    afterAll(() => closeRedis(redis));

    it("answers topKeys, keyCounts, topMembers, typeStats, successors and profile as one store", async () => {
      await fc.assert(
        fc.asyncProperty(batchesArb, async (batches) => {
          const { one, four } = pair(redis);
          await one.ready();
          await four.ready();
          for (const d of batches) {
            await one.applyCounters(d, roomyCaps);
            await four.applyCounters(d, roomyCaps);
          }
          // Exactly: same members, same order (ties too), same bits.
          expect(await readAll(four, "redis")).toEqual(await readAll(one, "redis"));
        }),
        { numRuns: runs },
      );
    });
  });

describe("sharded analyzer store on a private 3-master cluster", () => {
  const spreadCaps = { ...roomyCaps, keys: 20_000, entities: 20_000 };
  /** A day of traffic for 5 tenants: 20 batches of 500 keys, with successors, types, hours and actions. */
  function batch(i: number): CounterDelta {
    const keys = new Map<string, { w: number; miss: number }>();
    const successors = new Map<string, Map<string, number>>();
    for (let j = 0; j < 500; j++) {
      const k = `t${j % 5}/${["ctr", "roas", "video"][j % 3]}/e-${(i * 131 + j * 7) % 2000}`;
      keys.set(k, { w: 1 + (j % 7), miss: j % 2 });
      if (j % 10 === 0) successors.set(k, new Map([[`t${j % 5}/ctr/e-${j}`, 1]]));
    }
    return {
      landmark: 0,
      rates: conformanceRates,
      keys,
      entities: new Map([...keys.keys()].map((k) => [k.replace(/\/[a-z]+\//, "/"), 1])),
      tenants: new Map(Array.from({ length: 5 }, (_, t) => [`t${t}`, 100])),
      types: new Map(),
      hours: new Map([[i % 168, 500]]),
      successors,
      events: 500,
      firstTime: i,
    };
  }

  it("spreads 3 or 4 shards' keys and commands over every master, where 1 shard sits on one", async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    const nodes = cluster.nodes.map((n) => new Redis(n.port, "127.0.0.1"));
    try {
      const perNode = async (): Promise<Array<{ keys: number; ops: number }>> =>
        Promise.all(
          nodes.map(async (n) => {
            const stats = await n.info("stats");
            const ops = Number(/total_commands_processed:(\d+)/.exec(stats)?.[1]);
            return { keys: await n.dbsize(), ops };
          }),
        );
      const figures: Record<string, Array<{ keys: number; ops: number }>> = {};
      for (const shards of [1, 3, 4]) {
        const { store } = openRedisAnalyzerStore({ redisUrl: cluster.url, keyPrefix: testPrefix(), shards });
        await store.ready();
        await Promise.all(nodes.map((n) => n.flushall()));
        const before = await perNode();
        // Capacities the workload stays under, so that both layouts do the same work (no evictions).
        for (let i = 0; i < 20; i++) await store.applyCounters(batch(i), spreadCaps);
        const users = Array.from({ length: 400 }, (_, u) => ({
          tenant: `t${u % 5}`,
          userId: `u${u}`,
          time: 1000 + u,
          action: "open",
        }));
        await store.appendActions(users, { perUser: 10, users: 10_000 });
        for (let r = 0; r < 20; r++)
          await Promise.all([
            store.topKeys(100),
            store.typeStats(),
            store.profile(),
            store.keyCounts(["t0/ctr/e-0", "t1/roas/e-7", "t2/video/e-14", "t3/ctr/e-21"]),
          ]);
        const after = await perNode();
        await store.close();
        // Less the probe's own INFO and DBSIZE.
        figures[`${shards} shard${shards === 1 ? "" : "s"}`] = after.map((a, i) => ({
          keys: a.keys,
          ops: a.ops - before[i]!.ops - 2,
        }));
      }
      console.log("analyzer keys and commands per master, same workload:", JSON.stringify(figures));
      const one = figures["1 shard"]!;
      const four = figures["4 shards"]!;
      // One shard: everything on one master.
      expect(one.filter((n) => n.keys > 0)).toHaveLength(1);
      // Four: every master holds keys and serves commands. Four shards on three masters put two on one,
      // so that one has about half; none should have much more.
      const total = (xs: typeof four, f: "keys" | "ops") => xs.reduce((s, x) => s + x[f], 0);
      for (const n of four) {
        expect(n.keys).toBeGreaterThan(0);
        expect(n.keys).toBeLessThanOrEqual(total(four, "keys") * 0.6);
        expect(n.ops).toBeGreaterThan(0);
        expect(n.ops).toBeLessThanOrEqual(total(four, "ops") * 0.6);
      }
    } finally {
      for (const n of nodes) n.disconnect();
      await cluster.stop();
    }
  }, 120_000);
});

describe("the analyzer service on 4 shards of the Redis Cluster", () => {
  /** Numbers to 12 significant digits: pre-aggregation may add a batch's weights in another order. */
  const rounded = (x: unknown): unknown =>
    JSON.parse(JSON.stringify(x, (_, v) => (typeof v === "number" ? Number(v.toPrecision(12)) : v)));

  it("gives the answers of one shard, with pre-aggregation on top (PRESCIENT_ANALYZER_SHARDS=4)", async () => {
    const t0 = Date.UTC(2025, 1, 10, 9);
    const types = ["ctr_prediction", "roas_prediction", "video_analysis"];
    const events = Array.from({ length: 3000 }, (_, i) =>
      query(t0 + i * 1000, `tenant-${i % 4}`, types[i % 3]!, `e-${(i * 7919) % 97}`, {
        userId: `u-${i % 23}`,
        outcome: i % 5 === 0 ? 1 : 3,
        computeMs: i % 5 === 0 ? 40 : 0,
      }),
    );
    const answers = [];
    for (const storeShards of [1, 4]) {
      const clock = new ManualClock(t0);
      const host = new ServiceHost({ address: "127.0.0.1:0" });
      const runtime = await startAnalyzer(host, {
        store: { redisUrl: inject("redisClusterUrl"), keyPrefix: testPrefix() },
        storeShards,
        clock,
        retrainIntervalMs: 0,
        cleanupIntervalMs: 0,
      });
      try {
        await host.start();
        await runtime.ready;
        for (let i = 0; i < events.length; i += 250) {
          clock.set(events[i + 249]!.time!.getTime());
          const result = { accepted: 0, rejected: 0, rejections: [] };
          await runtime.analyzer.recordQueries(events.slice(i, i + 250), result);
          expect(result.accepted).toBe(250);
        }
        const a = runtime.analyzer;
        answers.push(
          rounded({
            patterns: await a.topPatterns({ limit: 40 }),
            tenantPatterns: await a.topPatterns({ limit: 10, tenant: "tenant-1" }),
            types: await a.typeSummaries(),
            entities: await a.topMembers("entities", 10),
            tenants: await a.topMembers("tenants", 10),
            next: await a.predictNextKeys("tenant-0/ctr_prediction/e-0", 5),
            demand: await a.demandOf(["tenant-0/ctr_prediction/e-0", "tenant-2/video_analysis/e-13"]),
          }),
        );
      } finally {
        await host.shutdown();
        await runtime.close();
      }
    }
    expect((answers[0] as { patterns: unknown[] }).patterns.length).toBeGreaterThan(10);
    expect(answers[1]).toEqual(answers[0]);
  });
});
