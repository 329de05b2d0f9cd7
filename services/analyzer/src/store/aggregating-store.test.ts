import { randomBytes } from "node:crypto";
import { ManualClock } from "@prescient/core";
import { ServiceHost } from "@prescient/kit";
import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import type { Analyzer } from "../analyzer.js";
import { coreAnalyzer, ingest, query } from "../analyzer.test-util.js";
import type { QueryEventInput } from "../core/events.js";
import { startAnalyzer } from "../service/start-analyzer.js";
import { AggregatingStore, type IngestAggregationOptions } from "./aggregating-store.js";
import type { Capacities, CounterDelta } from "./analyzer-store.js";
import { MemoryAnalyzerStore } from "./memory-store.js";

const t0 = Date.UTC(2025, 1, 10, 9);
const options: IngestAggregationOptions = { flushIntervalMs: 1000, maxEntries: 100_000, maxBytes: 64 << 20 };

/** A memory store that counts its counter writes and fails the next `failures` of them. */
class CountingStore extends MemoryAnalyzerStore {
  writes = 0;
  failures = 0;
  override async applyCounters(delta: CounterDelta, capacities: Capacities): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("store down");
    }
    this.writes++;
    return super.applyCounters(delta, capacities);
  }
}

/** Zipf-like reads by 20 users over two tenants and three types, in time order, some missed and computed. */
function workload(n: number): QueryEventInput[] {
  const types = ["ctr_prediction", "roas_prediction", "video_analysis"];
  const out: QueryEventInput[] = [];
  let seed = 7;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < n; i++) {
    const k = Math.floor(1 / (0.02 + random()));
    const miss = random() < 0.3;
    out.push(
      query(t0 + i * 50, k % 2 === 0 ? "acme" : "globex", types[k % 3]!, `e-${k}`, {
        userId: `u${Math.floor(random() * 20)}`,
        outcome: miss ? 3 : 1,
        computeMs: miss ? 1 + Math.floor(random() * 40) : 0,
      }),
    );
  }
  return out;
}

async function everything(a: Analyzer) {
  return {
    patterns: await a.topPatterns({ limit: 100 }),
    types: await a.typeSummaries(),
    entities: await a.topMembers("entities", 50),
    tenants: await a.topMembers("tenants", 10),
    demand: await a.demandOf(["acme/ctr_prediction/e-0", "globex/roas_prediction/e-1", "acme/x/none"]),
    next: await a.predictNextKeys("acme/ctr_prediction/e-0", 5),
    offPeak: await a.offPeakWindow({ durationMinutes: 60, timeZone: "UTC" }),
    readAhead: a.takeReadAhead(100),
  };
}

