import { randomUUID } from "node:crypto";
import { type CacheRuntime, startCache } from "@prescient/cache";
import type { cacheV1 } from "@prescient/contracts";
import { formatKey, parseTaskTypes } from "@prescient/core";
import { ServiceHost } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { grpcCache } from "./grpc.js";
import { inProcessCache } from "./in-process.js";

/**
 * The freshness check works in a split mesh as in `prescient up`: the gRPC
 * cache port answers the expiries the in-process one does, from a cache on
 * Redis, and as a peek: the stored results' expires_at, worked out from
 * their TTLs.
 */
const types = parseTaskTypes(`
task_types:
  ctr_prediction: { kind: external, ttl_seconds: 100, stale_grace_seconds: 50 }
`);
const entry = (entityId: string, ttlSeconds?: number): cacheV1.PutEntry => ({
  key: { tenant: "acme", taskType: "ctr_prediction", entityId },
  // A large value: what an expiries-only answer leaves out.
  value: { payload: Buffer.alloc(64 * 1024, 1), contentType: "application/octet-stream" },
  modelName: "m",
  modelVersion: "1",
  computeMs: 0,
  inputDigest: "",
  tags: [],
  ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
});
const key = (entityId: string): string => formatKey({ tenant: "acme", taskType: "ctr_prediction", entityId });

const host = new ServiceHost({ address: "127.0.0.1:0" });
let runtime: CacheRuntime;

beforeAll(async () => {
  const started = startCache(host, {
    taskTypes: types,
    store: { redisUrl: inject("redisUrl"), keyPrefix: `test:${randomUUID()}:cache:` },
  });
  await host.start();
  runtime = await started;
});
afterAll(() => host.shutdown());

describe("the gRPC cache peer's freshness check", () => {
  it("answers the in-process expiries, a stale result's included, and counts nothing as read", async () => {
    await runtime.core.putMany({ entries: [entry("fresh"), entry("stale", 1)] });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // "stale" past its TTL, inside its grace
    const remote = grpcCache(host.address);
    const local = inProcessCache(runtime.core);
    try {
      const keys = [key("fresh"), key("absent"), key("stale"), key("fresh")];
      const expiries = await remote.expiries(keys);
      // Both read the entries' TTLs, not their values: each within the round trips of the stored expires_at.
      const stored = (await runtime.core.store.getMany(keys, { peek: true })).map((r) =>
        r?.expiresAt?.getTime(),
      );
      for (const answered of [expiries, await local.expiries(keys)])
        answered.forEach((e, i) => {
          const exact = stored[i];
          if (exact === undefined) expect(e).toBeUndefined();
          else expect(Math.abs((e ?? Number.NaN) - exact)).toBeLessThanOrEqual(250);
        });
      const [fresh, absent, stale] = expiries;
      expect(fresh).toBeGreaterThan(Date.now() + 90_000);
      expect(absent).toBeUndefined();
      expect(stale).toBeLessThan(Date.now());
      expect((await runtime.core.stats({ tenant: "", taskType: "" })).total).toMatchObject({
        hits: 0n,
        misses: 0n,
      });
    } finally {
      remote.close();
    }
  });
});
