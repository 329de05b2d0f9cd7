import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";
import { FreshPeekGate, freshnessSampled } from "./fresh-peek-gate.js";
import type { PrecomputerOptions } from "./precomputer-deps.js";

const video = (tenant: string, i: number) => ({
  type: "video_uploaded",
  tenant,
  entityId: `vid-${i}`,
  userId: "u1",
  features: { duration_s: 31 },
  attributes: {},
});

const videos = (tenant: string, from: number, n: number) =>
  Array.from({ length: n }, (_, k) => video(tenant, from + k));

/** A harness whose cache records the keys each freshness lookup asked for. */
function counted(core?: Partial<PrecomputerOptions>) {
  const h = harness(core === undefined ? {} : { core });
  const asked: string[] = [];
  const expiries = h.cache.expiries.bind(h.cache);
  h.cache.expiries = async (keys: readonly string[]) => {
    asked.push(...keys);
    return expiries(keys);
  };
  return { ...h, asked };
}

describe("FreshPeekGate", () => {
  it("looks every key up until a kind has shown itself almost never fresh, then one in sampleEvery", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 4, window: 1024 });
    // Fresh + 3 finds' margin must fall below 2% of the looked-up keys: 150 looked, none fresh, is not yet enough.
    for (let i = 0; i < 150; i++) {
      expect(gate.shouldLook("t", "e", "x")).toBe(true);
      gate.looked("t", "e", "x", false);
    }
    expect(gate.shouldLook("t", "e", "x")).toBe(true);
    gate.looked("t", "e", "x", false);
    const decisions = Array.from({ length: 8 }, () => gate.shouldLook("t", "e", "x"));
    expect(decisions).toEqual([false, false, false, true, false, false, false, true]);
    // Other task types of the event, other events and other tenants are their own kinds.
    expect(gate.shouldLook("t", "e", "y")).toBe(true);
    expect(gate.shouldLook("t", "other", "x")).toBe(true);
    expect(gate.shouldLook("u", "e", "x")).toBe(true);
  });

  it("looks everything up again once the sampled keys find fresh results", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 4, window: 1024 });
    for (let i = 0; i < 400; i++) gate.looked("t", "e", "x", false);
    expect([1, 2, 3, 4].map(() => gate.shouldLook("t", "e", "x"))).toEqual([false, false, false, true]);
    // 400 looked: 8 finds less the margin's 3 is the most below 2%; the sixth fresh find brings full lookups back.
    for (let i = 0; i < 5; i++) gate.looked("t", "e", "x", true);
    expect([1, 2, 3, 4].map(() => gate.shouldLook("t", "e", "x"))).toEqual([false, false, false, true]);
    gate.looked("t", "e", "x", true);
    expect([1, 2, 3, 4].map(() => gate.shouldLook("t", "e", "x"))).toEqual([true, true, true, true]);
  });

  it("weighs recent lookups most: the counts halve whenever the window fills", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 2, window: 512 });
    // Half fresh long ago, then none: the old finds fade and the kind is sampled.
    for (let i = 0; i < 500; i++) gate.looked("t", "e", "x", i % 2 === 0);
    expect(gate.shouldLook("t", "e", "x")).toBe(true);
    for (let i = 0; i < 3000; i++) gate.looked("t", "e", "x", false);
    expect([gate.shouldLook("t", "e", "x"), gate.shouldLook("t", "e", "x")]).toEqual([false, true]);
  });

  it("with minFreshRate 0 looks every key up, and rejects settings out of range", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0 });
    for (let i = 0; i < 5000; i++) gate.looked("t", "e", "x", false);
    expect(gate.shouldLook("t", "e", "x")).toBe(true);
    expect(() => new FreshPeekGate({ minFreshRate: 1.5 })).toThrow(/minFreshRate/);
    expect(() => new FreshPeekGate({ sampleEvery: 0 })).toThrow(/sampleEvery/);
    expect(() => new FreshPeekGate({ maxKinds: 1.5 })).toThrow(/maxKinds/);
  });

  it("remembers at most maxKinds kinds (tenant and event type), forgetting the least recent", () => {
    const gate = new FreshPeekGate({ maxKinds: 2, sampleEvery: 1_000 });
    for (const tenant of ["a", "b"]) for (let i = 0; i < 400; i++) gate.looked(tenant, "e", "x", false);
    expect(gate.shouldLook("a", "e", "x")).toBe(false);
    for (let i = 0; i < 400; i++) gate.looked("c", "e", "x", false);
    // b was least recently used: forgotten, so looked up in full again.
    expect(gate.shouldLook("b", "e", "x")).toBe(true);
    expect(gate.shouldLook("a", "e", "x")).toBe(false);
  });
});

