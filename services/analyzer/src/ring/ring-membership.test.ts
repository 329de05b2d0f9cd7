import { type RedisServerProcess, startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RingMembership } from "./ring-membership.js";
import { TenantRing } from "./tenant-ring.js";

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("RingMembership on a real redis-server", () => {
  let server: RedisServerProcess;
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
  });

  const member = (address: string, key: string) => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    const ring = new TenantRing(address);
    const changes: string[][] = [];
    const membership = new RingMembership(
      redis,
      key,
      ring,
      { heartbeatMs: 50, ttlMs: 400 },
      { onChange: (m) => changes.push([...m]) },
    );
    return { redis, ring, membership, changes };
  };

  it("lets replicas see each other, drops one that leaves at once and one that stops beating within the ttl", async () => {
    const key = "test:{ring}:a";
    const a = member("a:1", key);
    const b = member("b:1", key);
    const c = member("c:1", key);
    await a.membership.join();
    await b.membership.join();
    await c.membership.join();
    await until(() => a.ring.members.length === 3 && b.ring.members.length === 3);
    expect(a.ring.members).toEqual(["a:1", "b:1", "c:1"]);
    expect(a.changes.at(-1)).toEqual(["a:1", "b:1", "c:1"]);

    await c.membership.leave();
    expect(c.ring.members).toEqual(["c:1"]);
    await until(() => a.ring.members.length === 2 && b.ring.members.length === 2);
    expect(b.ring.members).toEqual(["a:1", "b:1"]);

    // b's process "dies": its connection goes, so its membership is never renewed.
    b.redis.disconnect();
    const gone = Date.now();
    await until(() => a.ring.members.length === 1, 3000);
    expect(Date.now() - gone).toBeGreaterThanOrEqual(200);
    expect(a.ring.members).toEqual(["a:1"]);
    await a.membership.leave();
    // The last member gone, the ring's key goes with it once its life runs out.
    const probe = new Redis(server.url);
    clients.push(probe);
    expect(await probe.zcard(key)).toBe(0);
  });

  it("refuses settings where a member would expire between its own beats", () => {
    const redis = new Redis(server.url, { lazyConnect: true });
    expect(
      () => new RingMembership(redis, "k", new TenantRing("a:1"), { heartbeatMs: 500, ttlMs: 500 }),
    ).toThrow(/ttlMs must exceed/);
    redis.disconnect();
  });
});
