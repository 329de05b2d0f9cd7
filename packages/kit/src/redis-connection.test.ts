import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, isCluster, parseRedisUrl } from "./redis-connection.js";
import { type RedisClusterProcess, startRedisCluster } from "./testing/redis-cluster.js";

describe("parseRedisUrl", () => {
  it("reads a node, a cluster's seeds and Sentinels", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6379/2")).toEqual({
      kind: "single",
      url: "redis://127.0.0.1:6379/2",
    });
    expect(parseRedisUrl("rediss+cluster://app:s%40cret@10.0.0.1:7000,redis-1.example:7001")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "redis-1.example", port: 7001 },
      ],
      username: "app",
      password: "s@cret",
      tls: true,
    });
    expect(parseRedisUrl("redis+sentinel://:pw@[::1]:26379,s2:26379/mymaster/3")).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "::1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "mymaster",
      db: 3,
      password: "pw",
      tls: false,
    });
  });

  it("refuses what it cannot use, naming the variable and quoting little", () => {
    expect(() => parseRedisUrl("http://x:1", "REDIS_URL")).toThrow(/^REDIS_URL must be redis:\/\//);
    expect(() => parseRedisUrl("redis+cluster://h:99999")).toThrow(/is not host:port/);
    expect(() => parseRedisUrl("redis+cluster://h:1/2")).toThrow(/no database number/);
    expect(() => parseRedisUrl("redis+sentinel://s:26379")).toThrow(/name the Sentinel primary/);
    expect(() =>
      parseRedisUrl(`redis+cluster://${Array.from({ length: 65 }, (_, i) => `h${i}:1`).join(",")}`),
    ).toThrow(/more than 64 nodes/);
    const long = `redis+cluster://${"x".repeat(5000)}`;
    expect(() => parseRedisUrl(long)).toThrow(/^REDIS_URL: "x{80}" is not host:port$/);
  });

  it("makes the matching client", () => {
    const single = connectRedis("redis://127.0.0.1:1");
    const cluster = connectRedis("redis+cluster://127.0.0.1:1");
    expect(single).toBeInstanceOf(Redis);
    expect(cluster).toBeInstanceOf(Cluster);
    expect([isCluster(single), isCluster(cluster)]).toEqual([false, true]);
    single.disconnect();
    cluster.disconnect();
  });
});

describe("connectRedis on a real 3-master, 3-replica cluster", () => {
  let cluster: RedisClusterProcess;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  it("spreads keys over the masters, follows redirections and runs defined scripts", async () => {
    const client = connectRedis(cluster.url);
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `spread:${i}`);
      await Promise.all(keys.map((k, i) => client.set(k, String(i))));
      expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys.map((_, i) => String(i)));
      const perMaster = await Promise.all(
        [0, 8000, 16000].map(async (slot) => {
          const node = await cluster.masterOf(slot);
          const direct = new Redis(node.port, "127.0.0.1");
          try {
            return await direct.dbsize();
          } finally {
            direct.disconnect();
          }
        }),
      );
      // Three masters, each holding a share: a one-slot layout would put all 300 on one.
      expect(perMaster.every((n) => n > 50)).toBe(true);
      expect(perMaster.reduce((a, b) => a + b, 0)).toBe(300);

      client.defineCommand("incrBoth", {
        numberOfKeys: 2,
        lua: "return {redis.call('INCR', KEYS[1]), redis.call('INCR', KEYS[2])}",
      });
      const both = client as typeof client & { incrBoth(a: string, b: string): Promise<number[]> };
      expect(await both.incrBoth("{t}:a", "{t}:b")).toEqual([1, 1]);
      await expect(both.incrBoth("a-elsewhere", "b-elsewhere-2")).rejects.toThrow(/CROSSSLOT/);
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