describe("triggers with the freshness gate", () => {
  it("stop looking up every key of an event whose results are never fresh, and count what they passed over", async () => {
    const h = counted();
    // 200 new videos: six kinds of key, 200 lookups each, none fresh.
    await h.core.triggerMany(videos("acme", 0, 200));
    expect(h.asked).toHaveLength(1200);
    h.asked.length = 0;
    const r = await h.core.triggerMany(videos("acme", 200, 160));
    // One key in 16 of each kind is looked up; every task is still enqueued.
    expect(h.asked).toHaveLength(60);
    expect(r.every((x) => x.queued.length === 6)).toBe(true);
    expect(h.executor.tasks).toHaveLength(360 * 6);
    expect(h.core.counters.skippedCount(freshnessSampled)).toBe(900);
    // Another tenant's first videos are looked up in full: its own kinds.
    h.asked.length = 0;
    await h.core.triggerMany(videos("other", 0, 10));
    expect(h.asked).toHaveLength(60);
  });

  it("look up in full again once sampled lookups find fresh results, and skip what they find", async () => {
    const h = counted();
    await h.core.triggerMany(videos("acme", 0, 200));
    // Videos 1000.. now have every result fresh (re-uploaded, say); the sampled ones find it.
    for (let i = 1000; i < 1400; i++)
      for (const t of ["scene_detection", "face_detection", "hook_analysis", "ctr_prediction"])
        h.cache.expiresAt.set(`acme/${t}/vid-${i}`, h.clock.now() + 60_000);
    for (const t of ["thumbnail_generation", "caption_generation"])
      for (let i = 1000; i < 1400; i++) h.cache.expiresAt.set(`acme/${t}/vid-${i}`, h.clock.now() + 60_000);
    let skipped = 0;
    for (let k = 0; k < 10; k++) {
      const r = await h.core.triggerMany(videos("acme", 1000 + 40 * k, 40));
      skipped += r.reduce((n, x) => n + x.skippedFresh.length, 0);
    }
    h.asked.length = 0;
    const last = await h.core.triggerMany(videos("acme", 1000, 10));
    // Back to full lookups: all ten events' results are fresh and skipped, but for the task
    // that carries the event's features (this executor takes no features without a task).
    expect(h.asked).toHaveLength(60);
    expect(last.map((x) => [x.skippedFresh.length, x.queued.length])).toEqual(Array(10).fill([5, 1]));
    expect(skipped).toBeGreaterThan(5 * 300);
  });

  it("learn nothing from a cache that did not answer", async () => {
    const h = counted();
    h.cache.down = true;
    await h.core.triggerMany(videos("acme", 0, 400));
    h.cache.down = false;
    h.asked.length = 0;
    await h.core.triggerMany(videos("acme", 400, 10));
    expect(h.asked).toHaveLength(60);
  });

  it("look up every key with freshPeeks.minFreshRate 0", async () => {
    const h = counted({ freshPeeks: { minFreshRate: 0 } });
    await h.core.triggerMany(videos("acme", 0, 400));
    h.asked.length = 0;
    await h.core.triggerMany(videos("acme", 400, 16));
    expect(h.asked).toHaveLength(96);
    expect(h.core.counters.skippedCount(freshnessSampled)).toBe(0);
  });
});
