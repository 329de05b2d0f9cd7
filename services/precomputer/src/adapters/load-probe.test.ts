import { CacheCore, MemoryCacheStore } from "@prescient/cache";
import type { cacheV1, commonV1 } from "@prescient/contracts";
import { ManualClock, parseTaskTypes } from "@prescient/core";
import { metricValue } from "@prescient/kit/testing";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { evaluateAlerts } from "../core/alerts.js";
import { PrecomputerMetrics } from "../service/metrics.js";
import { inProcessCache } from "./in-process.js";
import { hitRateWindowMs, MeshLoadProbe } from "./load-probe.js";

const types = parseTaskTypes(`
task_types:
  ctr_prediction: { kind: external, ttl_seconds: 100 }
`);
const key = (entityId: string): commonV1.Key => ({ tenant: "acme", taskType: "ctr_prediction", entityId });
const entry = (k: commonV1.Key): cacheV1.PutEntry => ({
  key: k,
  value: {
    tensors: { tensors: [{ name: "p", datatype: "FP32", shape: [1n], data: [0.25] }] },
    contentType: "",
  },
  modelName: "ctr",
  modelVersion: "1",
  computeMs: 0,
  inputDigest: "",
  tags: [],
});
const lookup = (k: commonV1.Key): cacheV1.LookupRequest => ({
  key: k,
  onMiss: 0,
  features: {},
  userId: "",
  rejectStale: false,
});

/** A real cache core read through the in-process peer, as `prescient up` wires the precomputer. */
async function harness() {
  const clock = new ManualClock(1_700_000_000_000);
  const core = new CacheCore(new MemoryCacheStore({ clock }), types, { clock });
  await core.put({ entry: entry(key("warm")) });
  const probe = new MeshLoadProbe({ cache: inProcessCache(core), clock });
  const registry = new Registry();
  const metrics = PrecomputerMetrics.for(registry);
  /** Samples the load as the alert timer does, into the gauge. */
  const observedHitRate = async (): Promise<number | undefined> => {
    const alerts = evaluateAlerts(await probe.sample(), { queueDepthAbove: 100, hitRateBelow: 0.8 });
    metrics.recordAlerts(alerts, { used: 0, limit: 1, available: 1, pressure: 0, bar: 0, windowStart: 0 });
    return metricValue(await registry.metrics(), "prescient_precomputer_observed_hit_rate");
  };
  return {
    clock,
    probe,
    observedHitRate,
    hit: () => core.lookup(lookup(key("warm"))),
    miss: (id: string) => core.lookup(lookup(key(id))),
  };
}

describe("the precomputer's observed cache hit rate", () => {
  it("reads 1/3 after one hit and two misses that came before the first sample", async () => {
    expect(await (await harness()).observedHitRate()).toBeNaN(); // nothing looked up yet: unknown, not 0%
    const h = await harness();
    await h.hit();
    await h.miss("a");
    await h.miss("b");
    h.clock.advance(15_000);
    expect(await h.observedHitRate()).toBeCloseTo(1 / 3, 10);
  });

  it("is not reset by samples taken between the lookups (every background enqueue samples)", async () => {
    const h = await harness();
    await h.observedHitRate();
    await h.hit();
    h.clock.advance(1_000);
    expect((await h.probe.sample()).hitRate).toBe(1); // an enqueue's sample, between the hit and the misses
    await h.miss("a");
    await h.miss("b");
    h.clock.advance(14_000);
    expect(await h.observedHitRate()).toBeCloseTo(1 / 3, 10);
  });

  it("looks back one window: older lookups age out, and a quiet window keeps the last value", async () => {
    const h = await harness();
    await h.hit();
    await h.observedHitRate();
    h.clock.advance(hitRateWindowMs + 1_000);
    await h.miss("a");
    await h.observedHitRate();
    h.clock.advance(hitRateWindowMs + 1_000);
    await h.miss("b");
    // The window now starts at the previous sample: one miss in it.
    expect(await h.observedHitRate()).toBe(0);
    h.clock.advance(hitRateWindowMs + 1_000);
    expect((await h.probe.sample()).hitRate).toBeUndefined();
    expect(await h.observedHitRate()).toBe(0);
  });
});