/** Equal, numbers up to floating-point order (sums taken in another order). */
function expectClose(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    const tolerance = 1e-9 * Math.max(1, Math.abs(expected));
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
  } else if (expected !== null && typeof expected === "object" && !(expected instanceof Date)) {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected))
      expectClose((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else expect(actual, path).toEqual(expected);
}

describe("AggregatingStore: ingest pre-aggregation", () => {
  it("teaches the analyzer exactly what the unaggregated path does, in far fewer writes", async () => {
    const events = workload(6000);
    const plainClock = new ManualClock(t0);
    const plainStore = new CountingStore();
    const plain = coreAnalyzer(plainClock, {}, plainStore);
    const heldClock = new ManualClock(t0);
    const inner = new CountingStore();
    const held = coreAnalyzer(heldClock, {}, new AggregatingStore(inner, options));
    await ingest(plain, plainClock, events, 100);
    await ingest(held, heldClock, events, 100);
    expect(plainStore.writes).toBe(60);
    expect(inner.writes).toBe(0); // all held: nothing asked, no interval passed
    const want = await everything(plain);
    const got = await everything(held);
    expect(inner.writes).toBe(1); // the first read flushed it, in one write
    expect(want.patterns.length).toBeGreaterThan(20);
    expect(want.next.length).toBeGreaterThan(0);
    expectClose(got, want);
  });

  it("flushes within the interval, and early when full rather than dropping", async () => {
    const inner = new CountingStore();
    const store = new AggregatingStore(inner, { ...options, flushIntervalMs: 20, maxEntries: 50 });
    const clock = new ManualClock(t0);
    const a = coreAnalyzer(clock, {}, store);
    // Each batch of 10 distinct keys holds about 40 members (keys, entities, tenant, type, hour, successors).
    const batch = (i: number): QueryEventInput[] =>
      Array.from({ length: 10 }, (_, j) => query(t0 + i, "acme", "ctr_prediction", `e-${i * 10 + j}`));
    await ingest(a, clock, batch(0));
    expect(inner.writes).toBe(0);
    await ingest(a, clock, batch(1)); // would pass 50: what is held goes first
    expect(inner.writes).toBe(1);
    expect(store.held.entries).toBeLessThanOrEqual(50);
    await new Promise((r) => setTimeout(r, 60));
    expect(inner.writes).toBe(2);
    expect(store.held).toEqual({ entries: 0, bytes: 0 });
    expect((await inner.profile()).value.events).toBe(20);
  });

  it("keeps and retries a failed timed write; when full and failing, refuses new batches instead", async () => {
    const inner = new CountingStore();
    const errors: unknown[] = [];
    const store = new AggregatingStore(
      inner,
      { ...options, flushIntervalMs: 10, maxEntries: 60 },
      { onFlushError: (e) => errors.push(e) },
    );
    const clock = new ManualClock(t0);
    const a = coreAnalyzer(clock, {}, store);
    inner.failures = 2;
    await ingest(a, clock, [query(t0, "acme", "ctr_prediction", "e-1")]);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toHaveLength(2);
    expect(inner.writes).toBe(1); // the third try went through
    expect((await inner.profile()).value.events).toBe(1);

    inner.failures = 100;
    await ingest(a, clock, [query(t0 + 1, "acme", "ctr_prediction", "e-2")]); // held, acknowledged
    const many = Array.from({ length: 40 }, (_, j) => query(t0 + 2, "acme", "ctr_prediction", `f-${j}`));
    await expect(ingest(a, clock, many)).rejects.toThrow("store down");
    inner.failures = 0;
    await store.flush();
    expect((await inner.profile()).value.events).toBe(2); // the refused batch was never acknowledged
  });

  it("close flushes what is held: nothing acknowledged is lost", async () => {
    const inner = new CountingStore();
    const clock = new ManualClock(t0);
    const store = new AggregatingStore(inner, options);
    const a = coreAnalyzer(clock, {}, store);
    await ingest(a, clock, workload(500), 50);
    expect(inner.writes).toBe(0);
    await store.close();
    expect(inner.writes).toBe(1);
    expect((await inner.profile()).value.events).toBe(500);
  });

  it("rejects a flush interval beyond one second", () => {
    expect(
      () => new AggregatingStore(new MemoryAnalyzerStore(), { ...options, flushIntervalMs: 1001 }),
    ).toThrow(/ingestFlushIntervalMs/);
  });
});

describe("the analyzer service with pre-aggregation on Redis", () => {
  it("writes every acknowledged event to Redis when it closes (SIGTERM drains, then closes)", async () => {
    const keyPrefix = `test:{analyzer-agg-${randomBytes(4).toString("hex")}}:`;
    const host = new ServiceHost({ address: "127.0.0.1:0" });
    const runtime = await startAnalyzer(host, {
      store: { redisUrl: inject("redisUrl"), keyPrefix },
      retrainIntervalMs: 0,
      cleanupIntervalMs: 0,
    });
    const redis = new Redis(inject("redisUrl"));
    try {
      await host.start();
      await runtime.ready;
      const now = Date.now();
      const events = workload(2000).map((e, i) => ({ ...e, time: new Date(now - 60_000 + i * 10) }));
      const result = { accepted: 0, rejected: 0, rejections: [] };
      for (let i = 0; i < events.length; i += 200)
        await runtime.analyzer.recordQueries(events.slice(i, i + 200), result);
      expect(result.accepted).toBe(2000);
      expect(await redis.hget(`${keyPrefix}meta`, "events")).toBeNull(); // held, not yet written
      await host.shutdown();
      expect(await redis.hget(`${keyPrefix}meta`, "events")).toBe("2000");
      expect(Number(await redis.zscore(`${keyPrefix}keys`, "acme/ctr_prediction/e-0"))).toBeGreaterThan(0);
    } finally {
      await runtime.close();
      redis.disconnect();
    }
  });

  it("ingestFlushIntervalMs 0 writes each batch at once, as before", async () => {
    const keyPrefix = `test:{analyzer-agg-${randomBytes(4).toString("hex")}}:`;
    const host = new ServiceHost({ address: "127.0.0.1:0" });
    const runtime = await startAnalyzer(host, {
      store: { redisUrl: inject("redisUrl"), keyPrefix },
      ingestFlushIntervalMs: 0,
      retrainIntervalMs: 0,
      cleanupIntervalMs: 0,
    });
    const redis = new Redis(inject("redisUrl"));
    try {
      await host.start();
      await runtime.ready;
      const result = { accepted: 0, rejected: 0, rejections: [] };
      await runtime.analyzer.recordQueries([query(Date.now(), "acme", "ctr_prediction", "e-1")], result);
      expect(await redis.hget(`${keyPrefix}meta`, "events")).toBe("1");
    } finally {
      await host.shutdown();
      redis.disconnect();
    }
  });
});
